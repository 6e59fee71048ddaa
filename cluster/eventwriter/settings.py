"""The event writer actor's settings: the `events:` config section, and where it lives.

Frozen: pickled into the detached actor at creation; Ray re-runs the constructor
with the same value when it restarts the actor (after a crash or `kill -9`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field, field_validator

from ..config.base import StrictModel
from ..config.events import EventsConfig

EVENT_WRITER_ACTOR_NAME = "matthan-event-writer"


class EventWriterSettings(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = Field("matthan", min_length=1, max_length=256, description="Ray namespace of our actors.")
    state_dir: Path = Field(..., description="runtime.state_dir, absolute: the actor's working directory is not ours.")
    events: EventsConfig = Field(default_factory=EventsConfig, description="The events: section.")

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        if not v.is_absolute():
            raise ValueError(f"state_dir must be absolute (resolve it first), got {str(v)!r}")
        return v

    @property
    def store_path(self) -> Path:
        return self.events.store.resolved_path(self.state_dir)
