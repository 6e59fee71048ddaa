"""Events for the store tests: real `Event` values with readable defaults."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cluster.domain import Box, Event

T0 = 1_790_000_000.0  # 2026-09-21 13:33:20 UTC: a fixed wall-clock origin for the tests
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"  # thumbnail-shaped bytes


def event(
    n: int = 0,
    *,
    camera: str = "cam-1",
    rule: str = "alley",
    type: str = "zone_enter",
    severity: str = "alert",
    start: float | None = None,
    class_name: str | None = "person",
    track: int | None = None,
    job: str | None = None,
    **fields,
) -> Event:
    """The n-th event of a camera: starts at T0 + 10 n s, track n, media time n s."""
    return Event.new(
        camera,
        type,
        severity,
        rule,
        start_time=T0 + 10.0 * n if start is None else start,
        start_pts=float(n),
        class_name=class_name,
        track_id=n if track is None else track,
        job_id=job,
        peak_confidence=fields.pop("peak_confidence", 0.8),
        peak_box=fields.pop("peak_box", Box(0.1, 0.2, 0.3, 0.4)),
        **fields,
    )


def revised(e: Event, revision: int, **changes) -> Event:
    return dataclasses.replace(e, revision=revision, **changes)


def ids(events) -> list[str]:
    return [e.event_id for e in events]


def db_path(tmp_path: Path) -> Path:
    return tmp_path / "events.sqlite3"
