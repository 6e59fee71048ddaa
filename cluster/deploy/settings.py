"""The scheduler's settings from a config file, as `matthan serve` builds them."""

from __future__ import annotations

from pathlib import Path

from ..config import MatthanConfig
from ..scheduler.settings import SchedulerSettings


def scheduler_settings(config: MatthanConfig, state_dir: Path | None = None) -> SchedulerSettings:
    """Settings for a scheduler created by `matthan deploy`. The state directory is a
    path on the node the scheduler is pinned to (the Ray head), so it must be absolute
    there; a relative one is resolved here, as `matthan serve` does."""
    return SchedulerSettings(
        namespace=config.runtime.ray.namespace,
        state_dir=(state_dir or config.runtime.state_dir).resolve(),
        **config.scheduler.model_dump(),
    )
