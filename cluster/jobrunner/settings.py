"""The job manager actor's settings: the `batch:` section, and where it lives.

Frozen: pickled into the detached actor at creation; Ray re-runs the constructor
with the same value when it restarts the actor, which then resumes the jobs of
its records.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..config.base import StrictModel
from ..config.batch import BatchConfig

JOB_MANAGER_ACTOR_NAME = "matthan-job-manager"


class JobRunnerSettings(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = Field("matthan", min_length=1, max_length=256, description="Ray namespace of our actors.")
    state_dir: Path = Field(..., description="runtime.state_dir, absolute: job records live in its jobs/.")
    batch: BatchConfig = Field(default_factory=BatchConfig, description="The batch: section.")
    capacity_refresh_s: float = Field(
        2.0, ge=0.1, le=60.0, description="How often the batch capacity asks the scheduler for its node reports."
    )
    capacity_deadline_s: float = Field(
        2.0, gt=0.0, le=60.0, description="Deadline of one ask of the scheduler for the batch capacity."
    )
    capacity_max_age_s: float = Field(
        10.0,
        ge=0.1,
        le=600.0,
        description="A scheduler answer older than this is not used: the capacity falls back to one segment.",
    )

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        if not v.is_absolute():
            raise ValueError(f"state_dir must be absolute (resolve it first), got {str(v)!r}")
        return v

    @model_validator(mode="after")
    def _fresh_enough(self) -> JobRunnerSettings:
        if self.capacity_max_age_s < self.capacity_refresh_s:
            raise ValueError(
                f"capacity_max_age_s ({self.capacity_max_age_s:g}) must be at least capacity_refresh_s "
                f"({self.capacity_refresh_s:g}): every answer would be too old"
            )
        return self

    @property
    def records_dir(self) -> Path:
        return self.state_dir / "jobs"
