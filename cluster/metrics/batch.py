"""Batch (re)processing job metrics, fed by the job manager (`cluster.batch.manager`).

    jobs = BatchJobMetrics(registry)
    jobs.job_started("job-1", frames_total=90_000)
    jobs.segment_finished("job-1", frames=3_750, footage_s=300.0, wall_s=41.0)
    jobs.frames_processed("job-1", 250)                  # frames without a segment (tests, tools)
    jobs.set_job_speed("job-1", 7.3); jobs.set_states({"running": 1}); jobs.set_backlog(12)
    jobs.job_finished("job-1", "succeeded")              # or failed / cancelled

Throughput, footage, segment durations and outcomes are cluster-wide. Per-job
series (progress, frames processed, speed) exist only while a job runs, and for
at most `max_jobs_shown` jobs at once, so the `batch_job` label stays bounded
however many jobs run over time. Thread-safe.

The job manager runs in its own actor, but Prometheus scrapes one target, the
front door: so the manager keeps these metrics in a registry of its own and hands
out `snapshot()`s (plain values that cross Ray); the front door's refresher reads
one every few seconds (`BatchStatsSource`, the manager's client) and its collector
renders it (`collector.py`), as it does the event writer's.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import CollectorRegistry

from . import definitions as d
from .events import Sample

logger = logging.getLogger(__name__)

OUTCOMES: tuple[str, ...] = ("succeeded", "failed", "cancelled")
STATES: tuple[str, ...] = ("queued", "running", "cancelling", "succeeded", "failed", "cancelled")
# Everything BatchJobMetrics exports, and so what a snapshot of it may hold.
BATCH_DEFS: tuple[d.MetricDef, ...] = (
    d.BATCH_FRAMES,
    d.BATCH_JOBS_RUNNING,
    d.BATCH_JOBS_FINISHED,
    d.BATCH_JOB_PROGRESS,
    d.BATCH_JOB_FRAMES,
    d.BATCH_JOBS,
    d.BATCH_JOB_SPEED,
    d.BATCH_BACKLOG,
    d.BATCH_FOOTAGE,
    d.BATCH_SEGMENT_DURATION,
)
_BY_FAMILY_NAME = {(m.name.removesuffix("_total") if m.kind is d.Kind.COUNTER else m.name): m for m in BATCH_DEFS}


@dataclass(frozen=True, slots=True)
class BatchSnapshot:
    """The samples of every batch metric at one moment, by metric definition name."""

    samples: Mapping[str, tuple[Sample, ...]] = field(default_factory=dict)

    def value(self, name: str, **labels: str) -> float | None:
        wanted = tuple(sorted(labels.items()))
        for samples in self.samples.values():
            for sample in samples:
                if sample.name == name and tuple(sorted(sample.labels)) == wanted:
                    return sample.value
        return None


class BatchStatsSource(Protocol):
    """Where the front door's refresher gets the batch metrics (the job manager's client)."""

    async def batch_snapshot(self) -> BatchSnapshot: ...


@dataclass
class _Job:
    frames_total: int | None
    frames_done: int = 0
    shown: bool = False


class BatchJobMetrics:
    def __init__(self, registry: CollectorRegistry, *, max_jobs_shown: int = 50):
        if max_jobs_shown < 0:
            raise ValueError(f"max_jobs_shown must be >= 0, got {max_jobs_shown}")
        self._max_shown = max_jobs_shown
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._registry = registry
        self._frames = d.BATCH_FRAMES.create(registry)
        self._running = d.BATCH_JOBS_RUNNING.create(registry)
        self._finished = d.BATCH_JOBS_FINISHED.create(registry)
        for outcome in OUTCOMES:
            self._finished.labels(outcome)  # exported at 0 from the start
        self._progress = d.BATCH_JOB_PROGRESS.create(registry)
        self._job_frames = d.BATCH_JOB_FRAMES.create(registry)
        self._states = d.BATCH_JOBS.create(registry)
        for state in STATES:
            self._states.labels(state)
        self._speed = d.BATCH_JOB_SPEED.create(registry)
        self._backlog = d.BATCH_BACKLOG.create(registry)
        self._footage = d.BATCH_FOOTAGE.create(registry)
        self._segment_duration = d.BATCH_SEGMENT_DURATION.create(registry)

    def job_started(self, job_id: str, frames_total: int | None = None) -> None:
        """`frames_total`: frames the job will process, if known (gives progress)."""
        with self._lock:
            if job_id in self._jobs:
                raise ValueError(f"batch job {job_id!r} is already running")
            shown = sum(1 for job in self._jobs.values() if job.shown) < self._max_shown
            if not shown:
                logger.info("batch job %s: more than %d jobs running, no per-job series", job_id, self._max_shown)
            self._jobs[job_id] = job = _Job(frames_total, shown=shown)
            self._running.set(len(self._jobs))
            self._show(job_id, job)

    def running(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._jobs

    def frames_processed(self, job_id: str, count: int = 1) -> None:
        if count < 0:
            raise ValueError(f"frames processed must be >= 0, got {count}")
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise KeyError(f"batch job {job_id!r} is not running")
            job.frames_done += count
            self._frames.inc(count)
            self._show(job_id, job)

    def segment_finished(self, job_id: str, *, frames: int, footage_s: float, wall_s: float) -> None:
        """A segment of a running job is done: its share of the file's frames and footage."""
        self.frames_processed(job_id, frames)
        self._footage.inc(max(0.0, footage_s))
        self._segment_duration.observe(max(0.0, wall_s))

    def set_job_speed(self, job_id: str, speed: float) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.shown:
                self._speed.labels(job_id).set(max(0.0, speed))

    def set_states(self, counts: Mapping[str, int]) -> None:
        """Jobs the manager keeps, by state (every state is set: missing ones are 0)."""
        for state in STATES:
            self._states.labels(state).set(counts.get(state, 0))

    def set_backlog(self, segments: int) -> None:
        self._backlog.set(max(0, segments))

    def job_finished(self, job_id: str, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"batch job outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        with self._lock:
            job = self._jobs.pop(job_id, None)
            if job is None:
                raise KeyError(f"batch job {job_id!r} is not running")
            self._running.set(len(self._jobs))
            self._finished.labels(outcome).inc()
            if job.shown:
                for metric in (self._progress, self._job_frames, self._speed):
                    with contextlib.suppress(KeyError):
                        metric.remove(job_id)

    def snapshot(self) -> BatchSnapshot:
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
        return BatchSnapshot(samples)

    def _show(self, job_id: str, job: _Job) -> None:
        if not job.shown:
            return
        self._job_frames.labels(job_id).set(job.frames_done)
        if job.frames_total:
            self._progress.labels(job_id).set(min(1.0, job.frames_done / job.frames_total))
