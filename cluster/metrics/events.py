"""Event store metrics, updated by the event store, its batcher and its writer loop as
they work (the `cluster.events.StoreRecorder` and `WriterRecorder` they are given).

    store_metrics = EventStoreMetrics(registry)
    with store_metrics.time_write():
        write(batch)                                   # raises on failure -> counted as a "write" error
    store_metrics.events_written("cam-1", "person", 3)
    store_metrics.operation_failed("query")

`operation` is a short snake_case code fixed in code (write, query, retention,
open, flush); so are drop reasons (buffer_full, shutdown) and retention reasons
(age, size). Event types are `EventType` values.

The store runs in the event writer actor's process, but Prometheus scrapes one
target, the front door. So the writer keeps these metrics in a registry of its
own and hands out `snapshot()`s (plain values that cross Ray); the front door's
refresher reads one every few seconds (`EventStoreStatsSource`) and its collector
renders it (`cluster/metrics/collector.py`), as it does the cameras' meters.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import CollectorRegistry

from . import definitions as d
from .gateway import checked_code

# Exported at 0 from the start, so rates and alerts see the series before the first failure.
OPERATIONS: tuple[str, ...] = ("write", "query", "retention", "open", "flush")
DROP_REASONS: tuple[str, ...] = ("buffer_full", "shutdown")
RETENTION_REASONS: tuple[str, ...] = ("age", "size")
# Everything EventStoreMetrics exports, and so what a snapshot of it may hold.
EVENT_STORE_DEFS: tuple[d.MetricDef, ...] = (
    d.EVENTS,
    d.EVENTS_BY_TYPE,
    d.EVENT_STORE_ERRORS,
    d.EVENT_STORE_WRITE_DURATION,
    d.EVENT_STORE_BATCHES,
    d.EVENT_STORE_BATCH_EVENTS,
    d.EVENT_STORE_BUFFERED,
    d.EVENT_STORE_DROPPED,
    d.EVENT_STORE_RETENTION_DELETED,
    d.EVENT_STORE_SIZE,
    d.EVENT_STORE_LOST_REVISIONS,
    d.EVENT_STORE_CAMERAS_FOLLOWED,
)
# prometheus_client names a counter family without its _total; our definitions with it.
_BY_FAMILY_NAME = {(m.name.removesuffix("_total") if m.kind is d.Kind.COUNTER else m.name): m for m in EVENT_STORE_DEFS}


@dataclass(frozen=True, slots=True)
class Sample:
    name: str  # the sample's name: matthan_events_total, ..._bucket, ..._sum
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True, slots=True)
class EventStoreSnapshot:
    """The samples of every event store metric at one moment, by metric definition name
    (`definitions.MetricDef.name`); creation timestamps left out."""

    samples: Mapping[str, tuple[Sample, ...]] = field(default_factory=dict)

    def value(self, name: str, **labels: str) -> float | None:
        """One sample's value (tests, `matthan` tools); None if there is none."""
        wanted = tuple(sorted(labels.items()))
        for samples in self.samples.values():
            for sample in samples:
                if sample.name == name and tuple(sorted(sample.labels)) == wanted:
                    return sample.value
        return None


class EventStoreStatsSource(Protocol):
    """Where the front door's refresher gets the event store's metrics (the writer actor's client)."""

    async def event_store_snapshot(self) -> EventStoreSnapshot: ...


class EventStoreMetrics:
    def __init__(self, registry: CollectorRegistry, *, clock: Callable[[], float] = time.perf_counter):
        self._clock = clock
        self._events = d.EVENTS.create(registry)
        self._events_by_type = d.EVENTS_BY_TYPE.create(registry)
        self._errors = d.EVENT_STORE_ERRORS.create(registry)
        for operation in OPERATIONS:
            self._errors.labels(operation)
        self._write_duration = d.EVENT_STORE_WRITE_DURATION.create(registry)
        self._batches = d.EVENT_STORE_BATCHES.create(registry)
        self._batch_events = d.EVENT_STORE_BATCH_EVENTS.create(registry)
        self._buffered = d.EVENT_STORE_BUFFERED.create(registry)
        self._dropped = d.EVENT_STORE_DROPPED.create(registry)
        for reason in DROP_REASONS:
            self._dropped.labels(reason)
        self._retention_deleted = d.EVENT_STORE_RETENTION_DELETED.create(registry)
        for reason in RETENTION_REASONS:
            self._retention_deleted.labels(reason)
        self._size = d.EVENT_STORE_SIZE.create(registry)
        self._lost = d.EVENT_STORE_LOST_REVISIONS.create(registry)
        self._followed = d.EVENT_STORE_CAMERAS_FOLLOWED.create(registry)
        self._registry = registry

    def events_written(self, camera_id: str, class_name: str, count: int = 1) -> None:
        """New events of a class (object events; health events have no class)."""
        if count:
            self._events.labels(camera_id, class_name).inc(count)

    def events_by_type(self, camera_id: str, event_type: str, count: int = 1) -> None:
        """New events of any kind, by type."""
        if count:
            self._events_by_type.labels(camera_id, checked_code(event_type, "event type")).inc(count)

    def operation_failed(self, operation: str = "write") -> None:
        self._errors.labels(checked_code(operation, "event store operation")).inc()

    def observe_write(self, seconds: float) -> None:
        self._write_duration.observe(seconds)

    @contextlib.contextmanager
    def time_write(self) -> Iterator[None]:
        """Time a write; an exception counts as a failed write and propagates."""
        started = self._clock()
        try:
            yield
        except BaseException:
            self.operation_failed("write")
            raise
        finally:
            self.observe_write(max(0.0, self._clock() - started))

    def batch_committed(self, events: int) -> None:
        """One batch committed; `events` it held (new, updates and ignored replays)."""
        self._batches.inc()
        self._batch_events.inc(events)

    def set_buffered(self, events: int) -> None:
        self._buffered.set(events)

    def events_dropped(self, reason: str, count: int = 1) -> None:
        if count:
            self._dropped.labels(checked_code(reason, "drop reason")).inc(count)

    def retention_deleted(self, reason: str, count: int) -> None:
        if count:
            self._retention_deleted.labels(checked_code(reason, "retention reason")).inc(count)

    def set_size(self, size_bytes: int) -> None:
        self._size.set(size_bytes)

    def revisions_lost(self, camera_id: str, count: int) -> None:
        """Revisions of a camera's ring that were gone before the writer pulled them;
        called with 0 when the writer starts following a camera (the series exists)."""
        self._lost.labels(camera_id).inc(count)

    def set_cameras_followed(self, cameras: int) -> None:
        self._followed.set(cameras)

    def snapshot(self) -> EventStoreSnapshot:
        """Every sample of these metrics now (for the front door to render)."""
        samples: dict[str, tuple[Sample, ...]] = {}
        for family in self._registry.collect():
            definition = _BY_FAMILY_NAME.get(family.name)
            if definition is None:
                continue
            samples[definition.name] = tuple(
                Sample(s.name, tuple(sorted(s.labels.items())), float(s.value))
                for s in family.samples
                if not s.name.endswith("_created")
            )
        return EventStoreSnapshot(samples)
