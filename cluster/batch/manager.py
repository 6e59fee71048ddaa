"""The job manager's work in plain Python: jobs, their records, and the loop that runs
their segments. The Ray actor (`cluster/jobrunner/actor.py`) is a thin wrapper; the
segments run in chains (consecutive segments of one file, one decoder and one
warm-up: `runner.run_chain`, `chains.py`) through a `SegmentExecutor` (Ray generator
tasks: `cluster/jobrunner/tasks.py`), and their events go to an `EventSink` (the event
writer's `ingest`); those boundaries are in `ports.py`.

    manager = JobManager(config, records, executor, sink, cameras)
    view = manager.submit(request, submitted_by="alice")
    manager.step()              # the control loop calls this every `STEP_S`
    manager.get(view.job_id)

The loop (`step`) never dies: each part is guarded with `log.exception` and every
part is idempotent, so the next step repairs what one missed:

1. start queued jobs; finish jobs whose segments are all done; move cancelling
   jobs with nothing in flight to cancelled;
2. collect what the chains streamed: each segment's result, as soon as its chain
   yields it, is committed (below); a chain that fails part-way keeps the segments
   it finished, the rest are pending again and the first of them (the one the chain
   was in) counts an attempt: after `MAX_ATTEMPTS` its whole range is reported
   damaged (the job goes on);
3. commit the staged results that are not yet done (after a restart, or when the
   event writer did not take them the first time);
4. submit pending segments, oldest job first: a job's pending segments (not running,
   not staged) are cut into at most `min(free slots, batch.max_in_flight - its
   chains running)` chains of about equal footage (`chains.plan_chains`), one task
   each, where the executor has room (the batch CPU the live cameras leave free). A
   running job with segments left that got none because there was no room shows why
   (`JobView.waiting`, from the executor) until one of its segments runs again.

Exactly once. A segment run inside a chain and the same segment rerun in another
chain (after a crash) warm up on different footage, so their track ids and event
ids may differ: a rerun cannot be relied on to repeat the same revisions. The
commit point is the staged result instead. A segment's result is written to the job's
record directory (`records.stage`, atomically) before any of its events reach the
store; then its events are ingested (idempotent by id and revision), the segment is
marked done and the record saved, and only then is the stage removed. Whatever dies
when: before the stage is written, nothing of the segment is in the store and it
runs again; once it is written, the segment never runs again: the staged result
(the very revisions it holds) is ingested, again if need be, which the store keeps
once, and the segment is marked done; a stage left after the segment was marked
done is removed. So the store ends with each event once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cluster.config.batch import BatchConfig

from .chains import plan_chains
from .job import InvalidTransition, JobNotFound, JobRecord, JobState, new_job_id
from .planning import CameraDir, ReprocessRequest, RequestError, plan_job
from .ports import BatchRecorder, CameraLookup, ChainEnded, EventSink, SegmentExecutor, TaskHandle
from .progress import JobView, view_of
from .recorded import remove_lists
from .records import JobRecordStore
from .runner import DamagedRange, SegmentProgress, SegmentResult
from .segments import Segment

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a segment whose task fails this often is reported damaged
STEP_S = 0.25


@dataclass(slots=True)
class _Running:
    """A chain in flight; `segments`: those it has not yielded yet."""

    job_id: str
    segments: list[Segment]
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
        self._running: dict[str, _Running] = {}  # by "job_id/first segment key" of the chain
        self._staged: dict[str, dict[str, SegmentResult]] = {}  # job id -> segment key -> result to commit
        self._waiting: dict[str, str] = {}  # job id -> why none of its pending segments could start
        for record in records.load_all():
            if not record.state.final:
                record.resume(clock())
                self._save(record)
                self._report_state(record)  # a resumed job's progress series counts from here
            self._jobs[record.job_id] = record
            for result in records.staged(record.job_id):
                if record.state.final or record.segment(result.segment.key).done:
                    records.unstage(record.job_id, result.segment.key)  # committed before the crash
                else:
                    self._staged.setdefault(record.job_id, {})[result.segment.key] = result

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
                len(r.pending()) - len(self._busy_keys(r.job_id))
                for r in self._jobs.values()
                if r.state in (JobState.QUEUED, JobState.RUNNING)
            )

    # ---- the loop --------------------------------------------------------------------------

    def step(self, timeout_s: float = STEP_S) -> None:
        for part in (self._advance_states, lambda: self._collect(timeout_s), self._commit_staged, self._submit):
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
            if name is None or running is None or record is None:
                continue
            if isinstance(outcome, SegmentResult):
                with self._lock:
                    keep = record.state is JobState.RUNNING  # cancelled meanwhile: keep only what finished before
                    if not keep:
                        self._yielded(running, outcome.segment.key)
                if keep:
                    self._commit(record, outcome, running)
                continue
            with self._lock:
                self._running.pop(name, None)
                self._chain_over(record, running.segments, outcome)

    def _commit(self, record: JobRecord, result: SegmentResult, chain: _Running | None = None) -> None:
        """Stage, ingest, mark done, unstage (the commit point: see the module). `chain`:
        the running chain that yielded it, which keeps the segment until it is staged."""
        key = result.segment.key
        with self._lock:
            staged = key in self._staged.get(record.job_id, {})
        if not staged:
            try:
                self.records.stage(record.job_id, result)
            except Exception:
                log.exception("job %s segment %s: its result could not be staged; it runs again", record.job_id, key)
                if chain is not None:
                    with self._lock:
                        self._yielded(chain, key)
                return
            with self._lock:
                self._staged.setdefault(record.job_id, {})[key] = result
                if chain is not None:
                    self._yielded(chain, key)
        # Outside the lock: the writer's deadline must not hold up requests. The staged
        # segment counts as in flight meanwhile, so a cancel waits for it.
        try:
            self.sink.ingest(result.events)
        except Exception:
            log.exception(
                "job %s segment %s: its events could not be stored; the next step tries again", record.job_id, key
            )
            return
        with self._lock:
            self._segment_done(record, result)
            self._staged.get(record.job_id, {}).pop(key, None)
            if not self._staged.get(record.job_id, True):
                del self._staged[record.job_id]
        self.records.unstage(record.job_id, key)

    @staticmethod
    def _yielded(chain: _Running, key: str) -> None:
        """The chain is done with segment `key` (its result is staged, or dropped)."""
        chain.segments = [s for s in chain.segments if s.key != key]

    def _commit_staged(self) -> None:
        with self._lock:
            waiting = [
                (self._jobs[job_id], result)
                for job_id, results in self._staged.items()
                if job_id in self._jobs
                for result in results.values()
            ]
        for record, result in waiting:
            if record.state in (JobState.RUNNING, JobState.CANCELLING):
                self._commit(record, result)
            else:  # a job that ended meanwhile (it cannot finish a segment any more)
                with self._lock:
                    self._staged.get(record.job_id, {}).pop(result.segment.key, None)
                self.records.unstage(record.job_id, result.segment.key)

    def _segment_done(self, record: JobRecord, result: SegmentResult) -> None:
        """A segment's events are in the store: mark it done and save the record."""
        segment = result.segment
        if record.segment(segment.key).done:
            return
        record.segment_finished(result)
        if self.metrics is not None and self.metrics.running(record.job_id):
            duration = record.files[segment.file_index].duration_s
            self.metrics.segment_finished(
                record.job_id,
                frames=result.owned_frames,
                footage_s=segment.length_s(duration),
                wall_s=result.wall_s,
            )
        self._save(record)

    def _chain_over(self, record: JobRecord, left: list[Segment], outcome: object) -> None:
        """A chain's task ended; `left`: its segments without a result. They are pending
        again; the first of them, the one the chain was in, counts an attempt."""
        if not left or record.state is not JobState.RUNNING:
            return  # all yielded, or a cancelled job, which keeps only the segments finished before
        segment = min(left, key=lambda s: s.index)
        segment_record = record.segment(segment.key)
        if isinstance(outcome, ChainEnded):
            outcome = f"the chain ended without a result for segments {', '.join(s.key for s in left)}"
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
                busy = self._busy_keys(record.job_id)
                pending = [s for s in record.pending() if s.key not in busy]
                chains = len(self._running_of(record.job_id))
                if not pending or chains >= self.config.max_in_flight:
                    continue
                free = min(slots, self.config.max_in_flight - chains)
                if free <= 0:
                    if not self._in_flight(record.job_id):
                        waiting[record.job_id] = room.waiting or "waiting for room for batch work"
                    continue

                def length_s(segment: Segment, record: JobRecord = record) -> float:
                    return segment.length_s(record.files[segment.file_index].duration_s)

                for chain in plan_chains(pending, free, length_s)[:free]:
                    handle = self.executor.submit(record, chain)
                    name = f"{record.job_id}/{chain[0].key}"
                    self._running[name] = _Running(record.job_id, chain, handle, chain[0].start_s)
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
        """Chains running, and staged results not yet committed (a cancel waits for both)."""
        return len(self._running_of(job_id)) + len(self._staged.get(job_id, {}))

    def _busy_keys(self, job_id: str) -> set[str]:
        """Segments not done that must not be submitted: in a running chain, or staged."""
        keys = {s.key for r in self._running_of(job_id) for s in r.segments}
        return keys | self._staged.get(job_id, {}).keys()

    def _view(self, record: JobRecord) -> JobView:
        running = {s.key: r.pts for r in self._running_of(record.job_id) for s in r.segments}
        running.update(dict.fromkeys(self._staged.get(record.job_id, {}), math.inf))  # all its footage, not yet done
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
