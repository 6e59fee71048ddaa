"""What a camera's configuration asks of the video core besides the analysis proper:
its event rules, privacy masks, tamper detection and thumbnails, and the run they
belong to."""

from __future__ import annotations

from dataclasses import dataclass

from cluster.config import CameraConfig
from cluster.config.health import TamperConfig
from cluster.config.privacy import PrivacyConfig
from cluster.config.rules import RulesConfig


@dataclass(frozen=True, slots=True)
class EventSettings:
    """Everything the pipeline's event stages need, from one `CameraConfig`.

    `pts_origin` is added to frame pts in events (see `emitter.py`): 0 for files,
    the wall-clock start of the run for a live camera. `job_id` marks the events
    of a batch reprocessing job (None for live events).
    """

    rules: RulesConfig
    privacy: PrivacyConfig
    tamper: TamperConfig
    timezone: str
    thumbnail_width: int = 320
    thumbnail_quality: int = 70
    pts_origin: float = 0.0
    job_id: str | None = None

    @classmethod
    def of(cls, camera: CameraConfig, *, pts_origin: float = 0.0, job_id: str | None = None) -> EventSettings:
        return cls(
            rules=camera.rules,
            privacy=camera.privacy,
            tamper=camera.health.tamper,
            timezone=camera.timezone,
            thumbnail_width=camera.output.thumbnail_width,
            thumbnail_quality=camera.output.thumbnail_quality,
            pts_origin=pts_origin,
            job_id=job_id,
        )
