"""A camera's own health: its stream going away and its view being tampered with."""

from __future__ import annotations

from pydantic import Field

from .base import StrictModel
from .rules import SeverityName


class TamperConfig(StrictModel):
    """Detects a view gone black, uniform (covered, sprayed), out of focus or moved.

    Analysed frames are sampled `fps` times a second of footage, shrunk to `width`
    pixels and turned grey. Black and uniform are absolute measures; defocus and
    moved compare with what the camera learnt of its own view during the first
    `learn_s` seconds (its sharpness, a very small copy of the view, and the edges
    that stay put), refreshed slowly
    afterwards (`refresh_s`) while nothing is wrong. A condition must hold for
    `min_duration_s` to start an incident and be gone for `clear_s` to end it, so
    a truck passing close by is not an incident and one incident is one event.
    Masked pixels (privacy masks) are left out of every measure. After re-aiming a
    camera on purpose, change a tamper setting (or restart the camera) so it learns
    the new view. `cluster/video/tamper.py` describes each measure."""

    enabled: bool = Field(True, description="Look for tampering at all.")
    fps: float = Field(1.0, gt=0.0, le=10.0, description="Samples per second of footage.")
    width: int = Field(160, ge=32, le=640, description="Width the sample is shrunk to.")
    learn_s: float = Field(
        10.0, ge=1.0, le=3600.0, description="Footage learnt as the normal view before defocus and moved are judged."
    )
    refresh_s: float = Field(
        600.0, ge=10.0, le=86_400.0, description="Time constant of the slow refresh of the learnt view (s of footage)."
    )
    min_duration_s: float = Field(
        5.0, ge=0.0, le=3600.0, description="A condition must hold this long (s of footage) to start an incident."
    )
    clear_s: float = Field(5.0, ge=0.0, le=3600.0, description="And be gone this long to end it.")
    black_max_brightness: float = Field(
        20.0, ge=0.0, le=255.0, description="Mean grey level (0-255) at or below which the view is black."
    )
    uniform_max_stddev: float = Field(
        4.0, ge=0.0, le=128.0, description="Spread of grey levels (standard deviation) below which the view is uniform."
    )
    defocus_ratio: float = Field(
        0.3, gt=0.0, lt=1.0, description="Sharpness below this share of the learnt sharpness is defocus."
    )
    moved_max_similarity: float = Field(
        0.5,
        ge=-1.0,
        lt=1.0,
        description="Moved needs the view's similarity (block correlation, -1..1) to the learnt one at or below this.",
    )
    moved_max_edge_share: float = Field(
        0.7,
        gt=0.0,
        lt=1.0,
        description="And the share of the learnt still edges found in place at or below this.",
    )
    min_still_edges: float = Field(
        0.002,
        gt=0.0,
        le=0.5,
        description="Still edges (share of the pixels) the view needs for a move to be judged; a bare view has none.",
    )
    severity: SeverityName = Field("alert", description="Severity of tamper events.")


class HealthConfig(StrictModel):
    """Events about the camera itself: stream lost or stalled, and tampering."""

    stream_lost_after_s: float = Field(
        10.0,
        ge=0.0,
        le=3600.0,
        description="Frames gone this long (wall clock; reconnecting or stalled) make a stream_lost/stalled event.",
    )
    stream_severity: SeverityName = Field("alert", description="Severity of stream_lost and stream_stalled events.")
    tamper: TamperConfig = Field(default_factory=TamperConfig, description="Tamper detection.")
