"""A camera's recorded range as a job's inputs: segment files, clips and what was not recorded.

`matthan reprocess --camera X --from T0 --to T1` names no files: the camera's
recording index (`cluster.recordings.segments_for_range`, its hash chain) says
which segment files overlap [T0, T1) and the exact wall-clock time each starts
at.

Contiguous segments are one footage. The recorder cuts a camera's stream into
segments of `recording.segment_s` (a minute by default), but the live camera saw
one stream: a job reading each segment file on its own would start a cold motion
model and new tracks at every cut and split every event crossing it. So each run
of contiguous segments (each starting where the previous ended, within
`CONTIGUOUS_S`) is one input, read through an FFmpeg concat list
(`<recordings directory>/.matthan-reprocess/<job>/run-N.ffconcat`, beside the
cameras' directories, on the same mount: every node that reads the segments reads
the list) whose `duration` lines are the chain's exact lengths, so the run's media
time is its wall-clock time since its first segment's start. A run of one segment
is read directly. Guarantees of `recorded_inputs` (tested in
`tests/batch/test_recorded.py`):

- every segment read is a live segment of the camera's chain, inside its
  directory (a chain entry cannot lead out of it), oldest first, each once;
- each input's wall-clock start is its first segment's exact `start` on the
  chain, never a file name or metadata; its clip `[clip_start_s, clip_end_s)`
  (media time of the input) is the part of it inside [T0, T1), so the clips of
  all inputs together are the recorded part of the range, exactly;
- `not_recorded` is the rest of [T0, T1): the stretches no segment covers
  (shorter ones than `MIN_GAP_S` are a file's cut, not a gap), each with the
  reason the chain gives for it (`camera stream down: ...`) or "not recorded";
- a range with no segment at all is `NothingRecorded` (FAILED_PRECONDITION),
  naming the camera and the range.
"""

from __future__ import annotations

import datetime
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from cluster.recordings import SegmentFile, segments_for_range, timeline

from .inputs import InputError, check_file
from .requests import RequestError

# Uncovered stretches shorter than this are where one segment ends and the next
# begins (docs/recordings.md: "gaps shorter than 0.25 s are not gaps").
MIN_GAP_S = 0.25
# Segments this close are one run (read as one footage); the recordings' timeline
# merges them into one range by the same measure.
CONTIGUOUS_S = 0.5
NOT_RECORDED = "not recorded"
LISTS_DIR = ".matthan-reprocess"  # not a camera id (ids never start with a period)
LIST_SUFFIX = ".ffconcat"


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
    """One run of contiguous segments of the range: what to open (the segment, or the
    concat list of the run), its exact wall-clock start and the clip of it inside the range."""

    path: Path
    segments: tuple[Path, ...]  # the segment files it reads, in order
    start: float  # wall clock of its first frame (its first segment's start on the chain)
    end: float
    clip_start_s: float  # media time of the input where the range begins in it (0: at its start)
    clip_end_s: float | None  # media time where the range ends in it; None: it ends inside the range


@dataclass(frozen=True, slots=True)
class RecordedRangeInputs:
    files: tuple[RecordedInput, ...]
    not_recorded: tuple[NotRecordedRange, ...]


def recorded_inputs(
    camera_id: str, camera_dir: Path, start: float, end: float, *, lists_dir: Path
) -> RecordedRangeInputs:
    """The inputs of [start, end) (see the module's guarantees); the concat lists of
    runs of several segments are written into `lists_dir` (`lists_dir_for`). Raises
    NothingRecorded, or RequestError for a chain entry that is not a readable file."""
    segments = segments_for_range(camera_dir, start, end) if (camera_dir / "chain.jsonl").exists() else []
    if not segments:
        raise NothingRecorded(camera_id, start, end)
    root = [Path(os.path.realpath(camera_dir))]
    checked: list[tuple[SegmentFile, Path]] = []
    for segment in segments:
        try:
            checked.append((segment, check_file(str(segment.path), root)))
        except InputError as exc:
            raise RequestError("recorded", f"chain entry {segment.index}: {exc.message}") from None
    files = []
    for number, run in enumerate(_runs(checked)):
        first, last = run[0][0], run[-1][0]
        path = run[0][1] if len(run) == 1 else _write_list(lists_dir / f"run-{number}{LIST_SUFFIX}", run)
        clip_start = max(0.0, start - first.start)
        clip_end = end - first.start if end < last.end else None
        files.append(RecordedInput(path, tuple(p for _, p in run), first.start, last.end, clip_start, clip_end))
    reasons = timeline(camera_dir, camera_id, start, end).gaps
    holes = uncovered([(s.start, s.end) for s in segments], start, end)
    not_recorded = tuple(
        NotRecordedRange(a, b, next((g.reason for g in reasons if g.end > a and g.start < b), NOT_RECORDED))
        for a, b in holes
    )
    return RecordedRangeInputs(tuple(files), not_recorded)


def lists_dir_for(camera_dir: Path, job_id: str) -> Path:
    """Where a job's concat lists go: beside the camera directories, on their mount."""
    return camera_dir.parent / LISTS_DIR / job_id


def remove_lists(paths: list[str], job_id: str) -> None:
    """Delete the concat lists of a job (`paths`: its input files) once it is forgotten."""
    for name in paths:
        path = Path(name)
        if path.suffix == LIST_SUFFIX and path.parent.name == job_id and path.parent.parent.name == LISTS_DIR:
            shutil.rmtree(path.parent, ignore_errors=True)


def _runs(checked: list[tuple[SegmentFile, Path]]) -> list[list[tuple[SegmentFile, Path]]]:
    runs: list[list[tuple[SegmentFile, Path]]] = []
    for item in checked:
        if runs and item[0].start - runs[-1][-1][0].end <= CONTIGUOUS_S:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _write_list(path: Path, run: list[tuple[SegmentFile, Path]]) -> Path:
    """An FFmpeg concat list of `run`. Each segment is named by a link beside the list
    (the concat demuxer's safe mode takes only plain relative names), and its
    `duration` is the chain's time to the next segment's start, so the run's media
    time is wall-clock time since its first segment's start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["ffconcat version 1.0"]
    for number, (segment, target) in enumerate(run):
        link = path.parent / f"{path.stem}-{number:05d}.mkv"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
        following = run[number + 1][0].start if number + 1 < len(run) else segment.end
        lines += [f"file {link.name}", f"duration {following - segment.start:.6f}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


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
