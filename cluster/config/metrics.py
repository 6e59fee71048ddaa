"""The Prometheus scrape endpoint of the front door (`metrics:` section)."""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import StrictModel


class MetricsConfig(StrictModel):
    """One `/metrics` endpoint for the whole cluster, served by the front door."""

    enabled: bool = Field(True, description="Serve Prometheus metrics.")
    host: str = Field(
        "127.0.0.1",
        min_length=1,
        max_length=253,
        description="Address to bind; '0.0.0.0' lets a Prometheus on another host scrape it.",
    )
    port: int = Field(9480, ge=0, le=65535, description="TCP port of /metrics; 0 picks a free one (tests).")
    refresh_interval_s: float = Field(
        5.0,
        ge=0.5,
        le=300.0,
        description="How often camera and cluster status are read for metrics; scrapes serve the newest reading.",
    )
    refresh_timeout_s: float = Field(
        10.0, gt=0.0, le=300.0, description="Give up on one reading (a busy actor) after this long."
    )
    stale_after_s: float = Field(
        30.0,
        ge=1.0,
        le=3600.0,
        description="A reading older than this is not served (its series go stale) instead of frozen values.",
    )

    @model_validator(mode="after")
    def _stale_after_refresh(self) -> MetricsConfig:
        if self.stale_after_s < self.refresh_interval_s:
            raise ValueError(
                f"stale_after_s ({self.stale_after_s}) must be at least refresh_interval_s "
                f"({self.refresh_interval_s}), else every reading would be served stale"
            )
        return self
