"""The event store's metrics cross from the writer's process to the front door's /metrics:
`EventStoreMetrics.snapshot()` there, the refresher's "events" reading and the collector here."""

from __future__ import annotations

import asyncio
import pickle

from prometheus_client import CollectorRegistry

from cluster.metrics.events import EventStoreMetrics
from cluster.metrics.refresher import ClusterRefresher
from cluster.metrics.snapshot import SnapshotStore

from .exposition import convention_problems
from .fakes import FakeClock, FakeControl
from .test_collector import scrape, value


def writer_metrics() -> EventStoreMetrics:
    """What the writer actor's store and loop record while they work."""
    clock = iter([1.0, 1.004, 2.0, 2.3])
    metrics = EventStoreMetrics(CollectorRegistry(), clock=lambda: next(clock))
    metrics.events_written("cam-1", "motorbike", 3)
    metrics.events_by_type("cam-1", "line_crossing", 3)
    with metrics.time_write():
        metrics.batch_committed(3)
    try:
        with metrics.time_write():
            raise OSError("disk full")
    except OSError:
        pass
    metrics.revisions_lost("cam-1", 24)
    metrics.set_cameras_followed(2)
    metrics.set_size(81920)
    return metrics


def test_a_snapshot_crosses_a_process_boundary_as_plain_values():
    snapshot = writer_metrics().snapshot()
    again = pickle.loads(pickle.dumps(snapshot))
    assert again == snapshot, "what Ray sends is what the front door gets"
    assert again.value("matthan_events_total", camera="cam-1", **{"class": "motorbike"}) == 3
    assert again.value("matthan_event_store_lost_revisions_total", camera="cam-1") == 24
    assert not any(s.name.endswith("_created") for samples in again.samples.values() for s in samples), (
        "creation times of another process's counters are left out"
    )


def test_the_collector_renders_the_writers_metrics_as_its_own():
    clock = FakeClock()
    store = SnapshotStore()
    store.put("events", writer_metrics().snapshot(), clock())
    text = scrape(store, clock)
    assert value(text, "matthan_events_total", camera="cam-1", **{"class": "motorbike"}) == 3
    assert value(text, "matthan_events_by_type_total", camera="cam-1", type="line_crossing") == 3
    assert value(text, "matthan_event_store_errors_total", operation="write") == 1
    assert value(text, "matthan_event_store_errors_total", operation="query") == 0, "operations exported at 0"
    assert value(text, "matthan_event_store_write_duration_seconds_count") == 2
    assert value(text, "matthan_event_store_batch_events_total") == 3
    assert value(text, "matthan_event_store_lost_revisions_total", camera="cam-1") == 24
    assert value(text, "matthan_event_store_cameras_followed") == 2
    assert value(text, "matthan_event_store_size_bytes") == 81920
    assert value(text, "matthan_metrics_snapshot_age_seconds", source="events") == 0
    assert convention_problems(text, {"camera": {"cam-1"}}) == []


def test_a_stale_event_store_reading_is_left_out():
    clock = FakeClock()
    store = SnapshotStore()
    store.put("events", writer_metrics().snapshot(), clock())
    clock.now += 60
    text = scrape(store, clock, stale_after_s=30.0)
    assert value(text, "matthan_events_total", camera="cam-1", **{"class": "motorbike"}) is None
    assert value(text, "matthan_metrics_snapshot_age_seconds", source="events") == 60, "the age says how stale"


class Writer:
    def __init__(self, metrics: EventStoreMetrics | None):
        self.metrics = metrics

    async def event_store_snapshot(self):
        if self.metrics is None:
            raise TimeoutError("the event writer did not answer")
        return self.metrics.snapshot()


def test_the_refresher_reads_the_writer_and_counts_its_failures():
    registry, store, clock = CollectorRegistry(), SnapshotStore(), FakeClock()
    writer = Writer(writer_metrics())
    refresher = ClusterRefresher(FakeControl(), store, registry, events=writer, wall_clock=clock)
    assert asyncio.run(refresher.refresh_once()) is True
    assert store.get().events.value.value("matthan_event_store_cameras_followed") == 2
    writer.metrics = None
    assert asyncio.run(refresher.refresh_once()) is False
    assert registry.get_sample_value("matthan_metrics_refresh_errors_total", {"source": "events"}) == 1
    assert store.get().events is not None, "the previous reading stays until it is too old"
