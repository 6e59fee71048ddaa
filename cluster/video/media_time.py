"""Media time: one camera's presentation timestamps, continuous for its whole life.

`Frame.pts` is seconds of footage since the camera (or file) started. It comes
from FFmpeg's pts (`CAP_PROP_POS_MSEC`, read after each `grab()`), but a source's
own timestamps restart at every loop of a file and every reconnect, sometimes
stand still (RTSP repeats a pts now and then), and for MJPEG over HTTP are
invented by FFmpeg at an assumed 25 fps. `MediaTimeline` turns those readings
into one clock that never goes back. The rule, per grabbed frame:

- The first frame the timeline ever sees is at pts 0.0, or at `start` for a
  file opened part-way (a batch segment), so its frames keep the pts a read
  from the beginning gives them.
- Within one pass (one open of the source, one play of a file), when the source
  gave a timestamp for this frame and the previous one, and it moved forward,
  pts advances by exactly that difference: the footage's own timing, so the
  same file gives the same pts at any playback speed.
- Otherwise pts advances by the fallback step. That covers the first frame of a
  pass (a looping file started over, a stream reconnected), a source that gives
  no usable timestamp (`raw` None) and one whose timestamp stood still or went
  back. The step is:
  * for files, one frame period (1 / the container's fps, or `FALLBACK_FPS`):
    "frame count / fps", the same at every speed;
  * for network sources, the monotonic time since the previous frame (so a
    reconnect that took 10 s moves media time on by 10 s), at least
    `MIN_STEP_S` so pts always increases.

Sources whose timestamps say nothing about time (HTTP MJPEG) pass `raw=None`
for every frame, so their media time is the arrival time since open.
"""

from __future__ import annotations

import math

# Smallest advance of a network source's media time, so that frames that arrive
# together (a burst after a hiccup) still get increasing timestamps.
MIN_STEP_S = 0.001


class MediaTimeline:
    """Continuous pts for one camera's frames. Not thread-safe: the thread that
    grabs frames drives it (the capture loop, or the file driver)."""

    def __init__(self, start: float = 0.0) -> None:
        if not (math.isfinite(start) and start >= 0.0):
            raise ValueError(f"a media timeline starts at a finite pts >= 0, not {start!r}")
        self._start = start
        self._pts: float | None = None  # of the newest frame
        self._raw: float | None = None  # the source's timestamp of the newest frame, this pass
        self._arrived: float | None = None  # monotonic time the newest frame was grabbed

    @property
    def pts(self) -> float:
        """Media time of the newest frame (0.0 before the first)."""
        return self._start if self._pts is None else self._pts

    def new_pass(self) -> None:
        """The source started over (a file looped, a stream was opened again): the
        next timestamp is not comparable with the previous one."""
        self._raw = None

    def advance(self, raw: float | None, *, frame_period: float | None, now: float) -> float:
        """The pts of a newly grabbed frame.

        `raw` is the source's timestamp in seconds (None if it has none worth
        using), `frame_period` the fallback step of a file (None for a network
        source, which steps by the monotonic `now` instead).
        """
        if raw is not None and not (math.isfinite(raw) and raw >= 0.0):
            raw = None
        if self._pts is None:
            pts = self._start
        else:
            pts = self._pts + (raw - self._raw) if raw is not None and self._raw is not None else self._pts
            if not pts > self._pts:  # no usable difference: stood still, went back, or none
                pts = self._pts + self._fallback_step(frame_period, now)
        self._pts, self._raw, self._arrived = pts, raw, now
        return pts

    def _fallback_step(self, frame_period: float | None, now: float) -> float:
        if frame_period is not None:
            return frame_period
        waited = now - self._arrived if self._arrived is not None else 0.0
        return max(MIN_STEP_S, waited)
