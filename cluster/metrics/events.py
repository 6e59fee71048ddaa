"""Event store metrics, updated by the event store (actor or client) as it works.

    store_metrics = EventStoreMetrics(registry)
    with store_metrics.time_write():
        write(batch)                                   # raises on failure -> counted as a "write" error
    store_metrics.events_written("cam-1", "person", 3)
    store_metrics.operation_failed("query")

`operation` is a short snake_case code fixed in code (write, query, migrate...).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry

from . import definitions as d
from .gateway import checked_code

OPERATIONS: tuple[str, ...] = ("write", "query")  # exported at 0 from the start


class EventStoreMetrics:
    def __init__(self, registry: CollectorRegistry, *, clock: Callable[[], float] = time.perf_counter):
        self._clock = clock
        self._events = d.EVENTS.create(registry)
        self._errors = d.EVENT_STORE_ERRORS.create(registry)
        for operation in OPERATIONS:
            self._errors.labels(operation)
        self._write_duration = d.EVENT_STORE_WRITE_DURATION.create(registry)

    def events_written(self, camera_id: str, class_name: str, count: int = 1) -> None:
        if count:
            self._events.labels(camera_id, class_name).inc(count)

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
