"""Pulls camera statuses, cluster status, scheduler stats and the event store's metrics
every few seconds.

Scrapes never call into Ray: they render whatever this task stored last, so a
scrape is cheap and one target serves the whole cluster however many camera
actors and nodes there are. A failed read is logged and counted
(`matthan_metrics_refresh_errors_total{source}`) and the previous reading stays
until the collector finds it too old; the loop itself never stops on an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry

from ..control import CameraControl
from .definitions import REFRESH_DURATION, REFRESH_ERRORS
from .events import EventStoreStatsSource
from .scheduler import SchedulerStatsSource
from .snapshot import SOURCES, SnapshotStore

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]


class ClusterRefresher:
    def __init__(
        self,
        control: CameraControl,
        store: SnapshotStore,
        registry: CollectorRegistry,
        *,
        interval_s: float = 5.0,
        timeout_s: float = 10.0,
        scheduler: SchedulerStatsSource | None = None,
        events: EventStoreStatsSource | None = None,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ):
        if interval_s <= 0 or timeout_s <= 0:
            raise ValueError(f"interval_s and timeout_s must be positive, got {interval_s} and {timeout_s}")
        self._control = control
        self._store = store
        self._scheduler = scheduler
        self._events = events
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._errors = REFRESH_ERRORS.create(registry)
        for source in (*SOURCES, "refresher"):
            self._errors.labels(source)  # exported at 0 from the start
        self._duration = REFRESH_DURATION.create(registry)
        self._failing: set[str] = set()
        self._task: asyncio.Task | None = None

    async def refresh_once(self) -> bool:
        """Read every source once (concurrently); True if all reads succeeded."""
        started = self._monotonic()
        reads = [self._read("cameras", self._list_cameras), self._read("cluster", self._control.cluster_status)]
        if self._scheduler is not None:
            reads.append(self._read("scheduler", self._scheduler.scheduler_snapshot))
        if self._events is not None:
            reads.append(self._read("events", self._events.event_store_snapshot))
        results = await asyncio.gather(*reads)
        self._duration.observe(max(0.0, self._monotonic() - started))
        return all(results)

    async def run(self) -> None:
        """Refresh every `interval_s` until cancelled."""
        while True:
            try:
                await self.refresh_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must not end the metrics for good
                self._errors.labels("refresher").inc()
                logger.exception("metrics refresh failed unexpectedly; retrying in %.1f s", self._interval_s)
            await self._sleep(self._interval_s)

    def start(self) -> asyncio.Task:
        """Run on the current event loop. An end other than stop() is logged."""
        if self._task is not None and not self._task.done():
            raise RuntimeError("the metrics refresher is already running")
        self._task = asyncio.get_running_loop().create_task(self.run(), name="metrics-refresher")
        self._task.add_done_callback(_report_end)
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _list_cameras(self) -> tuple:
        return tuple(await self._control.list_cameras())

    async def _read(self, source: str, call: Callable[[], Awaitable[object]]) -> bool:
        try:
            value = await asyncio.wait_for(call(), self._timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._errors.labels(source).inc()
            if source not in self._failing:
                self._failing.add(source)
                logger.exception("metrics: reading %s failed; keeping the previous reading", source)
            else:
                logger.warning("metrics: reading %s still failing: %r", source, exc)
            return False
        if source in self._failing:
            self._failing.discard(source)
            logger.info("metrics: reading %s works again", source)
        self._store.put(source, value, self._wall_clock())
        return True


def _report_end(task: asyncio.Task) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        logger.error("metrics refresher ended: %r", exc, exc_info=exc)
    else:
        logger.error("metrics refresher ended without being stopped")
