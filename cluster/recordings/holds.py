"""Evidence holds and the audit trail of a camera's recordings.

A hold keeps every segment overlapping its time range past retention (age and
budget) until it is released. Holds live in `holds.json` in the camera's
recordings directory (written atomically under the chain's lock, so the
recorder's retention never reads half a file); placing and releasing one, and
every export, is appended to `audit.jsonl` with who did it and why.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from cluster.domain import EvidenceHold
from cluster.support.atomic import write_json_atomically
from cluster.support.private import make_private_dirs, open_private

from .chain import _locked

HOLDS_FILE = "holds.json"
AUDIT_FILE = "audit.jsonl"


class HoldNotFound(KeyError):
    def __init__(self, camera_id: str, hold_id: str) -> None:
        super().__init__(hold_id)
        self.message = f"camera {camera_id!r} has no hold {hold_id!r}"

    def __str__(self) -> str:
        return self.message


def _hold_from(record: dict[str, Any]) -> EvidenceHold:
    return EvidenceHold(
        hold_id=str(record["hold_id"]),
        camera_id=str(record["camera_id"]),
        start=float(record["start"]),
        end=float(record["end"]),
        reason=str(record["reason"]),
        placed_by=str(record["placed_by"]),
        placed_at=float(record["placed_at"]),
        event_id=str(record.get("event_id", "")),
    )


def _record_of(hold: EvidenceHold) -> dict[str, Any]:
    return {
        "hold_id": hold.hold_id,
        "camera_id": hold.camera_id,
        "start": hold.start,
        "end": hold.end,
        "reason": hold.reason,
        "placed_by": hold.placed_by,
        "placed_at": hold.placed_at,
        "event_id": hold.event_id,
    }


def read_holds(camera_dir: Path) -> list[EvidenceHold]:
    try:
        records = json.loads((camera_dir / HOLDS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    return [_hold_from(r) for r in records]


def place_hold(
    camera_dir: Path,
    camera_id: str,
    start: float,
    end: float,
    *,
    reason: str,
    placed_by: str,
    now: float,
    event_id: str = "",
) -> EvidenceHold:
    if not end > start:
        raise ValueError(f"a hold must end after it starts (start {start}, end {end})")
    if not reason.strip():
        raise ValueError("a hold needs a reason")
    hold = EvidenceHold(
        hold_id=f"hold-{secrets.token_hex(6)}",
        camera_id=camera_id,
        start=start,
        end=end,
        reason=reason.strip(),
        placed_by=placed_by,
        placed_at=now,
        event_id=event_id,
    )
    with _locked(camera_dir):
        holds = read_holds(camera_dir)
        write_json_atomically(camera_dir / HOLDS_FILE, [_record_of(h) for h in [*holds, hold]])
    audit(camera_dir, {"action": "hold", "by": placed_by, "at": now, **_record_of(hold)})
    return hold


def release_hold(
    camera_dir: Path, camera_id: str, hold_id: str, *, reason: str, released_by: str, now: float
) -> EvidenceHold:
    if not reason.strip():
        raise ValueError("releasing a hold needs a reason")
    with _locked(camera_dir):
        holds = read_holds(camera_dir)
        found = next((h for h in holds if h.hold_id == hold_id), None)
        if found is None:
            raise HoldNotFound(camera_id, hold_id)
        write_json_atomically(camera_dir / HOLDS_FILE, [_record_of(h) for h in holds if h.hold_id != hold_id])
    audit(
        camera_dir,
        {"action": "release", "by": released_by, "at": now, "hold_id": hold_id, "reason": reason.strip()},
    )
    return found


def audit(camera_dir: Path, record: dict[str, Any]) -> None:
    """Append one line to the camera's audit trail (fsynced)."""
    make_private_dirs(camera_dir)
    line = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    fd = open_private(camera_dir / AUDIT_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT)  # who held what
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
