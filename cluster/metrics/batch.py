"""Batch (re)processing job metrics, updated by whatever runs the jobs.

    jobs = BatchJobMetrics(registry)
    jobs.job_started("reprocess-2024-06-01", frames_total=90_000)
    jobs.frames_processed("reprocess-2024-06-01", 250)      # as batches complete
    jobs.job_finished("reprocess-2024-06-01", "succeeded")  # or failed / cancelled

Throughput and outcomes are cluster-wide counters. Per-job series (progress,
frames processed) exist only while a job runs, and for at most `max_jobs_shown`
jobs at once, so the `batch_job` label stays bounded however many jobs run over
time. Thread-safe.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from . import definitions as d

logger = logging.getLogger(__name__)

OUTCOMES: tuple[str, ...] = ("succeeded", "failed", "cancelled")


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
        self._frames = d.BATCH_FRAMES.create(registry)
        self._running = d.BATCH_JOBS_RUNNING.create(registry)
        self._finished = d.BATCH_JOBS_FINISHED.create(registry)
        for outcome in OUTCOMES:
            self._finished.labels(outcome)  # exported at 0 from the start
        self._progress = d.BATCH_JOB_PROGRESS.create(registry)
        self._job_frames = d.BATCH_JOB_FRAMES.create(registry)

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

    def frames_processed(self, job_id: str, count: int = 1) -> None:
        if count < 0:
            raise ValueError(f"frame count must be >= 0, got {count}")
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise KeyError(f"batch job {job_id!r} is not running")
            job.frames_done += count
            self._frames.inc(count)
            self._show(job_id, job)

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
                for metric in (self._progress, self._job_frames):
                    with contextlib.suppress(KeyError):
                        metric.remove(job_id)

    def _show(self, job_id: str, job: _Job) -> None:
        if not job.shown:
            return
        self._job_frames.labels(job_id).set(job.frames_done)
        if job.frames_total:
            self._progress.labels(job_id).set(min(1.0, job.frames_done / job.frames_total))
