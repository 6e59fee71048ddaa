"""ClusterRefresher: reads the cluster on a schedule and never dies silently."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry

from cluster.metrics.refresher import ClusterRefresher
from cluster.metrics.scheduler import SchedulerSnapshot
from cluster.metrics.snapshot import SnapshotStore

from .fakes import FakeClock, FakeControl, cluster_status, status, view


class StaticScheduler:
    def __init__(self, snapshot: SchedulerSnapshot | None = None, error: Exception | None = None):
        self.snapshot, self.error = snapshot or SchedulerSnapshot(recoveries_total=4), error

    async def scheduler_snapshot(self) -> SchedulerSnapshot:
        if self.error:
            raise self.error
        return self.snapshot


def errors(registry: CollectorRegistry, source: str) -> float:
    return registry.get_sample_value("matthan_metrics_refresh_errors_total", {"source": source})


def make(control, **kwargs):
    registry, store, clock = CollectorRegistry(), SnapshotStore(), FakeClock()
    refresher = ClusterRefresher(control, store, registry, wall_clock=clock, **kwargs)
    return refresher, store, registry, clock


def test_one_refresh_stores_every_reading_with_its_time():
    control = FakeControl(views=[view("cam-1", status("cam-1"))])
    refresher, store, registry, clock = make(control, scheduler=StaticScheduler())
    assert asyncio.run(refresher.refresh_once()) is True
    snap = store.get()
    assert [v.config.id for v in snap.cameras.value] == ["cam-1"]
    assert snap.cluster.value == cluster_status()
    assert snap.scheduler.value.recoveries_total == 4
    assert snap.cameras.taken_at == clock.now
    assert registry.get_sample_value("matthan_metrics_refresh_duration_seconds_count") == 1
    for source in ("cameras", "cluster", "scheduler", "refresher"):
        assert errors(registry, source) == 0, f"{source} errors must be exported at 0 from the start"


def test_a_failed_read_is_logged_counted_and_keeps_the_previous_reading(caplog):
    control = FakeControl(views=[view("cam-1", status("cam-1"))])
    refresher, store, registry, clock = make(control)
    asyncio.run(refresher.refresh_once())
    first = store.get().cameras
    control.fail_cameras = RuntimeError("ray is gone")
    clock.now += 5
    with caplog.at_level(logging.WARNING, logger="cluster.metrics.refresher"):
        assert asyncio.run(refresher.refresh_once()) is False
        asyncio.run(refresher.refresh_once())
    assert errors(registry, "cameras") == 2
    assert store.get().cameras is first, "a failed read must not erase the last good one"
    assert store.get().cluster.taken_at == clock.now, "the other reads go on"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "ray is gone" in caplog.text, "first failure with traceback, then one-liners"


def test_a_hanging_read_times_out_and_counts_as_an_error():
    class Hanging(FakeControl):
        async def list_cameras(self):
            await asyncio.sleep(3600)

    refresher, store, registry, _ = make(Hanging(), timeout_s=0.05)
    assert asyncio.run(refresher.refresh_once()) is False
    assert errors(registry, "cameras") == 1
    assert store.get().cluster is not None


def test_scheduler_errors_are_counted_under_their_source():
    refresher, _, registry, _ = make(FakeControl(), scheduler=StaticScheduler(error=ConnectionError("down")))
    asyncio.run(refresher.refresh_once())
    assert errors(registry, "scheduler") == 1 and errors(registry, "cameras") == 0


def test_the_loop_survives_a_bug_and_keeps_its_interval(caplog):
    control = FakeControl(views=[view("cam-1", status("cam-1"))])
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            raise asyncio.CancelledError

    refresher, store, registry, _ = make(control, interval_s=2.5, sleep=sleep)
    original = refresher.refresh_once
    calls = 0

    async def flaky_refresh():
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("a bug")
        return await original()

    refresher.refresh_once = flaky_refresh
    with caplog.at_level(logging.ERROR), pytest.raises(asyncio.CancelledError):
        asyncio.run(refresher.run())
    assert calls == 3 and pauses == [2.5, 2.5, 2.5]
    assert errors(registry, "refresher") == 1
    assert "a bug" in caplog.text
    assert store.get().cameras is not None, "later refreshes still ran"


def test_start_and_stop_on_the_running_loop():
    control = FakeControl()

    async def scenario():
        refresher, _, _, _ = make(control, interval_s=0.01)
        refresher.start()
        with pytest.raises(RuntimeError, match="already running"):
            refresher.start()
        while control.calls < 3:
            await asyncio.sleep(0.01)
        await refresher.stop()
        calls = control.calls
        await asyncio.sleep(0.05)
        return calls

    calls = asyncio.run(scenario())
    assert control.calls == calls, "no refresh after stop()"


def test_an_unexpected_end_of_the_task_is_logged(caplog):
    async def scenario():
        refresher, *_ = make(FakeControl())

        async def ends():
            return None

        refresher.run = ends
        task = refresher.start()
        await task
        await asyncio.sleep(0)  # let the done callback run

    with caplog.at_level(logging.ERROR, logger="cluster.metrics.refresher"):
        asyncio.run(scenario())
    assert "ended without being stopped" in caplog.text


def test_bad_intervals_are_refused():
    with pytest.raises(ValueError, match="positive"):
        make(FakeControl(), interval_s=0)
