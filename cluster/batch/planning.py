"""From a request to a job record: inputs checked, files indexed and dated, config
fixed, segments cut. Plain functions; the manager calls them at submission.

Two kinds of input: files (paths or globs inside `batch.allowed_dirs`, dated by
`--start`, their names or metadata) or a camera's recorded range (`--from/--to`:
the segment files of its recording chain, each dated by the chain and clipped to
the range: `recorded.py`). A clipped file's first segment starts at the range's
start and decodes its warm-up before it; its last ends at the range's end.
"""

from __future__ import annotations

import bisect
import math
import shutil
from collections.abc import Callable
from pathlib import Path

from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig

from .inputs import InputError, resolve_inputs
from .job import JobFile, JobRecord, SegmentRecord
from .media import MediaError, MediaIndex, index_media
from .recorded import RecordedInput, lists_dir_for, recorded_inputs
from .requests import ReprocessRequest, RequestError
from .segments import Segment, plan_segments
from .timestamps import TimeSource, footage_starts, parse_time

# Warm-up beyond the longest loitering rule: the zone's entry must be seen too.
LOITERING_MARGIN_S = 5.0
# Motion histories of footage a segment's warm-up covers.
MOTION_MEMORY = 1.5


CameraDir = Callable[[CameraConfig], Path]  # where a camera's recordings are (RecordingCatalog.camera_dir)


def job_camera(camera: CameraConfig, request: ReprocessRequest) -> CameraConfig:
    """The camera's config with the request's overrides; the source is the job's files."""
    analysis = request.analysis or camera.analysis
    if request.fps is not None:
        analysis = analysis.model_copy(update={"fps": request.fps})
    update: dict[str, object] = {"analysis": analysis}
    if request.rules is not None:
        update["rules"] = request.rules
    try:
        return CameraConfig.model_validate({**camera.model_dump(), **{k: _dump(v) for k, v in update.items()}})
    except ValueError as exc:
        raise RequestError("rules" if request.rules is not None else "analysis", f"{exc}") from None


def warmup_for(camera: CameraConfig, config: BatchConfig) -> float:
    """The configured warm-up, raised to what the camera's analysis remembers: the
    motion background (MOG2 learns at 1/history per analysed frame; after 1.5
    histories a segment's model matches a run from the file's start closely enough
    that the same events come out: `tests/batch/test_runner.py`) and the longest
    loitering rule (its zone entry must be seen)."""
    analysis = camera.analysis
    motion = MOTION_MEMORY * analysis.motion.history / analysis.fps if analysis.motion.enabled else 0.0
    longest = max((zone.loitering_s or 0.0 for zone in camera.rules.zones), default=0.0)
    loitering = longest + LOITERING_MARGIN_S if longest else 0.0
    return max(config.warmup_s, motion, loitering)


def plan_job(
    job_id: str,
    camera: CameraConfig,
    request: ReprocessRequest,
    config: BatchConfig,
    *,
    submitted_by: str,
    now: float,
    camera_dir: CameraDir | None = None,
) -> JobRecord:
    """A QUEUED job for `request` on `camera` (its current config). Raises RequestError
    (the field and the file named) for anything that cannot be processed, and
    NothingRecorded for a recorded range with no footage."""
    if request.recorded:
        if request.files or request.start_time:
            raise RequestError(
                "recorded", "give either files (and --start) or a recorded range (--from/--to), not both"
            )
        return _plan_recorded(
            job_id, camera, request, config, submitted_by=submitted_by, now=now, camera_dir=camera_dir
        )
    try:
        paths = resolve_inputs(request.files, config.allowed_dirs, max_files=config.max_files)
    except InputError as exc:
        raise RequestError("files", exc.message) from None
    indexes = [_index(path) for path in paths]
    fixed = job_camera(camera, request)
    explicit = None
    if request.start_time:
        try:
            explicit = parse_time(request.start_time, fixed.timezone)
        except ValueError as exc:
            raise RequestError("start_time", str(exc)) from None
    try:
        starts = footage_starts(
            indexes,
            explicit=explicit,
            pattern=config.filename_time_pattern,
            time_format=config.filename_time_format,
            time_zone=fixed.timezone,
        )
    except ValueError as exc:
        raise RequestError("start_time", str(exc)) from None
    segment_s = request.segment_s or config.segment_s
    warmup = warmup_for(fixed, config)
    files = tuple(
        JobFile(str(index.path), index.duration_s, index.fps, index.frame_count, start.epoch_s, start.source)
        for index, start in zip(indexes, starts, strict=True)
    )
    segments = [
        SegmentRecord(segment)
        for number, index in enumerate(indexes)
        for segment in plan_segments(index, file_index=number, target_s=segment_s, warmup_s=warmup)
    ]
    return JobRecord(
        job_id=job_id, camera=fixed, files=files, segments=segments, submitted_by=submitted_by, submitted_at=now
    )


def check_recorded_range(start: float | None, end: float | None, config: BatchConfig) -> tuple[float, float]:
    """[start, end) of a recorded range, both given, in order and not longer than
    `batch.max_range_s`. Raises RequestError naming the field."""
    if start is None or not math.isfinite(start):
        raise RequestError("from", "a recorded range needs its start (--from)")
    if end is None or not math.isfinite(end):
        raise RequestError("to", "a recorded range needs its end (--to)")
    if not end > start:
        raise RequestError("to", f"must be after from ({end:.3f} is not after {start:.3f})")
    if end - start > config.max_range_s:
        raise RequestError(
            "to",
            f"the range is {end - start:.0f} s; at most {config.max_range_s:.0f} s per job (batch.max_range_s): "
            "split it into several jobs",
        )
    return start, end


def _plan_recorded(
    job_id: str,
    camera: CameraConfig,
    request: ReprocessRequest,
    config: BatchConfig,
    *,
    submitted_by: str,
    now: float,
    camera_dir: CameraDir | None,
) -> JobRecord:
    start, end = check_recorded_range(request.recorded_from, request.recorded_to, config)
    if camera.recording.directory is not None:
        directory = Path(camera.recording.directory) / camera.id
    elif camera_dir is not None:
        directory = camera_dir(camera)
    else:
        raise RequestError("recorded", f"camera {camera.id!r} has no recordings directory on this server")
    lists_dir = lists_dir_for(directory, job_id)
    inputs = recorded_inputs(camera.id, directory, start, end, lists_dir=lists_dir)
    try:
        fixed, files, segments = _recorded_files(camera, request, config, inputs.files)
    except BaseException:
        shutil.rmtree(lists_dir, ignore_errors=True)  # no job: no concat lists left behind
        raise
    return JobRecord(
        job_id=job_id,
        camera=fixed,
        files=tuple(files),
        segments=segments,
        submitted_by=submitted_by,
        submitted_at=now,
        recorded_range=(start, end),
        not_recorded=inputs.not_recorded,
    )


def _recorded_files(
    camera: CameraConfig, request: ReprocessRequest, config: BatchConfig, inputs: tuple[RecordedInput, ...]
) -> tuple[CameraConfig, list[JobFile], list[SegmentRecord]]:
    segment_files = sum(len(f.segments) for f in inputs)
    if segment_files > config.max_files:
        raise RequestError("to", f"the range holds {segment_files} segment files; at most {config.max_files}")
    fixed = job_camera(camera, request)
    segment_s = request.segment_s or config.segment_s
    warmup = warmup_for(fixed, config)
    files: list[JobFile] = []
    segments: list[SegmentRecord] = []
    for number, recorded in enumerate(inputs):
        index = _index(recorded.path)
        files.append(
            JobFile(
                str(index.path),
                index.duration_s,
                index.fps,
                index.frame_count,
                recorded.start,
                TimeSource.RECORDING,
                clip_start_s=recorded.clip_start_s,
                clip_end_s=recorded.clip_end_s,
                segments=tuple(str(p) for p in recorded.segments),
            )
        )
        planned = plan_segments(index, file_index=number, target_s=segment_s, warmup_s=warmup)
        segments.extend(SegmentRecord(s) for s in clip_segments(planned, index, recorded, warmup_s=warmup))
    return fixed, files, segments


def clip_segments(
    planned: tuple[Segment, ...], index: MediaIndex, recorded: RecordedInput, *, warmup_s: float
) -> list[Segment]:
    """The segments of a file limited to its clip: the first starts at `clip_start_s`
    (decoding from a keyframe `warmup_s` before it), the last ends at `clip_end_s`;
    their ranges partition the clip, numbered from 0 again."""
    low, high = recorded.clip_start_s, recorded.clip_end_s
    keyframes = sorted(index.keyframes) or [0.0]
    kept = [s for s in planned if (s.end_s is None or s.end_s > low) and (high is None or s.start_s < high)]
    clipped = []
    for number, segment in enumerate(kept):
        start = max(segment.start_s, low)
        end = segment.end_s if high is None or (segment.end_s is not None and segment.end_s <= high) else high
        decode_from = segment.decode_from_s
        if start > segment.start_s:  # the range begins inside it: warm up before the range
            position = bisect.bisect_right(keyframes, start - warmup_s) - 1
            decode_from = keyframes[max(0, position)]
        clipped.append(Segment(segment.file_index, number, start, end, min(decode_from, start)))
    return clipped


def _index(path: Path) -> MediaIndex:
    try:
        return index_media(path)
    except MediaError as exc:
        raise RequestError("files", str(exc)) from None


def _dump(value: object) -> object:
    return value.model_dump() if hasattr(value, "model_dump") else value


__all__ = [
    "CameraDir",
    "ReprocessRequest",
    "RequestError",
    "check_recorded_range",
    "clip_segments",
    "job_camera",
    "plan_job",
    "warmup_for",
]
