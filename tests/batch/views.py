"""A job's view as the Jobs service shows it, for tests that need one without running
a job: `job_view(**changes)` is a running job of two segments, nothing done yet."""

from __future__ import annotations

import dataclasses

from cluster.batch.job import JobState
from cluster.batch.progress import JobView

SUBMITTED_AT = 1_764_000_000.0

RUNNING = JobView(
    job_id="j1",
    camera_id="road",
    state=JobState.RUNNING,
    submitted_by="alice",
    submitted_at=SUBMITTED_AT,
    started_at=SUBMITTED_AT,
    finished_at=None,
    files=(),
    segments_total=2,
    segments_done=0,
    segments_running=0,
    frames_total=100,
    frames_done=0,
    frames_analysed=0,
    footage_total_s=8.0,
    footage_done_s=0.0,
    speed=0.0,
    eta_s=None,
    damaged=(),
    event_counts=(),
    error=None,
)


def job_view(**changes) -> JobView:
    return dataclasses.replace(RUNNING, **changes)
