"""Retention: which segments to delete, and deleting them on the record.

`plan_retention` is pure: given the chain, the holds and the time, it returns
the segments to delete, oldest first, and why. Guarantees:

- a segment overlapping any hold is never chosen;
- by age: a segment is chosen when its end is older than the maximum age of the
  mode it was recorded in (`retention.*_days`);
- by budget: while the live segments not chosen by age add up to more than
  `max_bytes`, the oldest ones not under a hold are chosen, one by one; held
  segments count towards the budget but are skipped, so a budget smaller than
  the held footage deletes everything else and keeps the held footage.

`apply_retention` deletes the files and appends a `deleted` entry for each, so
`verify_chain` can tell a deletion on purpose from a file that vanished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cluster.config.recording import RecordingMode, RetentionConfig
from cluster.domain import EvidenceHold

from .chain import ChainEntry, EntryKind, append_entry, read_chain
from .holds import read_holds
from .index import live_segments

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Deletion:
    entry: ChainEntry
    reason: str


def _mode(entry: ChainEntry) -> RecordingMode:
    try:
        return RecordingMode(entry.fields.get("mode", RecordingMode.CONTINUOUS.value))
    except ValueError:
        return RecordingMode.CONTINUOUS


def _held(entry: ChainEntry, holds: list[EvidenceHold]) -> bool:
    return any(entry.end > h.start and entry.start < h.end for h in holds)


def plan_retention(
    entries: list[ChainEntry], holds: list[EvidenceHold], config: RetentionConfig, now: float
) -> list[Deletion]:
    deletions: list[Deletion] = []
    kept: list[ChainEntry] = []
    for entry in live_segments(entries):
        mode = _mode(entry)
        max_age = config.max_age_s(mode)
        if now - entry.end > max_age and not _held(entry, holds):
            deletions.append(Deletion(entry, f"retention: older than {max_age / 86400:g} days ({mode.value})"))
        else:
            kept.append(entry)
    if config.max_bytes:
        total = sum(int(e.fields.get("bytes", 0)) for e in kept)
        for entry in kept:  # oldest first
            if total <= config.max_bytes:
                break
            if _held(entry, holds):
                continue
            total -= int(entry.fields.get("bytes", 0))
            deletions.append(Deletion(entry, f"retention: over the disk budget of {config.max_bytes} bytes"))
    return deletions


def apply_retention(camera_dir: Path, config: RetentionConfig, now: float) -> list[Deletion]:
    """Delete what `plan_retention` chooses; each deletion is on the chain before the
    file goes (a crash in between leaves a deleted entry for a file still there,
    which the next run removes). Raises OSError if the chain cannot be written."""
    deletions = plan_retention(read_chain(camera_dir), read_holds(camera_dir), config, now)
    for deletion in deletions:
        entry = deletion.entry
        append_entry(camera_dir, EntryKind.DELETED, {"of": entry.index, "file": entry.file, "reason": deletion.reason})
        (camera_dir / entry.file).unlink(missing_ok=True)
        log.info("deleted segment %s (%s)", entry.file, deletion.reason)
    return deletions
