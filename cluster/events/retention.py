"""What the store keeps: deletion of old events by age (per severity) and by total size.

Age counts from an event's end, or its start while it goes on. The size is that of
the database pages in use (events, indexes and thumbnails; free pages excluded);
above the budget the oldest events by start time go first, whatever their
severity. A thumbnail is deleted in the same transaction as its event.

Deletion runs in chunks of `chunk` events, one short transaction each, so writers
wait at most one chunk; `EventStore.enforce_retention` takes its write lock per
chunk. After deleting, free pages are given back to the file system
(`PRAGMA incremental_vacuum`, on files created by this code with auto_vacuum).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cluster.domain.events import Severity

if TYPE_CHECKING:
    from cluster.config.events import EventRetentionConfig

DEFAULT_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    max_age_s: Mapping[Severity, float | None] = field(default_factory=dict)  # missing: no age limit
    max_total_bytes: int | None = None
    chunk: int = DEFAULT_CHUNK

    def __post_init__(self) -> None:
        for severity, age in self.max_age_s.items():
            if not isinstance(severity, Severity):
                raise ValueError(f"RetentionPolicy.max_age_s: {severity!r} is not a Severity")
            if age is not None and not (math.isfinite(age) and age > 0):
                raise ValueError(f"RetentionPolicy.max_age_s[{severity.value}] must be > 0 seconds, got {age}")
        if self.max_total_bytes is not None and self.max_total_bytes <= 0:
            raise ValueError(f"RetentionPolicy.max_total_bytes must be > 0, got {self.max_total_bytes}")
        if self.chunk < 1:
            raise ValueError(f"RetentionPolicy.chunk must be >= 1, got {self.chunk}")

    @classmethod
    def from_config(cls, config: EventRetentionConfig) -> RetentionPolicy:
        ages = config.max_age_s()
        unknown = set(ages) - {s.value for s in Severity}
        if unknown:
            raise ValueError(f"retention config names severities that do not exist: {sorted(unknown)}")
        return cls({Severity(name): age for name, age in ages.items()}, config.max_total_bytes())

    @property
    def keeps_everything(self) -> bool:
        return self.max_total_bytes is None and all(age is None for age in self.max_age_s.values())


@dataclass(frozen=True, slots=True)
class RetentionResult:
    deleted_by_age: Mapping[Severity, int]
    deleted_by_size: int
    thumbnails_deleted: int
    size_bytes: int  # pages in use afterwards

    @property
    def deleted(self) -> int:
        return sum(self.deleted_by_age.values()) + self.deleted_by_size


def used_bytes(conn: sqlite3.Connection) -> int:
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return (pages - free) * page_size


def expired_chunk(conn: sqlite3.Connection, severity: Severity, cutoff: float, chunk: int) -> list[int]:
    """Seqs of up to `chunk` events of `severity` that ended (or started, if ongoing) before `cutoff`."""
    rows = conn.execute(
        "SELECT seq FROM events WHERE severity = ? AND coalesce(end_time, start_time) < ? LIMIT ?",
        (severity.value, cutoff, chunk),
    )
    return [r[0] for r in rows]


def oldest_chunk(conn: sqlite3.Connection, count: int) -> list[int]:
    return [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY start_time, seq LIMIT ?", (count,))]


def events_to_free(conn: sqlite3.Connection, excess_bytes: int, chunk: int) -> int:
    """How many of the oldest events to delete next to free about `excess_bytes`."""
    rows = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    if rows == 0:
        return 0
    per_event = max(1.0, used_bytes(conn) / rows)
    return max(1, min(chunk, math.ceil(excess_bytes / per_event)))


def delete_events(conn: sqlite3.Connection, seqs: list[int]) -> int:
    """Delete events and their thumbnails, in the caller's transaction; thumbnails deleted."""
    if not seqs:
        return 0
    marks = ", ".join("?" * len(seqs))
    thumbnails = conn.execute(f"DELETE FROM thumbnails WHERE event_seq IN ({marks})", seqs).rowcount
    conn.execute(f"DELETE FROM acks WHERE event_seq IN ({marks})", seqs)
    conn.execute(f"DELETE FROM events WHERE seq IN ({marks})", seqs)
    return thumbnails


def give_back_free_pages(conn: sqlite3.Connection) -> None:
    """Truncate the free pages off the file (a no-op on files without auto_vacuum).
    Through `execute`, Python steps this pragma once, which frees a single page;
    `executescript` runs it to the end. Outside any transaction (it commits one)."""
    conn.executescript("PRAGMA incremental_vacuum;")
