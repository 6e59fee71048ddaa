"""Events to rows and back, and how one batch applies to what is stored.

`plan_batch` is pure: given a batch and the (seq, revision) already stored for its
ids, it says which events are new, which update a row, and which are ignored.
The rule is the same as applying the events one by one in arrival order: an event
is applied only if its revision is higher than the one stored (or applied earlier
in the batch), so a replay never goes back. An update that carries no thumbnail
keeps the one stored (or the one an earlier revision in the same batch brought).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cluster.domain import Box
from cluster.domain.events import Event

# Columns of `events` in the order of `to_row`; seq and change_seq come first.
EVENT_COLUMNS: tuple[str, ...] = (
    "seq",
    "change_seq",
    "event_id",
    "camera_id",
    "type",
    "severity",
    "rule",
    "start_time",
    "end_time",
    "start_pts",
    "end_pts",
    "class_name",
    "track_id",
    "direction",
    "dwell_s",
    "count",
    "peak_confidence",
    "box_x",
    "box_y",
    "box_w",
    "box_h",
    "job_id",
    "revision",
)
# What an update may change: the rest identifies the event and fixes its place in the order.
MUTABLE_COLUMNS: tuple[str, ...] = (
    "change_seq",
    "severity",
    "end_time",
    "end_pts",
    "class_name",
    "direction",
    "dwell_s",
    "count",
    "peak_confidence",
    "box_x",
    "box_y",
    "box_w",
    "box_h",
    "revision",
)
SELECT_COLUMNS = ", ".join(f"e.{c}" for c in EVENT_COLUMNS)
INSERT_SQL = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
INSERT_NEW_SQL = INSERT_SQL + " ON CONFLICT (event_id) DO NOTHING"  # a stored id: a replay, ignored
UPDATE_SQL = f"UPDATE events SET {', '.join(f'{c} = ?' for c in MUTABLE_COLUMNS)} WHERE seq = ?"
INSERT_THUMBNAIL_SQL = "INSERT OR REPLACE INTO thumbnails (event_seq, jpeg) VALUES (?, ?)"


# The enums are str subclasses: sqlite3 binds them as their text value, without the
# cost of `.value` (the insert path runs this for every event).
_NO_BOX = (None, None, None, None)


def to_row(event: Event, seq: int, change_seq: int) -> tuple[Any, ...]:
    box = event.peak_box
    return (
        seq,
        change_seq,
        event.event_id,
        event.camera_id,
        event.type,
        event.severity,
        event.rule,
        event.start_time,
        event.end_time,
        event.start_pts,
        event.end_pts,
        event.class_name,
        event.track_id,
        event.direction,
        event.dwell_s,
        event.count,
        event.peak_confidence,
        *(_NO_BOX if box is None else (box.x, box.y, box.w, box.h)),
        event.job_id,
        event.revision,
    )


def to_update_row(event: Event, seq: int, change_seq: int) -> tuple[Any, ...]:
    box = event.peak_box
    return (
        change_seq,
        event.severity,
        event.end_time,
        event.end_pts,
        event.class_name,
        event.direction,
        event.dwell_s,
        event.count,
        event.peak_confidence,
        *(_NO_BOX if box is None else (box.x, box.y, box.w, box.h)),
        event.revision,
        seq,
    )


def from_row(row: Sequence[Any], thumbnail: bytes | None = None) -> Event:
    """An event from `SELECT_COLUMNS` (seq and change_seq are not part of it)."""
    (
        _seq,
        _change,
        event_id,
        camera_id,
        type_,
        severity,
        rule,
        start_time,
        end_time,
        start_pts,
        end_pts,
        class_name,
        track_id,
        direction,
        dwell_s,
        count,
        peak_confidence,
        bx,
        by,
        bw,
        bh,
        job_id,
        revision,
    ) = row
    return Event(
        event_id=event_id,
        camera_id=camera_id,
        type=type_,
        severity=severity,
        rule=rule,
        start_time=start_time,
        start_pts=start_pts,
        end_time=end_time,
        end_pts=end_pts,
        class_name=class_name,
        track_id=track_id,
        direction=direction,
        dwell_s=dwell_s,
        count=count,
        peak_confidence=peak_confidence,
        peak_box=None if bx is None else Box(bx, by, bw, bh),
        job_id=job_id,
        revision=revision,
        thumbnail=None if thumbnail is None else bytes(thumbnail),
    )


@dataclass(frozen=True, slots=True)
class Stored:
    seq: int
    revision: int


@dataclass(frozen=True, slots=True)
class BatchPlan:
    new: tuple[Event, ...]  # not stored yet: insert (highest revision of the batch)
    updates: tuple[tuple[Event, int], ...]  # (event, seq of its row): replace the mutable fields
    ignored: int  # events whose revision was not higher than the stored or earlier one


def plan_batch(batch: Sequence[Event], stored: Mapping[str, Stored]) -> BatchPlan:
    applied: dict[str, Event] = {}  # event id -> the revision that wins so far
    ignored = 0
    for event in batch:
        before = applied.get(event.event_id)
        floor = (
            before.revision
            if before is not None
            else (stored[event.event_id].revision if event.event_id in stored else -1)
        )
        if event.revision <= floor:
            ignored += 1
            continue
        if event.thumbnail is None and before is not None and before.thumbnail is not None:
            applied[event.event_id] = dataclasses.replace(event, thumbnail=before.thumbnail)
        else:
            applied[event.event_id] = event
    new = tuple(e for e in applied.values() if e.event_id not in stored)
    updates = tuple((e, stored[e.event_id].seq) for e in applied.values() if e.event_id in stored)
    return BatchPlan(new, updates, ignored)
