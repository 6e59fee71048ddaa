"""The scheduler actor's settings: every tunable of `SchedulerConfig` (validated there,
with its bounds and reasons), plus where the scheduler lives.

Frozen: it is pickled into the detached actor at creation, and Ray re-runs the
constructor with the same value when it restarts the actor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, ValidationError

from ..config import format_validation_error
from ..config.scheduler import SchedulerConfig
from ..config.source import ReconnectConfig

SCHEDULER_ACTOR_NAME = "matthan-scheduler"


class SchedulerSettings(SchedulerConfig):
    """`SchedulerConfig` plus the scheduler's Ray namespace and state directory."""

    model_config = ConfigDict(frozen=True)

    namespace: str = Field("matthan", min_length=1, max_length=256, description="Ray namespace of the scheduler.")
    # Absolute: the scheduler actor's working directory is not the caller's.
    state_dir: Path | None = Field(
        None, description="Where the desired set and placement facts are kept; None keeps nothing (tests)."
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            # One line naming each bad setting, e.g. "heartbeat_timeout_s: Input should be greater than 0".
            raise ValueError(f"scheduler settings: {format_validation_error(exc)}") from None

    @property
    def restart_policy(self) -> ReconnectConfig:
        """The restart backoff, in the shape `cluster.support.backoff.Backoff` takes (the
        restart_* bounds are the reconnect policy's, so this is always valid)."""
        return ReconnectConfig(
            initial_s=self.restart_initial_s,
            max_s=self.restart_max_s,
            multiplier=self.restart_multiplier,
            jitter=self.restart_jitter,
        )

    def replace(self, **changes: Any) -> SchedulerSettings:
        """A copy with `changes`, validated like a new instance."""
        unknown = sorted(set(changes) - set(type(self).model_fields))
        if unknown:
            raise ValueError(f"unknown scheduler settings: {', '.join(unknown)}")
        return type(self)(**{**self.model_dump(), **changes})
