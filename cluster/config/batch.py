"""The `batch:` section: reprocessing recorded footage (`matthan reprocess`, `matthan.v1.Jobs`)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from .base import StrictModel


class BatchConfig(StrictModel):
    """Where footage may be read from, how files are cut into segments, and how much of
    the cluster a job may take beside the live cameras."""

    allowed_dirs: list[Path] = Field(
        default_factory=list,
        max_length=64,
        description="Directories whose files may be reprocessed (absolute; their subdirectories too). "
        "Empty: reprocessing is off. A file elsewhere, or reached through '..' or a link out of them, is refused.",
    )
    segment_s: float = Field(
        300.0,
        ge=1.0,
        le=3600.0,
        description="Target length of a segment (one Ray task), seconds of footage; each also decodes its warm-up.",
    )
    warmup_s: float = Field(
        10.0,
        ge=0.0,
        le=600.0,
        description="Footage decoded before a segment's start so motion models, tracks and zones are warm; "
        "raised to 1.5 motion histories (analysis.motion.history / analysis.fps) and to the longest loitering rule.",
    )
    max_tail_s: float = Field(
        120.0,
        ge=0.0,
        le=3600.0,
        description="How far past its end a segment follows the events that started in it before closing them.",
    )
    max_in_flight: int = Field(
        4, ge=1, le=1024, description="Segments running at once per job (also bounded by the free batch capacity)."
    )
    cpus_per_segment: float = Field(
        1.0,
        gt=0.0,
        le=64.0,
        description="CPU a segment task reserves, of the room the scheduler's accounting of the live cameras leaves "
        "on its node; its OpenCV threads.",
    )
    live_reserve_cpus: float = Field(
        1.0,
        ge=0.0,
        le=1024.0,
        description="CPU of the cluster batch tasks always leave idle (the nodes' placement headroom counts toward "
        "it), room for a camera that is added or moved.",
    )
    worker_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="OS niceness a segment's worker adds to the one Ray started it with (Ray's worker_niceness, "
        "15 by default; the sum is capped at 19), so live cameras run first.",
    )
    worker_idle_class: bool = Field(
        True,
        description="Run segments in Linux's SCHED_IDLE scheduling class: the kernel gives them only the CPU no "
        "camera, Ray process or other work of the node wants.",
    )
    filename_time_pattern: str = Field(
        r"(?P<time>\d{8}T\d{6})",
        min_length=1,
        max_length=256,
        description="Regular expression finding a file's start time in its name; group 'time' is parsed with "
        "filename_time_format in the camera's time zone.",
    )
    filename_time_format: str = Field(
        "%Y%m%dT%H%M%S", min_length=2, max_length=64, description="strptime format of the 'time' group."
    )
    max_range_s: float = Field(
        86_400.0,
        ge=1.0,
        le=31 * 86_400.0,
        description="Longest recorded range one job may reprocess (matthan reprocess --camera X --from --to), "
        "seconds of wall-clock time; a longer one is refused: split it into several jobs.",
    )
    max_files: int = Field(1000, ge=1, le=100_000, description="Files one job may name (after glob expansion).")
    keep_finished_jobs: int = Field(
        200, ge=1, le=100_000, description="Finished job records kept in runtime.state_dir/jobs (oldest go first)."
    )

    @field_validator("allowed_dirs")
    @classmethod
    def _absolute(cls, dirs: list[Path]) -> list[Path]:
        for path in dirs:
            if not path.is_absolute():
                raise ValueError(f"allowed directory {str(path)!r} must be absolute")
        return dirs

    @field_validator("filename_time_pattern")
    @classmethod
    def _pattern(cls, pattern: str) -> str:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if "time" not in compiled.groupindex:
            raise ValueError("the pattern needs a named group 'time', e.g. (?P<time>\\d{8}T\\d{6})")
        return pattern
