"""What a camera has recorded over a time range, read from its chain.

`timeline(camera_dir, camera_id, start, end)` gives the contiguous recorded
ranges, the recorded gaps and the segments; `segments_for_range` is what batch
reprocessing reads: the segment files and their exact wall-clock ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cluster.domain import RecordedRange, RecordingGap, RecordingTimeline, SegmentInfo

from .chain import ChainEntry, EntryKind, read_chain

# Consecutive segments whose ends and starts are closer than this are one range
# (a segment ends where the next keyframe starts the next one: normally 0).
CONTIGUOUS_S = 0.5


@dataclass(frozen=True, slots=True)
class SegmentFile:
    """One recorded segment on disk: its path and exact wall-clock range."""

    path: Path
    start: float
    end: float
    sha256: str
    index: int


def live_segments(entries: list[ChainEntry]) -> list[ChainEntry]:
    """Segment entries not deleted by a later entry, oldest first."""
    deleted = {int(e.fields.get("of", -1)) for e in entries if e.kind is EntryKind.DELETED}
    segments = [e for e in entries if e.kind is EntryKind.SEGMENT and e.index not in deleted]
    return sorted(segments, key=lambda e: (e.start, e.index))


def _overlaps(entry_start: float, entry_end: float, start: float, end: float) -> bool:
    return entry_end > start and entry_start < end


def segment_info(entry: ChainEntry, held: bool = False) -> SegmentInfo:
    return SegmentInfo(
        index=entry.index,
        file=entry.file,
        start=entry.start,
        end=entry.end,
        bytes=int(entry.fields.get("bytes", 0)),
        sha256=str(entry.fields.get("sha256", "")),
        mode=str(entry.fields.get("mode", "")),
        entry_hash=entry.hash,
        held=held,
    )


def merge_ranges(segments: list[SegmentInfo]) -> tuple[RecordedRange, ...]:
    ranges: list[RecordedRange] = []
    for segment in sorted(segments, key=lambda s: s.start):
        if ranges and segment.start - ranges[-1].end <= CONTIGUOUS_S:
            last = ranges[-1]
            ranges[-1] = RecordedRange(last.start, max(last.end, segment.end), last.segments + 1)
        else:
            ranges.append(RecordedRange(segment.start, segment.end, 1))
    return tuple(ranges)


def timeline(
    camera_dir: Path, camera_id: str, start: float, end: float, *, held: list[tuple[float, float]] | None = None
) -> RecordingTimeline:
    """Ranges, gaps and segments of `camera_id` overlapping [start, end)."""
    entries = read_chain(camera_dir)
    holds = held or []
    segments = [
        segment_info(e, held=any(_overlaps(e.start, e.end, h0, h1) for h0, h1 in holds))
        for e in live_segments(entries)
        if _overlaps(e.start, e.end, start, end)
    ]
    gaps = tuple(
        RecordingGap(e.start, e.end, str(e.fields.get("reason", "")))
        for e in entries
        if e.kind is EntryKind.GAP and _overlaps(e.start, e.end, start, end)
    )
    return RecordingTimeline(camera_id, start, end, merge_ranges(segments), gaps, tuple(segments))


def segments_for_range(camera_dir: Path, start: float, end: float) -> list[SegmentFile]:
    """The segment files of a camera that overlap [start, end), oldest first, with
    their exact wall-clock ranges: what `matthan reprocess --from --to` reads.

    `camera_dir` is the camera's recordings directory
    (`RecordingCatalog.camera_dir(camera)` or `<recording.directory>/<camera id>`)."""
    if not end > start:
        raise ValueError(f"the range must end after it starts (start {start}, end {end})")
    return [
        SegmentFile(camera_dir / e.file, e.start, e.end, str(e.fields.get("sha256", "")), e.index)
        for e in live_segments(read_chain(camera_dir))
        if _overlaps(e.start, e.end, start, end)
    ]
