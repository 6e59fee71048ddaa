"""The event store (`events:` section): where it is, how it batches, what it keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from .base import StrictModel

DAY_S = 86400.0
MIB = 1024 * 1024


class EventStoreFileConfig(StrictModel):
    """The SQLite file and how it is opened."""

    path: Path = Field(
        Path("events.sqlite3"),
        description="The database file; a relative path is under runtime.state_dir. Its -wal and -shm files "
        "and a .lock file sit beside it.",
    )
    busy_timeout_s: float = Field(
        5.0,
        ge=0.1,
        le=120.0,
        description="How long a reader or the writer waits for a lock held by the other (a checkpoint) "
        "before the operation fails.",
    )
    synchronous: Literal["normal", "full"] = Field(
        "full",
        description="'full': a committed batch survives a power cut too, at one fsync per batch (a commune "
        "police station loses power; batches are large, so the cost is small); 'normal': it survives a crash "
        "or kill of any process, not a power cut.",
    )

    def resolved_path(self, state_dir: Path) -> Path:
        return self.path if self.path.is_absolute() else state_dir / self.path


class EventBatchConfig(StrictModel):
    """How events wait to be written: batches, and the bounded buffer while the writer is away."""

    max_events: int = Field(500, ge=1, le=10_000, description="Events written in one transaction at most.")
    flush_interval_s: float = Field(
        0.5, ge=0.01, le=60.0, description="A partial batch is written after waiting this long."
    )
    max_buffered: int = Field(
        50_000,
        ge=100,
        le=10_000_000,
        description="Events held while the writer is down or slow; beyond it the oldest info event is dropped "
        "for a new one (alerts only when no info event is left), and the drop is counted in "
        "matthan_event_store_dropped_events_total.",
    )
    retry_initial_s: float = Field(
        0.5, gt=0.0, le=60.0, description="Wait before retrying a failed write; doubles up to retry_max_s."
    )
    retry_max_s: float = Field(10.0, gt=0.0, le=600.0, description="Longest wait between write retries.")

    @model_validator(mode="after")
    def _retry_bounds(self) -> EventBatchConfig:
        if self.retry_max_s < self.retry_initial_s:
            raise ValueError(
                f"retry_max_s ({self.retry_max_s}) must be at least retry_initial_s ({self.retry_initial_s})"
            )
        return self


class EventRetentionConfig(StrictModel):
    """What the store keeps. Age counts from an event's end (its start while it goes on);
    the size budget deletes the oldest events first, whatever their severity."""

    alert_max_age_days: float | None = Field(
        365.0, gt=0.0, le=36_500.0, description="Alert events older than this are deleted; None keeps them."
    )
    info_max_age_days: float | None = Field(
        90.0, gt=0.0, le=36_500.0, description="Info events older than this are deleted; None keeps them."
    )
    max_total_mb: float | None = Field(
        10_240.0,
        ge=1.0,
        le=16_777_216.0,
        description="Most the events and their thumbnails may take (MiB of database pages in use); the oldest "
        "events go first. None: no size limit.",
    )
    interval_s: float = Field(
        300.0, ge=1.0, le=86_400.0, description="How often retention runs (in the background, between batches)."
    )

    def max_age_s(self) -> dict[str, float | None]:
        """Seconds per severity name (None: no age limit)."""
        return {
            "alert": None if self.alert_max_age_days is None else self.alert_max_age_days * DAY_S,
            "info": None if self.info_max_age_days is None else self.info_max_age_days * DAY_S,
        }

    def max_total_bytes(self) -> int | None:
        return None if self.max_total_mb is None else int(self.max_total_mb * MIB)


class EventsConfig(StrictModel):
    """The event store: one SQLite file, one writer, batched writes, background retention."""

    store: EventStoreFileConfig = Field(default_factory=EventStoreFileConfig, description="The database file.")
    batch: EventBatchConfig = Field(default_factory=EventBatchConfig, description="Batched writes and buffering.")
    retention: EventRetentionConfig = Field(
        default_factory=EventRetentionConfig, description="Deletion of old events by age and by total size."
    )
