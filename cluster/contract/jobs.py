"""matthan.v1.Jobs messages <-> `cluster.batch` values, both directions."""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import ValidationError

from ..batch.job import EventCount, JobFile, JobState
from ..batch.progress import JobView
from ..batch.recorded import NotRecordedRange
from ..batch.requests import ReprocessRequest
from ..batch.runner import DamagedRange
from ..batch.timestamps import TimeSource
from ..config import AnalysisConfig, RulesConfig
from ..config.root import format_validation_error
from ..proto.matthan.v1 import jobs_pb2
from .errors import RequestError
from .wire import checked_timestamp, to_timestamp

MAX_FILES = 10_000
MAX_PATH_LENGTH = 4096

_STATES: dict[JobState, Any] = {  # values: jobs_pb2.JobState members
    JobState.QUEUED: jobs_pb2.JOB_STATE_QUEUED,
    JobState.RUNNING: jobs_pb2.JOB_STATE_RUNNING,
    JobState.CANCELLING: jobs_pb2.JOB_STATE_CANCELLING,
    JobState.SUCCEEDED: jobs_pb2.JOB_STATE_SUCCEEDED,
    JobState.FAILED: jobs_pb2.JOB_STATE_FAILED,
    JobState.CANCELLED: jobs_pb2.JOB_STATE_CANCELLED,
}
_FROM_PROTO: dict[int, JobState] = {value: state for state, value in _STATES.items()}


def job_state_to_proto(state: JobState) -> Any:
    return _STATES[state]


def job_state_from_proto(value: int, field: str = "state") -> JobState:
    try:
        return _FROM_PROTO[value]
    except KeyError:
        raise RequestError(field, f"{value} is not a job state") from None


# ---------------------------------------------------------------- requests


def reprocess_request_to_proto(request: ReprocessRequest) -> jobs_pb2.SubmitReprocessRequest:
    message = jobs_pb2.SubmitReprocessRequest(
        camera_id=request.camera_id,
        files=list(request.files),
        start_time=request.start_time or "",
        rules_json=json.dumps(request.rules.model_dump(mode="json")) if request.rules is not None else "",
        analysis_json=json.dumps(request.analysis.model_dump(mode="json")) if request.analysis is not None else "",
        fps=request.fps or 0.0,
        segment_s=request.segment_s or 0.0,
    )
    if request.recorded:
        _set_range(message.recorded, request.recorded_from, request.recorded_to)
    return message


def _set_range(message: jobs_pb2.CameraRange, start: float | None, end: float | None) -> None:
    message.SetInParent()
    if start is not None:
        getattr(message, "from").CopyFrom(to_timestamp(start))
    if end is not None:
        message.to.CopyFrom(to_timestamp(end))


def reprocess_request_from_proto(message: jobs_pb2.SubmitReprocessRequest) -> ReprocessRequest:
    """The request, checked field by field (RequestError names the field)."""
    files = list(message.files)
    recorded_from = recorded_to = None
    if message.HasField("recorded"):
        if files:
            raise RequestError("recorded", "give either files or a recorded range, not both")
        if message.start_time:
            raise RequestError("start_time", "a recorded range is dated by the recording: give no start time")
        recorded_from, recorded_to = recorded_range_from_proto(message.recorded, "recorded")
    elif not files:
        raise RequestError("files", "name at least one file or glob, or a recorded range")
    if len(files) > MAX_FILES:
        raise RequestError("files", f"at most {MAX_FILES} entries, got {len(files)}")
    for index, name in enumerate(files):
        if not name.strip() or len(name) > MAX_PATH_LENGTH or "\x00" in name:
            raise RequestError(f"files[{index}]", f"{name[:80]!r} is not a file name")
    return ReprocessRequest(
        camera_id=message.camera_id,
        files=tuple(files),
        start_time=message.start_time or None,
        rules=_model("rules_json", message.rules_json, RulesConfig),
        analysis=_model("analysis_json", message.analysis_json, AnalysisConfig),
        fps=_positive("fps", message.fps, 60.0),
        segment_s=_positive("segment_s", message.segment_s, 3600.0),
        recorded_from=recorded_from,
        recorded_to=recorded_to,
    )


def recorded_range_from_proto(message: jobs_pb2.CameraRange, field: str) -> tuple[float, float]:
    """[from, to) of a recorded range: both given, valid Timestamps, `to` after `from`."""
    if not message.HasField("from"):
        raise RequestError(f"{field}.from", "the range needs its start")
    if not message.HasField("to"):
        raise RequestError(f"{field}.to", "the range needs its end")
    start = checked_timestamp(f"{field}.from", getattr(message, "from"))
    end = checked_timestamp(f"{field}.to", message.to)
    if not end > start:
        raise RequestError(f"{field}.to", "must be after from")
    return start, end


def _model(field: str, text: str, model):
    if not text:
        return None
    try:
        return model.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise RequestError(field, f"not JSON: {exc.msg} at character {exc.pos}") from None
    except ValidationError as exc:
        raise RequestError(field, format_validation_error(exc)) from None


def _positive(field: str, value: float, high: float) -> float | None:
    if value == 0:
        return None
    if not math.isfinite(value) or not 0 < value <= high:
        raise RequestError(field, f"{value:g} is out of range (0 for the default, or up to {high:g})")
    return value


# ---------------------------------------------------------------- jobs


def job_to_proto(view: JobView) -> jobs_pb2.Job:
    message = jobs_pb2.Job(
        job_id=view.job_id,
        camera_id=view.camera_id,
        state=job_state_to_proto(view.state),
        submitted_by=view.submitted_by,
        submitted_at=view.submitted_at,
        files=[
            jobs_pb2.JobFile(
                path=f.path,
                duration_s=f.duration_s,
                fps=f.fps,
                frame_count=f.frame_count,
                footage_start=f.footage_start,
                time_source=f.time_source.value,
                clip_start_s=f.clip_start_s,
                **({"clip_end_s": f.clip_end_s} if f.clip_end_s is not None else {}),
                segments=list(f.segments),
            )
            for f in view.files
        ],
        not_recorded=[
            jobs_pb2.NotRecordedRange(start=to_timestamp(n.start), end=to_timestamp(n.end), reason=n.reason)
            for n in view.not_recorded
        ],
        segments_total=view.segments_total,
        segments_done=view.segments_done,
        segments_running=view.segments_running,
        frames_total=view.frames_total,
        frames_done=view.frames_done,
        frames_analysed=view.frames_analysed,
        footage_total_s=view.footage_total_s,
        footage_done_s=view.footage_done_s,
        speed=view.speed,
        event_counts=[
            jobs_pb2.JobEventCount(type=c.type, class_name=c.class_name or "", rule=c.rule, count=c.count)
            for c in view.event_counts
        ],
        error=view.error or "",
        waiting=view.waiting,
    )
    for name in ("started_at", "finished_at", "eta_s"):
        value = getattr(view, name)
        if value is not None:
            setattr(message, name, value)
    if view.recorded_range is not None:
        _set_range(message.recorded, *view.recorded_range)
    for damaged in view.damaged:
        entry = message.damaged.add(
            file_index=damaged.file_index,
            path=view.files[damaged.file_index].path if damaged.file_index < len(view.files) else "",
            start_s=damaged.start_s,
            reason=damaged.reason,
        )
        if damaged.end_s is not None:
            entry.end_s = damaged.end_s
    return message


def job_from_proto(message: jobs_pb2.Job) -> JobView:
    return JobView(
        job_id=message.job_id,
        camera_id=message.camera_id,
        state=job_state_from_proto(message.state),
        submitted_by=message.submitted_by,
        submitted_at=message.submitted_at,
        started_at=message.started_at if message.HasField("started_at") else None,
        finished_at=message.finished_at if message.HasField("finished_at") else None,
        files=tuple(
            JobFile(
                f.path,
                f.duration_s,
                f.fps,
                f.frame_count,
                f.footage_start,
                TimeSource(f.time_source),
                clip_start_s=f.clip_start_s,
                clip_end_s=f.clip_end_s if f.HasField("clip_end_s") else None,
                segments=tuple(f.segments),
            )
            for f in message.files
        ),
        segments_total=message.segments_total,
        segments_done=message.segments_done,
        segments_running=message.segments_running,
        frames_total=message.frames_total,
        frames_done=message.frames_done,
        frames_analysed=message.frames_analysed,
        footage_total_s=message.footage_total_s,
        footage_done_s=message.footage_done_s,
        speed=message.speed,
        eta_s=message.eta_s if message.HasField("eta_s") else None,
        damaged=tuple(
            DamagedRange(d.file_index, d.start_s, d.end_s if d.HasField("end_s") else None, d.reason)
            for d in message.damaged
        ),
        event_counts=tuple(EventCount(c.type, c.class_name or None, c.rule, c.count) for c in message.event_counts),
        error=message.error or None,
        waiting=message.waiting,
        recorded_range=(
            (
                checked_timestamp("recorded.from", getattr(message.recorded, "from")),
                checked_timestamp("recorded.to", message.recorded.to),
            )
            if message.HasField("recorded")
            else None
        ),
        not_recorded=tuple(
            NotRecordedRange(
                checked_timestamp("not_recorded.start", n.start), checked_timestamp("not_recorded.end", n.end), n.reason
            )
            for n in message.not_recorded
        ),
    )
