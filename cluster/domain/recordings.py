"""Recording values that cross process boundaries: a camera's recording status, what
is recorded over a time range (ranges, gaps, segments), evidence holds and the
result of checking a hash chain. Times are wall-clock epoch seconds."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RecordingState(str, enum.Enum):
    """What a camera's recorder is doing.

    OFF: recording is off. WAITING: a trigger mode with nothing to record now
    (pre-roll is buffered). RECORDING: writing a segment. INTERRUPTED: it should
    record but the stream is down (the gap is recorded). FAILED: it cannot write
    (disk full, read-only or missing directory): live analysis goes on, and it
    resumes by itself when the disk takes writes again."""

    OFF = "off"
    WAITING = "waiting"
    RECORDING = "recording"
    INTERRUPTED = "interrupted"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    state: RecordingState
    reason: str
    mode: str  # RecordingMode's value
    directory: str = ""
    bytes_written: int = 0  # this actor's life
    segments_written: int = 0
    packets_dropped: int = 0  # not written: the disk was slow or failing
    gaps_recorded: int = 0
    retention_deleted: int = 0  # segments deleted by retention
    disk_used_bytes: int = 0  # the camera's live segments
    budget_bytes: int = 0  # 0: no budget
    disk_free_bytes: int = 0  # free on the directory's filesystem
    last_segment_end: float | None = None


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    index: int  # position in the camera's chain
    file: str  # relative to the camera's recordings directory
    start: float
    end: float
    bytes: int
    sha256: str
    mode: str
    entry_hash: str
    held: bool = False


@dataclass(frozen=True, slots=True)
class RecordedRange:
    """Contiguous recorded footage (consecutive segments)."""

    start: float
    end: float
    segments: int


@dataclass(frozen=True, slots=True)
class RecordingGap:
    """Time the camera should have been recording and was not, and why."""

    start: float
    end: float
    reason: str


@dataclass(frozen=True, slots=True)
class RecordingTimeline:
    camera_id: str
    start: float
    end: float
    ranges: tuple[RecordedRange, ...]
    gaps: tuple[RecordingGap, ...]
    segments: tuple[SegmentInfo, ...]


@dataclass(frozen=True, slots=True)
class EvidenceHold:
    """Segments overlapping [start, end] are kept past retention until released."""

    hold_id: str
    camera_id: str
    start: float
    end: float
    reason: str
    placed_by: str
    placed_at: float
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The result of verifying a camera's hash chain (`matthan recordings verify`)."""

    camera_id: str
    ok: bool
    entries: int
    segments_checked: int
    head_index: int
    head_hash: str
    problems: tuple[str, ...]  # described, in chain order
    first_broken_index: int = -1  # -1: none (or a file the chain does not list)
