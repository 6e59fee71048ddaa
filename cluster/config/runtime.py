"""Where the cluster runs: Ray connection and local state."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from .base import StrictModel


class RayConfig(StrictModel):
    """Connection to Ray."""

    address: str | None = Field(
        None, description="Existing cluster ('auto' or host:port); None starts a local Ray instance."
    )
    namespace: str = Field("matthan", min_length=1, max_length=64, description="Ray namespace of our named actors.")
    num_cpus: int | None = Field(None, ge=1, le=1024, description="CPUs of a locally started Ray (None: all).")


class RuntimeConfig(StrictModel):
    """Process-level settings of `matthan serve`."""

    ray: RayConfig = Field(default_factory=RayConfig, description="Ray connection.")
    state_dir: Path = Field(Path("var"), description="Where generated demo clips and persisted state live.")
