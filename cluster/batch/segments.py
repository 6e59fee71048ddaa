"""Cutting files into segments, and which segment owns which event.

A segment is a stretch `[start_s, end_s)` of one file's media time (seconds since
its first frame, the `pts` the video core gives frames). Guarantees of
`plan_segments` (property-tested in `tests/batch/test_segments.py`):

- the segments of a file cover `[0, duration)` with no gap and no overlap:
  the first starts at 0, each ends where the next starts, the last is open-ended
  (`end_s` None: to the end of the file, however long it really is);
- every start but the first is a keyframe time, as close after a multiple of
  `target_s` as the keyframes allow; segments are never shorter than half the
  target (a keyframe too close to the previous boundary is skipped, and so is one
  too close to the end of the file: a stub of a last segment would decode a whole
  warm-up for a few seconds of its own), so a file without keyframes past its
  start is one segment;
- `decode_from_s` is a keyframe at or before `start_s - warmup_s` (0 for the
  first), so decoding starts where a decoder can and the analysis is warm when the
  segment's own footage begins.

Attribution. Each event belongs to exactly one segment: the one whose range holds
its `start_pts` (`Segment.owns`). The run of a segment keeps only the revisions of
the events it owns, and goes on past `end_s` until every event it owns has ended
(bounded by a tail limit), so an event crossing a boundary is reported whole by
the segment it started in, and the next segment, which saw its start in its
warm-up, drops it. Events of the warm-up are dropped the same way. No duplicates,
no gaps: the ranges partition the file.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from .media import MediaIndex


@dataclass(frozen=True, slots=True)
class Segment:
    """One Ray task's share of a job: `[start_s, end_s)` of file `file_index`."""

    file_index: int
    index: int  # within the file
    start_s: float
    end_s: float | None  # None: to the end of the file
    decode_from_s: float

    @property
    def key(self) -> str:
        """Stable name within a job, e.g. '0:3' (file 0, segment 3)."""
        return f"{self.file_index}:{self.index}"

    def owns(self, pts: float) -> bool:
        """Whether an event that started at media time `pts` belongs to this segment."""
        # The first segment of a whole file owns its start; one clipped to a recorded
        # range (start_s > 0) owns nothing of its warm-up.
        after_start = pts >= self.start_s or (self.index == 0 and self.start_s <= 0.0)
        return after_start and (self.end_s is None or pts < self.end_s)

    def length_s(self, duration_s: float) -> float:
        end = duration_s if self.end_s is None else min(self.end_s, duration_s)
        return max(0.0, end - self.start_s)


def plan_segments(index: MediaIndex, *, file_index: int, target_s: float, warmup_s: float) -> tuple[Segment, ...]:
    """The segments of one indexed file (see the module's guarantees)."""
    if not (math.isfinite(target_s) and target_s > 0):
        raise ValueError(f"segment length must be a positive number of seconds, got {target_s!r}")
    if not (math.isfinite(warmup_s) and warmup_s >= 0):
        raise ValueError(f"warm-up must be a number of seconds >= 0, got {warmup_s!r}")
    keyframes = sorted(k for k in index.keyframes if k >= 0.0 and math.isfinite(k))
    if not keyframes or keyframes[0] > 0.0:
        keyframes.insert(0, 0.0)
    starts = [0.0]
    goal = target_s
    while goal < index.duration_s:
        position = bisect.bisect_left(keyframes, goal)
        if position >= len(keyframes):
            break
        start = keyframes[position]
        if start - starts[-1] >= target_s / 2 and index.duration_s - start >= target_s / 2:
            starts.append(start)
        goal = max(goal + target_s, start + target_s / 2)
    segments = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else None
        decode_from = 0.0
        if number:
            position = bisect.bisect_right(keyframes, start - warmup_s) - 1
            decode_from = keyframes[max(0, position)]
        segments.append(Segment(file_index, number, start, end, decode_from))
    return tuple(segments)
