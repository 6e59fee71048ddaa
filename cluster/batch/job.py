"""A reprocessing job: what was asked (spec), what is done (record), and its states.

The state machine (`JobRecord` methods are its only transitions; any other move
raises `InvalidTransition`):

        submit
          │
          v
       QUEUED ──cancel──────────────────────────────────────> CANCELLED
          │ start                                                  ^
          v                                                        │ nothing in flight
       RUNNING ──cancel──> CANCELLING ─────────────────────────────┘
          │
          │ every segment finished (done, or damaged: reported in `damaged`)
          v
       SUCCEEDED      or FAILED when no frame at all could be analysed

    manager restart: QUEUED and RUNNING jobs resume with the segments not yet
    finished (RUNNING stays RUNNING); CANCELLING becomes CANCELLED.

A segment is `pending` until its result was written to the event store, then
`done`; the record is persisted after every change, so a restart never runs a
finished segment again, and a segment that was running when the manager or its
worker died runs again from its start, giving the same event ids (the store
keeps one row each). SUCCEEDED, FAILED and CANCELLED are final.
"""

from __future__ import annotations

import enum
import secrets
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from cluster.config import CameraConfig
from cluster.domain import Event

from .recorded import NotRecordedRange
from .runner import DamagedRange, SegmentResult
from .segments import Segment
from .timestamps import TimeSource


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class InvalidTransition(RuntimeError):
    """A move the state machine does not have (a bug in the caller, or a late request)."""


class JobNotFound(LookupError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no reprocessing job {job_id!r}")
        self.job_id = job_id

    def __reduce__(self):
        return (type(self), (self.job_id,))


@dataclass(frozen=True, slots=True)
class JobFile:
    """One input file as the job saw it at submission."""

    path: str
    duration_s: float
    fps: float
    frame_count: int
    footage_start: float  # epoch seconds of its first frame
    time_source: TimeSource
    # The part of the file the job covers, in its media time (a recorded range clips
    # its first and last segment files); frames outside are decoded only as warm-up.
    clip_start_s: float = 0.0
    clip_end_s: float | None = None  # None: to the end of the file
    # A recorded range's input: the camera's segment files it reads (`path` is then the
    # segment itself, or the concat list of a run of contiguous ones: recorded.py).
    segments: tuple[str, ...] = ()

    @property
    def footage_s(self) -> float:
        end = self.duration_s if self.clip_end_s is None else min(self.clip_end_s, self.duration_s)
        return max(0.0, end - self.clip_start_s)

    @property
    def frames(self) -> int:
        """The frames of the clip (the file's count when it is whole)."""
        if self.clip_start_s == 0.0 and self.clip_end_s is None:
            return self.frame_count
        return min(self.frame_count, round(self.footage_s * self.fps))


@dataclass(frozen=True, slots=True)
class EventCount:
    type: str
    class_name: str | None
    rule: str
    count: int


@dataclass(slots=True)
class SegmentRecord:
    segment: Segment
    done: bool = False
    frames_grabbed: int = 0
    frames_analysed: int = 0
    owned_frames: int = 0
    events: int = 0  # distinct events it owns
    event_counts: tuple[EventCount, ...] = ()
    wall_s: float = 0.0
    damaged: tuple[DamagedRange, ...] = ()
    attempts: int = 0
    worker: str = ""


@dataclass(slots=True)
class JobRecord:
    job_id: str
    camera: CameraConfig  # the camera's config with the job's overrides, fixed at submission
    files: tuple[JobFile, ...]
    segments: list[SegmentRecord]
    submitted_by: str
    submitted_at: float
    state: JobState = JobState.QUEUED
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    # When this manager run began working on it, and the footage done before, for the speed.
    resumed_at: float | None = field(default=None)
    footage_done_at_resume_s: float = field(default=0.0)
    # A recorded range's job: the range asked for, and the parts of it nothing recorded.
    recorded_range: tuple[float, float] | None = None
    not_recorded: tuple[NotRecordedRange, ...] = ()

    @property
    def camera_id(self) -> str:
        return self.camera.id

    # ---- transitions ---------------------------------------------------------------------

    def start(self, now: float) -> None:
        self._require(JobState.QUEUED, "start")
        self.state = JobState.RUNNING
        self.started_at = now
        self.resume(now)

    def resume(self, now: float) -> None:
        """This manager run starts (or restarts) working on the job."""
        if self.state is JobState.CANCELLING:
            self.state, self.finished_at = JobState.CANCELLED, now
            return
        self.resumed_at = now
        self.footage_done_at_resume_s = self.footage_done_s()

    def segment_finished(self, result: SegmentResult) -> None:
        if self.state not in (JobState.RUNNING, JobState.CANCELLING):
            raise InvalidTransition(f"job {self.job_id} is {self.state.value}: a segment cannot finish now")
        record = self.segment(result.segment.key)
        record.done = True
        record.frames_grabbed = result.frames_grabbed
        record.frames_analysed = result.frames_analysed
        record.owned_frames = result.owned_frames
        record.event_counts = count_events(result.events)
        record.events = sum(c.count for c in record.event_counts)
        record.wall_s = result.wall_s
        record.damaged = result.damaged
        record.worker = result.worker

    def cancel(self, now: float, *, in_flight: int) -> None:
        if self.state.final:
            raise InvalidTransition(f"job {self.job_id} is already {self.state.value}")
        if self.state is JobState.QUEUED or in_flight == 0:
            self.state, self.finished_at = JobState.CANCELLED, now
        else:
            self.state = JobState.CANCELLING

    def in_flight_ended(self, now: float, *, in_flight: int) -> None:
        """A cancelled job's tasks are over."""
        if self.state is JobState.CANCELLING and in_flight == 0:
            self.state, self.finished_at = JobState.CANCELLED, now

    def finish_if_complete(self, now: float) -> bool:
        if self.state is not JobState.RUNNING or not all(s.done for s in self.segments):
            return False
        analysed = sum(s.frames_analysed for s in self.segments)
        if analysed == 0:
            self.state, self.error = JobState.FAILED, "no frame of the footage could be analysed"
        else:
            self.state = JobState.SUCCEEDED
        self.finished_at = now
        return True

    def _require(self, state: JobState, move: str) -> None:
        if self.state is not state:
            raise InvalidTransition(f"job {self.job_id} is {self.state.value}: cannot {move} it")

    # ---- reading -------------------------------------------------------------------------

    def segment(self, key: str) -> SegmentRecord:
        for record in self.segments:
            if record.segment.key == key:
                return record
        raise KeyError(f"job {self.job_id} has no segment {key}")

    def pending(self) -> list[Segment]:
        return [s.segment for s in self.segments if not s.done]

    @property
    def frames_total(self) -> int:
        return sum(f.frames for f in self.files)

    @property
    def footage_total_s(self) -> float:
        return sum(f.footage_s for f in self.files)

    def footage_done_s(self, in_flight_pts: dict[str, float] | None = None) -> float:
        """Seconds of footage finished, plus how far the running segments got."""
        done = 0.0
        for record in self.segments:
            duration = self.files[record.segment.file_index].duration_s
            if record.done:
                done += record.segment.length_s(duration)
            elif in_flight_pts and record.segment.key in in_flight_pts:
                reached = in_flight_pts[record.segment.key] - record.segment.start_s
                done += min(max(0.0, reached), record.segment.length_s(duration))
        return done

    def damaged(self) -> tuple[DamagedRange, ...]:
        return tuple(d for s in self.segments for d in s.damaged)

    def event_counts(self) -> tuple[EventCount, ...]:
        totals: Counter[tuple[str, str | None, str]] = Counter()
        for record in self.segments:
            for c in record.event_counts:
                totals[(c.type, c.class_name, c.rule)] += c.count
        return tuple(EventCount(t, k, r, n) for (t, k, r), n in sorted(totals.items(), key=_count_order))

    # ---- persistence -----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "camera": self.camera.model_dump(mode="json"),
            "files": [{**asdict(f), "time_source": f.time_source.value} for f in self.files],
            "segments": [
                {
                    "segment": asdict(s.segment),
                    "done": s.done,
                    "frames_grabbed": s.frames_grabbed,
                    "frames_analysed": s.frames_analysed,
                    "owned_frames": s.owned_frames,
                    "events": s.events,
                    "event_counts": [asdict(c) for c in s.event_counts],
                    "wall_s": s.wall_s,
                    "damaged": [asdict(d) for d in s.damaged],
                    "attempts": s.attempts,
                    "worker": s.worker,
                }
                for s in self.segments
            ],
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at,
            "state": self.state.value,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
            "recorded_range": list(self.recorded_range) if self.recorded_range is not None else None,
            "not_recorded": [asdict(n) for n in self.not_recorded],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        return cls(
            job_id=data["job_id"],
            camera=CameraConfig.model_validate(data["camera"]),
            files=tuple(
                JobFile(**{**f, "time_source": TimeSource(f["time_source"]), "segments": tuple(f.get("segments", ()))})
                for f in data["files"]
            ),
            segments=[
                SegmentRecord(
                    segment=Segment(**s["segment"]),
                    done=s["done"],
                    frames_grabbed=s["frames_grabbed"],
                    frames_analysed=s["frames_analysed"],
                    owned_frames=s["owned_frames"],
                    events=s["events"],
                    event_counts=tuple(EventCount(**c) for c in s["event_counts"]),
                    wall_s=s["wall_s"],
                    damaged=tuple(DamagedRange(**d) for d in s["damaged"]),
                    attempts=s.get("attempts", 0),
                    worker=s.get("worker", ""),
                )
                for s in data["segments"]
            ],
            submitted_by=data["submitted_by"],
            submitted_at=data["submitted_at"],
            state=JobState(data["state"]),
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            error=data["error"],
            recorded_range=_range(data.get("recorded_range")),
            not_recorded=tuple(NotRecordedRange(**n) for n in data.get("not_recorded", ())),
        )


def _range(value: list[float] | None) -> tuple[float, float] | None:
    return (float(value[0]), float(value[1])) if value else None


def count_events(revisions: tuple[Event, ...]) -> tuple[EventCount, ...]:
    """Distinct events among `revisions`, counted by (type, class, rule)."""
    latest: dict[str, Event] = {}
    for event in revisions:
        latest[event.event_id] = event
    totals = Counter((e.type.value, e.class_name, e.rule) for e in latest.values())
    return tuple(EventCount(t, k, r, n) for (t, k, r), n in sorted(totals.items(), key=_count_order))


def _count_order(item: tuple[tuple[str, str | None, str], int]) -> tuple[str, str, str]:
    (event_type, class_name, rule), _ = item
    return (event_type, class_name or "", rule)


def new_job_id(now: float | None = None) -> str:
    """'job-20261128T220000-1a2b3c': sortable by submission, unique."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"job-{stamp}-{secrets.token_hex(3)}"
