r"""How fast a live camera analyses when its node is short of CPU (graceful overload).

A camera with `analysis.min_fps` set may lower its own analysis rate, between that
floor and `analysis.fps`, instead of falling behind at random: on a node whose
cameras together want more CPU than it has, every camera degrades about evenly and
all stay live (the scheduler admits such cameras at their cost at the floor,
`cluster.scheduler.capacity.at_floor`). Without `min_fps` the rate never moves.

The signals are the camera's own, over a window of a few seconds; it is "behind" when

- the analysis finished fewer than KEEP_UP of the frames the sampler marked due (the
  capture loop keeps only the newest due frame, so a starved analysis does not queue,
  it skips due frames), or
- the footage advanced less than KEEP_UP of the wall time (the media time of the
  analysed frames): the capture itself cannot decode the stream in real time, because
  decoding every frame is starved too. On a node short of CPU this is usually the first
  sign: decoding is paid for every frame, analysis only for the due ones, so lowering the
  analysis rate is how the camera leaves its decoder the CPU. A stalled source sends
  nothing and decides nothing (no frame was due); a reconnect or a camera that skips
  frames moves media time on by the time away, which reads as keeping up.

The controller is additive-increase / multiplicative-decrease (AIMD, as TCP shares a
link) on a level between 0 (the floor) and 1 (the full rate):

    rate = min_fps + level * (fps - min_fps)

         window behind: level *= DECREASE (to 0 below SNAP_TO_FLOOR)
    FULL ------------------------------------------> DEGRADED
    (level 1)  <-------------------------------------  (level < 1)
         windows kept up: level += STEP each, to 1        |   ^
                                                          '---' behind / kept up

Cameras on one node see the same shortage at about the same time, so their levels
fall by the same factor and climb by the same step: AIMD converges to equal levels
(every camera the same share of its own range), and it keeps probing upward, so
cameras return to their full rate when CPU frees up (a camera leaves, the node
grows). Guarantees (property-tested in tests/video/test_rate_control.py):

- the rate is always within [min_fps, fps], and is fps while never behind;
- a camera behind in every window reaches its floor, one that keeps up returns to
  fps, each within a bounded number of windows;
- two controllers fed the same windows have the same level.

Pure: the caller feeds it cumulative counters and the time (`observe`), and applies
the rate it returns (the live driver sets the capture loop's sampling rate). Not
thread-safe: one thread (the camera's analysis thread) drives it.
"""

from __future__ import annotations

import math

# A window in which the analysis finished fewer than this share of its due frames is behind.
KEEP_UP = 0.85
# The level is multiplied by this on a window behind...
DECREASE = 0.6
# ...and raised by this on a window kept up (so about 1/STEP windows from floor to full).
STEP = 0.1
# A level this low is the floor (multiplying alone never gets there).
SNAP_TO_FLOOR = 0.05
# A window lasts at least this long...
WINDOW_S = 2.0
# ...and until this many frames were due (a window of one or two frames is noise),
MIN_DUE = 5
# ...but no longer than this (a slow floor still gets decisions).
MAX_WINDOW_S = 10.0


class AdaptiveRate:
    """One camera's analysis rate, between `min_fps` (None: fixed at `fps`) and `fps`."""

    def __init__(self, fps: float, min_fps: float | None, now: float) -> None:
        if not fps > 0:
            raise ValueError(f"an adaptive rate needs fps > 0, not {fps}")
        self.fps = fps
        self.floor = _floor(fps, min_fps)
        self.level = 1.0
        self._window_start = now
        self._due_at_start: int | None = None
        self._analysed_at_start = 0
        self._media_at_start: float | None = None

    def runs(self, fps: float, min_fps: float | None) -> bool:
        """Whether these are the settings it runs (an update that changes neither keeps its level)."""
        return (self.fps, self.floor) == (fps, _floor(fps, min_fps))

    @property
    def adaptive(self) -> bool:
        """Whether the rate may move at all (a floor below the full rate)."""
        return self.floor < self.fps

    @property
    def rate(self) -> float:
        """The analysis rate the camera should run at now."""
        return self.fps if self.level >= 1.0 else self.floor + self.level * (self.fps - self.floor)

    @property
    def degraded(self) -> bool:
        """Lowered below `fps` because the analysis fell behind."""
        return self.level < 1.0

    def observe(self, now: float, due_total: int, analysed_total: int, media_time: float | None = None) -> float | None:
        """Take the camera's cumulative counts of due and analysed frames and the media
        time of the newest analysed frame (None: not known) at `now`; returns the new rate
        when this closes a window that changes it, else None."""
        if not self.adaptive:
            return None
        if self._due_at_start is None or due_total < self._due_at_start:  # first call, or counters restarted
            self._open_window(now, due_total, analysed_total, media_time)
            return None
        due = due_total - self._due_at_start
        elapsed = now - self._window_start
        if elapsed < WINDOW_S or (due < MIN_DUE and elapsed < MAX_WINDOW_S):
            return None
        analysed = analysed_total - self._analysed_at_start
        footage = None
        if media_time is not None and self._media_at_start is not None:
            footage = media_time - self._media_at_start
        self._open_window(now, due_total, analysed_total, media_time)
        if due <= 0:
            return None  # nothing was due (a stalled source): no evidence either way
        decoding_behind = footage is not None and footage < KEEP_UP * elapsed
        before = self.level
        self.level = next_level(self.level, behind=analysed < KEEP_UP * due or decoding_behind)
        return self.rate if self.level != before else None

    def _open_window(self, now: float, due_total: int, analysed_total: int, media_time: float | None) -> None:
        self._window_start = now
        self._due_at_start = due_total
        self._analysed_at_start = analysed_total
        self._media_at_start = media_time


def _floor(fps: float, min_fps: float | None) -> float:
    return fps if min_fps is None else min(max(min_fps, 0.0), fps)


def next_level(level: float, *, behind: bool) -> float:
    """The AIMD step: down by DECREASE when behind (to 0 near the floor), else up by STEP (to 1)."""
    if behind:
        lowered = level * DECREASE
        return 0.0 if lowered < SNAP_TO_FLOOR else lowered
    raised = level + STEP
    return 1.0 if raised > 1.0 - 1e-9 else raised  # ten steps of 0.1 sum to 0.999...


def windows_to_floor() -> int:
    """How many windows behind take a camera from its full rate to its floor."""
    return math.ceil(math.log(SNAP_TO_FLOOR) / math.log(DECREASE)) + 1


def windows_to_full() -> int:
    """How many windows kept up take a camera from its floor back to its full rate."""
    return math.ceil(1.0 / STEP - 1e-9)
