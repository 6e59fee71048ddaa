"""From a request to a job record: inputs checked, files indexed and dated, config
fixed, segments cut. Plain functions; the manager calls them at submission."""

from __future__ import annotations

from dataclasses import dataclass

from cluster.config import AnalysisConfig, CameraConfig, RulesConfig
from cluster.config.batch import BatchConfig

from .inputs import InputError, resolve_inputs
from .job import JobFile, JobRecord, SegmentRecord
from .media import MediaError, index_media
from .segments import plan_segments
from .timestamps import footage_starts, parse_time

# Warm-up beyond the longest loitering rule: the zone's entry must be seen too.
LOITERING_MARGIN_S = 5.0
# Motion histories of footage a segment's warm-up covers.
MOTION_MEMORY = 1.5


@dataclass(frozen=True, slots=True)
class ReprocessRequest:
    """What a caller asks for. `rules`/`analysis` replace the camera's for this job
    only; `fps` replaces `analysis.fps`; `start_time` is ISO 8601 (see timestamps)."""

    camera_id: str
    files: tuple[str, ...]
    start_time: str | None = None
    rules: RulesConfig | None = None
    analysis: AnalysisConfig | None = None
    fps: float | None = None
    segment_s: float | None = None


class RequestError(ValueError):
    """A request that cannot become a job; `field` names the part that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __reduce__(self):
        return (type(self), (self.field, self.message))


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
) -> JobRecord:
    """A QUEUED job for `request` on `camera` (its current config). Raises RequestError
    (the field and the file named) for anything that cannot be processed."""
    try:
        paths = resolve_inputs(request.files, config.allowed_dirs, max_files=config.max_files)
    except InputError as exc:
        raise RequestError("files", exc.message) from None
    indexes = []
    for path in paths:
        try:
            indexes.append(index_media(path))
        except MediaError as exc:
            raise RequestError("files", str(exc)) from None
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


def _dump(value: object) -> object:
    return value.model_dump() if hasattr(value, "model_dump") else value
