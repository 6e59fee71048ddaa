"""The job manager's work in plain Python: jobs, their records, and the loop that runs
their segments. The Ray actor (`cluster/jobrunner/actor.py`) is a thin wrapper; the
segments run through a `SegmentExecutor` (Ray tasks: `cluster/jobrunner/tasks.py`)
and their events go to an `EventSink` (the event writer's `ingest`).

    manager = JobManager(config, records, executor, sink, cameras)
    view = manager.submit(request, submitted_by="alice")
    manager.step()              # the control loop calls this every `STEP_S`
    manager.get(view.job_id)

The loop (`step`) never dies: each part is guarded with `log.exception` and every
part is idempotent, so the next step repairs what one missed:

1. start queued jobs; finish jobs whose segments are all done; move cancelling
   jobs with nothing in flight to cancelled;
2. collect finished tasks: a segment's events are ingested (idempotent by event
   id) and only then is the segment marked done and the record saved; a task that
   failed is retried up to `MAX_ATTEMPTS`, then its whole range is reported
   damaged (the job goes on);
3. submit pending segments, oldest job first, while the job has fewer than
   `batch.max_in_flight` running and the executor has room (the batch CPU the
   live cameras leave free). A running job with segments left that got none
   because there was no room shows why (`JobView.waiting`, from the executor)
   until one of its segments runs again.

Exactly once. A segment's events reach the store before it is marked done, and a
segment not marked done runs again after a restart with the same event ids, so
the store ends with each event once whatever dies when.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from cluster.domain import Event

from .job import InvalidTransition, JobNotFound, JobRecord, JobState, new_job_id
from .planning import CameraDir, ReprocessRequest, RequestError, plan_job
from .progress import JobView, view_of
from .recorded import remove_lists
from .records import JobRecordStore
from .runner import DamagedRange, SegmentProgress, SegmentResult
from .segments import Segment

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a segment whose task fails this often is reported damaged
STEP_S = 0.25


class TaskHandle(Protocol):
    """An opaque running segment, as the executor returns it."""


class SegmentExecutor(Protocol):
    def submit(self, job: JobRecord, segment: Segment) -> TaskHandle: ...

    def finished(self, handles: Sequence[TaskHandle], timeout_s: float) -> list[tuple[TaskHandle, object]]:
        """The handles that ended, each with its SegmentResult or the exception it raised."""
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


@dataclass(slots=True)
class _Running:
    job_id: str
    segment: Segment
    handle: TaskHandle
    pts: float


class JobManager:
    def __init__(
        self,
        config: BatchConfig,
        records: JobRecordStore,
        executor: SegmentExecutor,
        sink: EventSink,
        cameras: CameraLookup,
        *,
        metrics: BatchRecorder | None = None,
        clock: Callable[[], float] = time.time,
        camera_dir: CameraDir | None = None,
    ) -> None:
        self.config = config
        self.records = records
        self.executor = executor
        self.sink = sink
        self.cameras = cameras
        self.camera_dir = camera_dir  # where a camera without recording.directory records
        self._clock = clock
        self.metrics = metrics
        self._lock = threading.RLock()
        self._jobs: dict[str, JobRecord] = {}
        self._running: dict[str, _Running] = {}  # by "job_id/segment key"
        self._waiting: dict[str, str] = {}  # job id -> why none of its pending segments could start
        for record in records.load_all():
            if not record.state.final:
                record.resume(clock())
                self._save(record)
                self._report_state(record)  # a resumed job's progress series counts from here
            self._jobs[record.job_id] = record

    # ---- requests (any thread) -----------------------------------------------------------

    def submit(self, request: ReprocessRequest, *, submitted_by: str) -> JobView:
        """A new QUEUED job. Raises RequestError naming the field (and file) that is wrong."""
        try:
            camera = self.cameras(request.camera_id)
        except LookupError:
            raise RequestError("camera_id", f"no camera {request.camera_id!r}") from None
        now = self._clock()
        record = plan_job(
            new_job_id(now),
            camera,
            request,
            self.config,
            submitted_by=submitted_by,
            now=now,
            camera_dir=self.camera_dir,
        )
        with self._lock:
            self._jobs[record.job_id] = record
            self._save(record)
            self._forget_old()
            return self._view(record)

    def get(self, job_id: str) -> JobView:
        with self._lock:
            return self._view(self._job(job_id))

    def jobs(
        self, *, camera_ids: frozenset[str] | None = None, states: frozenset[JobState] | None = None
    ) -> list[JobView]:
        """Jobs newest first, optionally only some cameras' or states'."""
        with self._lock:
            jobs = [
                r
                for r in self._jobs.values()
                if (camera_ids is None or r.camera_id in camera_ids) and (states is None or r.state in states)
            ]
            return [self._view(r) for r in sorted(jobs, key=lambda r: (r.submitted_at, r.job_id), reverse=True)]

    def cancel(self, job_id: str) -> JobView:
        with self._lock:
            record = self._job(job_id)
            if not record.state.final:
                record.cancel(self._clock(), in_flight=self._in_flight(job_id))
                for running in self._running_of(job_id):
                    self.executor.cancel(running.handle)
                self._save(record)
                self._report_state(record)
            return self._view(record)

    def report_progress(self, job_id: str, key: str, progress: SegmentProgress) -> None:
        with self._lock:
            running = self._running.get(f"{job_id}/{key}")
            if running is not None:
                running.pts = max(running.pts, progress.pts)

    def views(self) -> list[JobView]:
        with self._lock:
            return [self._view(r) for r in self._jobs.values()]

    def backlog_segments(self) -> int:
        with self._lock:
            return sum(
                len(r.pending()) - self._in_flight(r.job_id)
                for r in self._jobs.values()
                if r.state in (JobState.QUEUED, JobState.RUNNING)
            )

    # ---- the loop --------------------------------------------------------------------------

    def step(self, timeout_s: float = STEP_S) -> None:
        for part in (self._advance_states, lambda: self._collect(timeout_s), self._submit):
            try:
                part()
            except Exception:
                log.exception("job manager step failed; the next step tries again")

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.step()

    def _advance_states(self) -> None:
        with self._lock:
            now = self._clock()
            for record in self._jobs.values():
                changed = False
                if record.state is JobState.QUEUED:
                    record.start(now)
                    changed = True
                if record.finish_if_complete(now):
                    changed = True
                    log.info("job %s %s", record.job_id, record.state.value)
                if record.state is JobState.CANCELLING:
                    record.in_flight_ended(now, in_flight=self._in_flight(record.job_id))
                    changed = record.state is JobState.CANCELLED
                if changed:
                    self._save(record)
                    self._report_state(record)

    def _collect(self, timeout_s: float) -> None:
        with self._lock:
            handles = [r.handle for r in self._running.values()]
        if not handles:
            time.sleep(timeout_s)  # nothing to wait on: keep the loop's pace
            return
        for handle, outcome in self.executor.finished(handles, timeout_s):
            with self._lock:
                name = next((k for k, r in self._running.items() if r.handle is handle), None)
                running = self._running.get(name) if name is not None else None
                record = self._jobs.get(running.job_id) if running is not None else None
                store = isinstance(outcome, SegmentResult) and record is not None and record.state is JobState.RUNNING
            if name is None or running is None:
                continue
            if store:
                # Outside the lock: the writer's deadline must not hold up requests. The
                # segment stays in flight meanwhile, so a cancel waits for it.
                assert isinstance(outcome, SegmentResult)
                try:
                    self.sink.ingest(outcome.events)
                except Exception:
                    log.exception("job %s segment %s: its events could not be stored; it runs again", *name.split("/"))
                    with self._lock:
                        self._running.pop(name, None)
                    continue
            with self._lock:
                self._running.pop(name, None)
                if record is not None:
                    self._segment_ended(record, running.segment, outcome, stored=store)

    def _segment_ended(self, record: JobRecord, segment: Segment, outcome: object, *, stored: bool) -> None:
        """A task ended; `stored`: its result's events are in the store."""
        segment_record = record.segment(segment.key)
        if isinstance(outcome, SegmentResult):
            if not stored:
                return  # cancelled meanwhile: a cancelled job keeps only the segments finished before
            record.segment_finished(outcome)
            if self.metrics is not None and self.metrics.running(record.job_id):
                duration = record.files[segment.file_index].duration_s
                self.metrics.segment_finished(
                    record.job_id,
                    frames=outcome.owned_frames,
                    footage_s=segment.length_s(duration),
                    wall_s=outcome.wall_s,
                )
        elif record.state is JobState.CANCELLING:
            return
        else:
            segment_record.attempts += 1
            log.error(
                "job %s segment %s failed (attempt %d of %d): %s",
                record.job_id,
                segment.key,
                segment_record.attempts,
                MAX_ATTEMPTS,
                outcome,
            )
            if segment_record.attempts >= MAX_ATTEMPTS:
                failed = SegmentResult(
                    segment=segment,
                    events=(),
                    frames_grabbed=0,
                    frames_analysed=0,
                    owned_frames=0,
                    last_pts=segment.start_s,
                    wall_s=0.0,
                    damaged=(
                        DamagedRange(segment.file_index, segment.start_s, segment.end_s, f"analysis failed: {outcome}"),
                    ),
                )
                record.segment_finished(failed)
        self._save(record)

    def _submit(self) -> None:
        with self._lock:
            room = self.executor.capacity()
            slots = room.slots
            waiting: dict[str, str] = {}
            for record in sorted(self._jobs.values(), key=lambda r: (r.submitted_at, r.job_id)):
                if record.state is not JobState.RUNNING:
                    continue
                for segment in record.pending():
                    if self._in_flight(record.job_id) >= self.config.max_in_flight:
                        break
                    name = f"{record.job_id}/{segment.key}"
                    if name in self._running:
                        continue
                    if slots <= 0:
                        if not self._in_flight(record.job_id):
                            waiting[record.job_id] = room.waiting or "waiting for room for batch work"
                        break
                    handle = self.executor.submit(record, segment)
                    self._running[name] = _Running(record.job_id, segment, handle, segment.start_s)
                    slots -= 1
            for job_id in waiting.keys() - self._waiting.keys():
                log.info("job %s: %s", job_id, waiting[job_id])
            self._waiting = waiting

    def refresh_metrics(self) -> None:
        """Set the gauges (jobs by state, backlog, speed of running jobs) from the jobs now."""
        if self.metrics is None:
            return
        with self._lock:
            views = [self._view(r) for r in self._jobs.values()]
            counts: dict[str, int] = {}
            for view in views:
                counts[view.state.value] = counts.get(view.state.value, 0) + 1
            self.metrics.set_states(counts)
            self.metrics.set_backlog(self.backlog_segments())
            for view in views:
                if view.state is JobState.RUNNING:
                    self.metrics.set_job_speed(view.job_id, view.speed)

    # ---- internals ---------------------------------------------------------------------------

    def _report_state(self, record: JobRecord) -> None:
        """Start or end the job's series as its state says."""
        metrics = self.metrics
        if metrics is None:
            return
        try:
            if record.state is JobState.RUNNING and not metrics.running(record.job_id):
                metrics.job_started(record.job_id, record.frames_total)
            elif record.state.final:
                if not metrics.running(record.job_id):  # cancelled before it started: still an outcome
                    metrics.job_started(record.job_id, record.frames_total)
                metrics.job_finished(record.job_id, record.state.value)
        except Exception:  # metrics never stop the jobs
            log.exception("batch metrics of job %s could not be updated", record.job_id)

    def _job(self, job_id: str) -> JobRecord:
        record = self._jobs.get(job_id)
        if record is None:
            raise JobNotFound(job_id)
        return record

    def _running_of(self, job_id: str) -> list[_Running]:
        return [r for r in self._running.values() if r.job_id == job_id]

    def _in_flight(self, job_id: str) -> int:
        return len(self._running_of(job_id))

    def _view(self, record: JobRecord) -> JobView:
        running = {r.segment.key: r.pts for r in self._running_of(record.job_id)}
        return view_of(record, running=running, now=self._clock(), waiting=self._waiting.get(record.job_id, ""))

    def _save(self, record: JobRecord) -> None:
        self.records.save(record)

    def _forget_old(self) -> None:
        finished = sorted((r for r in self._jobs.values() if r.state.final), key=lambda r: r.submitted_at)
        for record in finished[: max(0, len(finished) - self.config.keep_finished_jobs)]:
            del self._jobs[record.job_id]
            self.records.delete(record.job_id)
            remove_lists([f.path for f in record.files], record.job_id)  # a recorded range's concat lists


__all__ = ["InvalidTransition", "JobManager"]
