"""What a job has done, as one immutable view for watchers, the API and metrics."""

from __future__ import annotations

from dataclasses import dataclass

from .job import EventCount, JobFile, JobRecord, JobState
from .recorded import NotRecordedRange
from .runner import DamagedRange


@dataclass(frozen=True, slots=True)
class JobView:
    job_id: str
    camera_id: str
    state: JobState
    submitted_by: str
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    files: tuple[JobFile, ...]
    segments_total: int
    segments_done: int
    segments_running: int
    frames_total: int
    frames_done: int  # estimated from the footage done, at each file's frame rate
    frames_analysed: int  # by finished segments
    footage_total_s: float
    footage_done_s: float
    speed: float  # seconds of footage per second of wall time since the manager took the job up (0: unknown)
    eta_s: float | None
    damaged: tuple[DamagedRange, ...]
    event_counts: tuple[EventCount, ...]
    error: str | None
    workers: tuple[str, ...] = ()  # the Ray nodes finished segments ran on
    recorded_range: tuple[float, float] | None = None  # a recorded range's job: [from, to)
    not_recorded: tuple[NotRecordedRange, ...] = ()  # parts of the range nothing recorded (not damage)
    waiting: str = ""  # running with nothing in flight for want of batch room: why (empty otherwise)

    @property
    def events(self) -> int:
        return sum(c.count for c in self.event_counts)


def view_of(record: JobRecord, *, running: dict[str, float], now: float, waiting: str = "") -> JobView:
    """`running`: the media time each in-flight segment (by key) reached; `waiting`: why
    none of its segments runs now, if that is for want of room."""
    footage_done = record.footage_done_s(running)
    frames_done = 0
    for segment in record.segments:
        file = record.files[segment.segment.file_index]
        if segment.done:
            frames_done += segment.owned_frames
        elif segment.segment.key in running:
            reached = running[segment.segment.key] - segment.segment.start_s
            frames_done += int(min(max(0.0, reached), segment.segment.length_s(file.duration_s)) * file.fps)
    # The index counts the container's packets; a decoder may give a frame more or less.
    frames_done = min(frames_done, record.frames_total)
    speed = 0.0
    eta = None
    if record.resumed_at is not None and not record.state.final:
        elapsed = now - record.resumed_at
        gained = footage_done - record.footage_done_at_resume_s
        if elapsed > 0 and gained > 0:
            speed = gained / elapsed
            eta = max(0.0, record.footage_total_s - footage_done) / speed
    elif record.state.final and record.started_at is not None and record.finished_at is not None:
        elapsed = record.finished_at - record.started_at
        speed = footage_done / elapsed if elapsed > 0 else 0.0
        eta = 0.0
    return JobView(
        job_id=record.job_id,
        camera_id=record.camera_id,
        state=record.state,
        submitted_by=record.submitted_by,
        submitted_at=record.submitted_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        files=record.files,
        segments_total=len(record.segments),
        segments_done=sum(s.done for s in record.segments),
        segments_running=len(running),
        frames_total=record.frames_total,
        frames_done=frames_done,
        frames_analysed=sum(s.frames_analysed for s in record.segments),
        footage_total_s=record.footage_total_s,
        footage_done_s=footage_done,
        speed=speed,
        eta_s=eta,
        damaged=record.damaged(),
        event_counts=record.event_counts(),
        error=record.error,
        workers=tuple(sorted({s.worker for s in record.segments if s.done and s.worker})),
        recorded_range=record.recorded_range,
        not_recorded=record.not_recorded,
        waiting=waiting if record.state is JobState.RUNNING else "",
    )
