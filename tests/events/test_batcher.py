"""The batcher: batches by size and time, coalesces updates, holds a bounded buffer while
the writer is down and delivers it when the writer is back (see cluster/events/batcher.py)."""

from __future__ import annotations

import itertools
import random
import threading

import pytest
from prometheus_client import CollectorRegistry

from cluster.config.events import EventBatchConfig
from cluster.events import EventStore
from cluster.events.batcher import EventBatcher
from cluster.metrics.events import EventStoreMetrics

from .factory import JPEG, db_path, event, ids, revised

CONFIG = EventBatchConfig(max_events=3, flush_interval_s=0.5, max_buffered=100, retry_initial_s=1.0, retry_max_s=4.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Writer:
    """The event-store writer as the batcher sees it: a real store that can be down."""

    def __init__(self, path) -> None:
        self.path = path
        self.store: EventStore | None = EventStore(path)
        self.calls = 0

    def write(self, batch):
        self.calls += 1
        if self.store is None:
            raise ConnectionError("event-store actor unreachable")
        return self.store.write(batch)

    def stop(self) -> None:
        assert self.store is not None
        self.store.close()
        self.store = None

    def restart(self) -> None:
        self.store = EventStore(self.path)

    def stored(self) -> list[str]:
        assert self.store is not None
        return ids(self.store.query(order="oldest_first", page_size=1000).events)


@pytest.fixture
def writer(tmp_path):
    w = Writer(db_path(tmp_path))
    yield w
    if w.store is not None:
        w.store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def batcher_for(writer, clock, registry=None, config=CONFIG) -> EventBatcher:
    metrics = EventStoreMetrics(registry if registry is not None else CollectorRegistry())
    return EventBatcher(writer.write, config, metrics=metrics, clock=clock, rng=random.Random(0))


def test_a_full_batch_goes_out_at_once(writer, clock):
    batcher = batcher_for(writer, clock)
    for n in range(2):
        batcher.offer(event(n))
    assert batcher.step() is None, "two of three: not due yet"
    batcher.offer(event(2))
    result = batcher.step()
    assert result is not None and result.delivered == 3
    assert writer.stored() == ids(event(n) for n in range(3))


def test_a_partial_batch_goes_out_after_the_flush_interval(writer, clock):
    batcher = batcher_for(writer, clock)
    batcher.offer(event(0))
    clock.now += 0.4
    assert batcher.step() is None
    clock.now += 0.1
    assert batcher.step().delivered == 1


def test_updates_of_a_waiting_event_take_one_place(writer, clock):
    batcher = batcher_for(writer, clock)
    e = event(0, thumbnail=JPEG)
    for r in range(5):
        batcher.offer(revised(e, r, thumbnail=JPEG if r == 0 else None, dwell_s=float(r)))
    batcher.offer(revised(e, 2))  # a late, older revision changes nothing
    assert batcher.buffered == 1
    clock.now += 1.0
    batcher.step()
    stored = writer.store.get(e.event_id)
    assert (stored.revision, stored.dwell_s, stored.thumbnail) == (4, 4.0, JPEG), (
        "the newest revision, with the first one's thumbnail"
    )


def test_alerts_are_delivered_before_info_events(writer, clock):
    batcher = batcher_for(writer, clock)
    infos = [event(n, severity="info") for n in range(2)]
    alerts = [event(n, severity="alert") for n in range(2, 4)]
    for e in infos + alerts:
        batcher.offer(e)
    batcher.step()
    assert set(writer.stored()) == set(ids(alerts + infos[:1])), "both alerts in the first batch of three"


def test_events_made_while_the_writer_is_down_are_delivered_when_it_returns(writer, clock, registry):
    batcher = batcher_for(writer, clock, registry)
    writer.stop()
    made = [event(n) for n in range(10)]
    for e in made:
        batcher.offer(e)
    result = batcher.step()
    assert result.failed and batcher.buffered == 10, "nothing lost while the writer is down"
    assert registry.get_sample_value("matthan_event_store_errors_total", {"operation": "flush"}) == 1
    assert registry.get_sample_value("matthan_event_store_buffered_events") == 10
    assert batcher.step() is None, "no retry before the backoff"
    writer.restart()
    clock.now += 1.5
    for _ in range(10):
        batcher.step()
        clock.now += CONFIG.flush_interval_s
    assert writer.stored() == ids(made), "every event made while it was down, once"
    assert registry.get_sample_value("matthan_event_store_buffered_events") == 0


def test_retries_back_off(writer, clock):
    batcher = batcher_for(writer, clock)
    writer.stop()
    batcher.offer(event(0))
    clock.now += 1.0
    attempts = []
    for _ in range(200):
        clock.now += 0.1
        if batcher.step() is not None:
            attempts.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps and gaps[0] < gaps[-1] <= 4.0 * 1.2 + 0.1, f"waits grow to retry_max_s: {gaps}"


def test_beyond_the_buffer_the_oldest_info_events_are_dropped_and_counted(writer, clock, registry):
    batcher = batcher_for(writer, clock, registry)
    writer.stop()
    infos = [event(n, severity="info") for n in range(60)]
    alerts = [event(n, severity="alert") for n in range(60, 120)]
    for i in range(60):
        batcher.offer(infos[i])
        batcher.offer(alerts[i])
    assert batcher.buffered == 100
    assert registry.get_sample_value("matthan_event_store_dropped_events_total", {"reason": "buffer_full"}) == 20
    writer.restart()
    assert batcher.close(timeout_s=60) == 0
    assert set(writer.stored()) == set(ids(alerts + infos[20:])), "every alert and the newest info events"


def test_a_full_buffer_of_alerts_refuses_an_info_event_and_drops_the_oldest_alert_for_a_new_one(writer, clock):
    batcher = batcher_for(writer, clock)
    writer.stop()
    alerts = [event(n, severity="alert") for n in range(101)]
    for e in alerts[:100]:
        batcher.offer(e)
    assert batcher.offer(event(500, severity="info")) is False, "an info event does not push out an alert"
    assert batcher.offer(alerts[100]) is True
    writer.restart()
    batcher.close(timeout_s=60)
    assert set(writer.stored()) == set(ids(alerts[1:])), "the oldest alert made room for the newest"


def test_a_batch_that_failed_keeps_revisions_made_while_it_was_out(writer, clock):
    e = event(0)
    holder = {}

    def flaky(batch):
        if writer.calls == 0:
            holder["batcher"].offer(revised(e, 1, dwell_s=9.0))  # made while the batch is on its way
        writer.calls += 1
        if writer.calls == 1:
            raise ConnectionError("lost the connection mid-batch")
        return writer.store.write(batch)

    batcher = EventBatcher(flaky, CONFIG, clock=clock, rng=random.Random(0))
    holder["batcher"] = batcher
    batcher.offer(e)
    batcher.flush()
    clock.now += 2.0
    batcher.step()
    assert writer.store.get(e.event_id).revision == 1, "the newer revision was not overwritten by the retry"


def test_closing_with_the_writer_down_counts_what_is_left(writer, clock, registry):
    batcher = batcher_for(writer, clock, registry)
    writer.stop()
    for n in range(5):
        batcher.offer(event(n))
    assert batcher.close(timeout_s=1.0) == 5
    assert registry.get_sample_value("matthan_event_store_dropped_events_total", {"reason": "shutdown"}) == 5


def test_run_delivers_what_producers_offer(writer):
    batcher = EventBatcher(writer.write, EventBatchConfig(max_events=50, flush_interval_s=0.05))
    stop = threading.Event()
    loop = threading.Thread(target=batcher.run, args=(stop,))
    loop.start()
    made = [event(n, camera=f"cam-{n % 2}") for n in range(500)]
    producers = [
        threading.Thread(target=lambda part=part: [batcher.offer(e) for e in part]) for part in (made[0::2], made[1::2])
    ]
    for p in producers:
        p.start()
    for p in producers:
        p.join()
    stop.set()
    loop.join(timeout=30)
    assert not loop.is_alive()
    assert batcher.close(timeout_s=30) == 0
    assert sorted(writer.stored()) == sorted(ids(made))


def test_offer_takes_events_only(writer, clock):
    with pytest.raises(TypeError, match="Event"):
        batcher_for(writer, clock).offer("zone_enter")
