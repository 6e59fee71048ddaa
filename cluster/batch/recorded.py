"""A camera's recorded range as a job's inputs: segment files, clips and what was not recorded.

`matthan reprocess --camera X --from T0 --to T1` names no files: the camera's
recording index (`cluster.recordings.segments_for_range`, its hash chain) says
which segment files overlap [T0, T1) and the exact wall-clock time each starts
at. Guarantees of `recorded_inputs` (tested in `tests/batch/test_recorded.py`):

- every file is a live segment of the camera's chain, inside its directory
  (a chain entry cannot lead out of it), oldest first;
- each file's wall-clock start is the chain's exact `start`, never its name or
  metadata; its clip `[clip_start_s, clip_end_s)` (media time of the file) is
  the part of it inside [T0, T1), so the clips of all files together are the
  recorded part of the range, exactly;
- `not_recorded` is the rest of [T0, T1): the stretches no segment covers
  (shorter ones than `MIN_GAP_S` are a file's cut, not a gap), each with the
  reason the chain gives for it (`camera stream down: ...`) or "not recorded";
- a range with no segment at all is `NothingRecorded` (FAILED_PRECONDITION),
  naming the camera and the range.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from cluster.recordings import segments_for_range, timeline

from .inputs import InputError, check_file
from .requests import RequestError

# Uncovered stretches shorter than this are where one segment ends and the next
# begins (docs/recordings.md: "gaps shorter than 0.25 s are not gaps").
MIN_GAP_S = 0.25
NOT_RECORDED = "not recorded"


class NothingRecorded(RequestError):
    """The camera recorded nothing in the range (FAILED_PRECONDITION, not a bad field)."""

    def __init__(self, camera_id: str, start: float, end: float) -> None:
        message = f"camera {camera_id!r} recorded nothing from {_iso(start)} to {_iso(end)}"
        super().__init__("recorded", message)
        self.camera_id, self.start, self.end = camera_id, start, end

    def __reduce__(self):
        return (type(self), (self.camera_id, self.start, self.end))


@dataclass(frozen=True, slots=True)
class NotRecordedRange:
    """Wall-clock `[start, end)` of the job's range that no segment covers, and why."""

    start: float
    end: float
    reason: str


@dataclass(frozen=True, slots=True)
class RecordedInput:
    """One segment file of the range: its exact wall-clock start and the clip of it inside the range."""

    path: Path
    start: float  # wall clock of its first frame (the chain's)
    end: float
    clip_start_s: float  # media time of the file where the range begins in it (0: at its start)
    clip_end_s: float | None  # media time where the range ends in it; None: it ends inside the range


@dataclass(frozen=True, slots=True)
class RecordedRangeInputs:
    files: tuple[RecordedInput, ...]
    not_recorded: tuple[NotRecordedRange, ...]


def recorded_inputs(camera_id: str, camera_dir: Path, start: float, end: float) -> RecordedRangeInputs:
    """The segment files of [start, end) (see the module's guarantees). Raises
    NothingRecorded, or RequestError for a chain entry that is not a readable file."""
    segments = segments_for_range(camera_dir, start, end) if (camera_dir / "chain.jsonl").exists() else []
    if not segments:
        raise NothingRecorded(camera_id, start, end)
    root = [Path(os.path.realpath(camera_dir))]
    files = []
    for segment in segments:
        try:
            path = check_file(str(segment.path), root)
        except InputError as exc:
            raise RequestError("recorded", f"chain entry {segment.index}: {exc.message}") from None
        clip_start = max(0.0, start - segment.start)
        clip_end = end - segment.start if end < segment.end else None
        files.append(RecordedInput(path, segment.start, segment.end, clip_start, clip_end))
    reasons = timeline(camera_dir, camera_id, start, end).gaps
    holes = uncovered([(f.start, f.end) for f in files], start, end)
    not_recorded = tuple(
        NotRecordedRange(a, b, next((g.reason for g in reasons if g.end > a and g.start < b), NOT_RECORDED))
        for a, b in holes
    )
    return RecordedRangeInputs(tuple(files), not_recorded)


def uncovered(covered: list[tuple[float, float]], start: float, end: float) -> list[tuple[float, float]]:
    """The parts of [start, end) outside every `covered` range, at least MIN_GAP_S long."""
    holes = []
    reached = start
    for a, b in sorted(covered):
        if a - reached >= MIN_GAP_S:
            holes.append((reached, min(a, end)))
        reached = max(reached, b)
        if reached >= end:
            break
    if end - reached >= MIN_GAP_S:
        holes.append((reached, end))
    return [(a, b) for a, b in holes if b > a]


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat(timespec="seconds")
