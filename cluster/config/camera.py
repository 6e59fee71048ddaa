"""One camera: identity, source, analysis and what it keeps for readers."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from .analysis import AnalysisConfig
from .base import StrictModel
from .source import SourceConfig

CAMERA_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class OutputConfig(StrictModel):
    """What the camera actor keeps for subscribers."""

    ring_size: int = Field(1024, ge=16, le=100_000, description="Detection batches kept for resume.")
    jpeg_quality: int = Field(80, ge=10, le=100, description="Quality of the latest-frame JPEG.")


class CameraConfig(StrictModel):
    """Desired state of one camera."""

    id: str = Field(..., description="Stable id: lowercase letters, digits, '-' or '_', at most 63 characters.")
    name: str = Field("", max_length=200, description="Human-readable name, e.g. 'Hẻm 12 Lê Lợi'.")
    groups: list[str] = Field(default_factory=list, description="Groups for access control, e.g. ['ward-3'].")
    enabled: bool = Field(True, description="Disabled cameras are kept in the config but not run.")
    source: SourceConfig = Field(..., description="Where the frames come from.")
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig, description="How frames are analysed.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="What is kept for readers.")

    @field_validator("id")
    @classmethod
    def _id_format(cls, v: str) -> str:
        if not re.match(CAMERA_ID_PATTERN, v):
            raise ValueError(
                f"camera id {v!r} must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit"
            )
        return v
