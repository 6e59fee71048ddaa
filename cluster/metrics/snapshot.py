"""The newest reading of the cluster, shared between the refresher (writes, on the
event loop) and the collector (reads, on the HTTP server's thread)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from ..control import CameraView, ClusterStatus
from .events import EventStoreSnapshot
from .scheduler import SchedulerSnapshot

T = TypeVar("T")

# What the refresher reads, and the `source` label of its errors and ages.
SOURCES: tuple[str, ...] = ("cameras", "cluster", "scheduler", "events")


@dataclass(frozen=True, slots=True)
class Reading(Generic[T]):
    value: T
    taken_at: float  # wall-clock epoch seconds


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    """One reading per source; None until the first successful read."""

    cameras: Reading[tuple[CameraView, ...]] | None = None
    cluster: Reading[ClusterStatus] | None = None
    scheduler: Reading[SchedulerSnapshot] | None = None
    events: Reading[EventStoreSnapshot] | None = None  # the event store writer's metrics


class SnapshotStore:
    """Replaces readings whole under a lock, so a scrape sees each one complete."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot = ClusterSnapshot()

    def put(self, source: str, value: Any, taken_at: float) -> None:
        if source not in SOURCES:
            raise ValueError(f"unknown snapshot source {source!r}; expected one of {', '.join(SOURCES)}")
        with self._lock:
            self._snapshot = replace(self._snapshot, **{source: Reading(value, taken_at)})

    def get(self) -> ClusterSnapshot:
        with self._lock:
            return self._snapshot
