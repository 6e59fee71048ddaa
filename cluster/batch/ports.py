"""The job manager's boundaries (`manager.JobManager` takes one of each): where its
chains run (`SegmentExecutor`, over Ray: `cluster/jobrunner/executor.py`), where their
events go (`EventSink`, the event writer's `ingest`), where it reports what it does
(`BatchRecorder`, `cluster.metrics.batch.BatchJobMetrics`) and how it finds a camera's
settings (`CameraLookup`). Plain protocols, so the manager runs without Ray in tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cluster.config import CameraConfig
from cluster.domain import Event

from .job import JobRecord
from .segments import Segment


class TaskHandle(Protocol):
    """An opaque running chain, as the executor returns it."""


@dataclass(frozen=True, slots=True)
class ChainEnded:
    """A chain's task is over without an error (every result it had was yielded)."""


CHAIN_ENDED = ChainEnded()


class SegmentExecutor(Protocol):
    def submit(self, job: JobRecord, segments: Sequence[Segment]) -> TaskHandle:
        """Start a chain: consecutive segments of one file (`runner.check_chain`)."""
        ...

    def finished(self, handles: Sequence[TaskHandle], timeout_s: float) -> list[tuple[TaskHandle, object]]:
        """Chains with news, each with one of: a SegmentResult it yielded (it goes on),
        CHAIN_ENDED, or the exception it failed with (it is over)."""
        ...

    def cancel(self, handle: TaskHandle) -> None: ...

    def capacity(self) -> BatchRoom:
        """How many more segment tasks may start now, and with none, why not."""
        ...


@dataclass(frozen=True, slots=True)
class BatchRoom:
    slots: int  # segment tasks that may start now
    waiting: str = ""  # with no slot: why not, in words for the job's watchers


class EventSink(Protocol):
    def ingest(self, events: Sequence[Event]) -> int:
        """Store `events` (idempotent by id and revision); raises if they were not stored."""
        ...


CameraLookup = Callable[[str], CameraConfig]  # raises LookupError for an unknown camera


class BatchRecorder(Protocol):
    """Where the manager reports what it does (`cluster.metrics.batch.BatchJobMetrics`)."""

    def running(self, job_id: str) -> bool: ...

    def job_started(self, job_id: str, frames_total: int | None = None) -> None: ...

    def segment_finished(self, job_id: str, *, frames: int, footage_s: float, wall_s: float) -> None: ...

    def job_finished(self, job_id: str, outcome: str) -> None: ...

    def set_job_speed(self, job_id: str, speed: float) -> None: ...

    def set_states(self, counts: dict[str, int]) -> None: ...

    def set_backlog(self, segments: int) -> None: ...
