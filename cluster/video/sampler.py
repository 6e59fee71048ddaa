"""Which frames get analysed, decided by media time.

A camera sends frames at its own rate and the analysis runs at `analysis.fps`.
Choosing the frames by their `pts` (not by when they happen to arrive) makes
the choice a property of the footage: the same file yields the same analysed
frames whether it is played in real time or as fast as it decodes.
"""

from __future__ import annotations

import math

# Frames stamped this little before their due time still count as due: pts
# come in milliseconds, and a schedule built by adding 1/fps meets them with
# rounding noise in the last bits.
DUE_TOLERANCE_S = 1e-6


class RateSchedule:
    """At most `fps` events per second of media time, on a schedule.

    The schedule is not a minimum gap: each accepted time moves the next due time
    one interval on from the previous due time, so times arriving slightly off
    the interval still reach `fps` on average (no drift). After a gap at most
    half an interval is caught up, so there is no burst. `fps` None accepts every
    time.
    """

    def __init__(self, fps: float | None) -> None:
        if fps is not None and not fps > 0:
            raise ValueError(f"a rate schedule needs fps > 0 or None (every frame), not {fps}")
        self.fps = fps
        self.interval = 1.0 / fps if fps else 0.0
        self._next_due: float | None = None

    def due(self, pts: float) -> bool:
        """Whether an event at media time `pts` fits the schedule; if so, it is taken."""
        if self._next_due is not None and pts + DUE_TOLERANCE_S < self._next_due:
            return False
        previous_due = pts if self._next_due is None else self._next_due
        self._next_due = max(previous_due, pts - self.interval / 2) + self.interval
        return True

    def resume_at(self, pts: float) -> None:
        """Continue the schedule a run from pts 0 keeps, at media time `pts` (a file
        read from part-way, a batch segment): the next due time is the first multiple
        of the interval at or after `pts`, so both runs pick the same frames."""
        if self.interval:
            self._next_due = math.ceil((pts - DUE_TOLERANCE_S) / self.interval) * self.interval


class FrameSampler(RateSchedule):
    """Marks the frames to analyse: `fps` per second of media time (None: every frame).

    Not thread-safe: the thread that grabs frames asks it about each one, in order.
    """
