"""The job manager actor's settings: the `batch:` section, and where it lives.

Frozen: pickled into the detached actor at creation; Ray re-runs the constructor
with the same value when it restarts the actor, which then resumes the jobs of
its records.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field, field_validator

from ..config.base import StrictModel
from ..config.batch import BatchConfig

JOB_MANAGER_ACTOR_NAME = "matthan-job-manager"


class JobRunnerSettings(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = Field("matthan", min_length=1, max_length=256, description="Ray namespace of our actors.")
    state_dir: Path = Field(..., description="runtime.state_dir, absolute: job records live in its jobs/.")
    batch: BatchConfig = Field(default_factory=BatchConfig, description="The batch: section.")

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        if not v.is_absolute():
            raise ValueError(f"state_dir must be absolute (resolve it first), got {str(v)!r}")
        return v

    @property
    def records_dir(self) -> Path:
        return self.state_dir / "jobs"
