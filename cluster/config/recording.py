"""Recording: what a camera keeps of its footage (`recording:` per camera), for how
long, and where segments go (`recordings:` at the top level)."""

from __future__ import annotations

import enum
import re
from pathlib import Path

from pydantic import Field, field_validator

from .base import StrictModel

DAY_S = 86400.0
MIB = 1024 * 1024
GIB = 1024 * MIB
GROUP_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class RecordingMode(str, enum.Enum):
    """When a camera writes segments."""

    OFF = "off"  # nothing is recorded
    CONTINUOUS = "continuous"  # always, while the stream is live
    MOTION_ONLY = "motion-only"  # while the analysis sees motion, with pre- and post-roll
    EVENTS_ONLY = "events-only"  # while an event (rule, tamper) is open, with pre- and post-roll

    def __str__(self) -> str:
        return self.value


class RetentionConfig(StrictModel):
    """How long segments are kept: by age per recording mode and by a disk budget.
    Segments under an evidence hold are kept past both until the hold is released."""

    continuous_days: float = Field(
        7.0, gt=0, le=3650, description="Age after which segments recorded in continuous mode are deleted."
    )
    motion_days: float = Field(
        14.0, gt=0, le=3650, description="Age after which segments recorded in motion-only mode are deleted."
    )
    events_days: float = Field(
        30.0, gt=0, le=3650, description="Age after which segments recorded in events-only mode are deleted."
    )
    max_bytes: int = Field(
        0,
        ge=0,
        le=1 << 50,
        description="Disk budget of this camera's segments in bytes (0: none); beyond it the oldest segments "
        "not under a hold are deleted first.",
    )
    interval_s: float = Field(
        60.0, ge=1.0, le=86400.0, description="How often retention runs in the background (and after each segment)."
    )

    def max_age_s(self, mode: RecordingMode) -> float:
        days = {
            RecordingMode.CONTINUOUS: self.continuous_days,
            RecordingMode.MOTION_ONLY: self.motion_days,
            RecordingMode.EVENTS_ONLY: self.events_days,
        }.get(mode, self.continuous_days)
        return days * DAY_S


class RecordingConfig(StrictModel):
    """Stream-copy recording of the camera's own packets (no re-encoding), in segments
    that start on keyframes; applied live (turning it on or off never reconnects)."""

    mode: RecordingMode = Field(
        RecordingMode.OFF, description="off, continuous, motion-only or events-only (with pre- and post-roll)."
    )
    pre_roll_s: float = Field(
        5.0, ge=0.0, le=120.0, description="Trigger modes: footage kept from before the motion or event starts."
    )
    post_roll_s: float = Field(
        10.0, ge=0.0, le=600.0, description="Trigger modes: footage kept after the motion stops or the event ends."
    )
    segment_s: float = Field(
        60.0,
        ge=2.0,
        le=3600.0,
        description="Length of a segment; a new one starts at the first keyframe after it (so a segment can be "
        "a keyframe interval longer).",
    )
    directory: Path | None = Field(
        None,
        description="Where this camera's segments go (an absolute path); None: the `recordings:` section's "
        "directory for the camera's group, else its default under runtime.state_dir.",
    )
    retention: RetentionConfig = Field(default_factory=RetentionConfig, description="How long segments are kept.")
    queue_packets: int = Field(
        2048,
        ge=16,
        le=1_000_000,
        description="Packets waiting for the disk at most; a disk slower than that drops recording (a gap), "
        "never frames.",
    )
    min_free_bytes: int = Field(
        64 * MIB,
        ge=0,
        le=1 << 50,
        description="Recording stops (loudly: recording state, metric, alert) when the directory's filesystem "
        "has less free space than this, and resumes by itself when there is more.",
    )
    retry_s: float = Field(
        5.0, ge=0.1, le=600.0, description="How often a stopped recording checks whether the disk takes writes again."
    )

    @property
    def enabled(self) -> bool:
        return self.mode is not RecordingMode.OFF

    @property
    def triggered(self) -> bool:
        return self.mode in (RecordingMode.MOTION_ONLY, RecordingMode.EVENTS_ONLY)


class RecordingStorageConfig(StrictModel):
    """Where cameras record when their `recording.directory` is not set."""

    directory: Path = Field(
        Path("recordings"), description="Default directory of every camera's segments; relative: under state_dir."
    )
    group_directories: dict[str, Path] = Field(
        default_factory=dict,
        max_length=256,
        description="A directory per camera group (e.g. a second disk for 'ward-3'); a camera uses the first "
        "of its groups listed here. Relative paths are under runtime.state_dir.",
    )

    @field_validator("group_directories")
    @classmethod
    def _group_names(cls, value: dict[str, Path]) -> dict[str, Path]:
        for group in value:
            if not GROUP_PATTERN.match(group):
                raise ValueError(f"group {group!r} is not a group name (letters, digits, '_', '.', '-')")
        return value

    def directory_for(self, groups: list[str], state_dir: Path) -> Path:
        """The recordings directory of a camera in `groups` (absolute)."""
        chosen = next((self.group_directories[g] for g in groups if g in self.group_directories), self.directory)
        return (chosen if chosen.is_absolute() else Path(state_dir) / chosen).resolve()
