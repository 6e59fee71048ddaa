"""Wall-clock times of one pass's packets, from the stream's own clock.

A packet's wall-clock time is `anchor + its stream time`. A packet cannot arrive
before its picture was taken, so `anchor` is the smallest `arrival - stream time`
seen in the pass: the packets FFmpeg buffers while it opens a stream, or that a
network hiccup delays, arrive late in a burst and do not move it. When the two
clocks part by more than `MAX_DRIFT_S` (the stream's timestamps jump, or the
camera's clock runs slow) the clock has `drifted`: the caller finishes the open
segment with the old anchor, and `place` sets a new one.

The clock also keeps the open segment's first and last stream times, so that a
segment's start and end are computed with the anchor it has when the segment is
finished (`segment_bounds`): a segment's recorded length is exactly its own
playing time. A segment cut for its length (`segment_finished(continued=True)`)
hands its end to the next, so consecutive segments meet exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The stream clock and the wall clock may part this much before the anchor is set again.
MAX_DRIFT_S = 2.0
FALLBACK_PERIOD_S = 0.04
# Steps between pictures longer than this are a pause, not the frame period.
MAX_PERIOD_S = 1.0


def stream_time(packet: Any) -> float | None:
    """The packet's presentation time in seconds of its stream (None if it has none)."""
    ts = packet.pts if packet.pts is not None else packet.dts
    if ts is None or packet.time_base is None:
        return None
    return float(ts * packet.time_base)


@dataclass
class PassClock:
    period: float = FALLBACK_PERIOD_S  # the stream's frame period, learnt as it plays
    anchor: float | None = None
    last_wall: float | None = None  # the latest picture's wall time
    first_t: float | None = None  # stream seconds of the open segment's first packet
    last_t: float | None = None  # and of its latest
    next_start: float | None = None  # a segment cut for its length: where the next one starts

    @classmethod
    def for_rate(cls, fps: float) -> PassClock:
        return cls(period=1.0 / fps if fps > 0 else FALLBACK_PERIOD_S)

    def drifted(self, t: float, arrival: float) -> bool:
        """The packet at stream time `t` arriving at `arrival` parts the clocks too far."""
        return self.anchor is not None and abs(arrival - t - self.anchor) > MAX_DRIFT_S

    def place(self, t: float, arrival: float) -> float:
        """The wall time of the packet at stream time `t` that arrived at `arrival`."""
        offset = arrival - t
        if self.anchor is None or self.drifted(t, arrival):
            self.anchor = offset
        elif offset < self.anchor:
            self.anchor = offset  # the earliest arrival bounds when the picture was taken
        wall = self.anchor + t
        if self.last_wall is not None and self.last_wall < wall < self.last_wall + MAX_PERIOD_S:
            self.period = 0.8 * self.period + 0.2 * (wall - self.last_wall)
        self.last_wall = wall if self.last_wall is None else max(wall, self.last_wall)
        return wall

    def pass_end(self, fallback: float) -> float:
        """Where the pass's footage ends: a frame period after its latest picture."""
        return self.last_wall + self.period if self.last_wall is not None else fallback

    # ---- the open segment -----------------------------------------------------------------

    def segment_started(self) -> None:
        self.first_t = self.last_t = None

    def written(self, t: float | None) -> None:
        if t is not None:
            self.first_t = t if self.first_t is None else min(self.first_t, t)
            self.last_t = t if self.last_t is None else max(self.last_t, t)

    def segment_length(self, t: float | None) -> float | None:
        """How long the open segment would be if the packet at `t` started the next."""
        return t - self.first_t if t is not None and self.first_t is not None else None

    def segment_bounds(self, start: float, end: float | None, fallback_end: float) -> tuple[float, float]:
        """(start, end) of the open segment by the current anchor; `start` is the one it
        was opened with, `end` where the next starts (None: a period after its last packet)."""
        if self.anchor is not None and self.first_t is not None:
            start = self.anchor + self.first_t
            if end is None and self.last_t is not None:
                end = self.anchor + self.last_t + self.period
        if self.next_start is not None:  # it continues the previous segment
            start = self.next_start
        return start, end if end is not None else fallback_end

    def segment_finished(self, end: float | None) -> None:
        """`end`: the segment was cut for its length and the next starts there; None: it was not."""
        self.first_t = self.last_t = None
        self.next_start = end
