"""Frames as they leave the source, and their JPEG renditions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame.

    Two clocks, on purpose:

    - `pts` is media time: the presentation timestamp the source gave the frame,
      in seconds since the stream or file started (FFmpeg's pts through
      `CAP_PROP_POS_MSEC`), continued across loops and reconnects so that it
      never goes back. Everything that measures time *in the footage* (detector
      budgets, track ages, dwell times) uses it, so a file analysed at 20x real
      time gives the same results as the live stream.
    - `capture_time` is wall-clock epoch seconds when the frame was grabbed: what
      a person reading an event wants, and what latency is measured from.

    `sequence` counts every frame grabbed from the source since capture started,
    so gaps between the sequences a reader sees are the frames it skipped.
    """

    sequence: int
    capture_time: float
    image: np.ndarray  # BGR, HxWx3, uint8
    pts: float = 0.0


@dataclass(frozen=True, slots=True)
class JpegFrame:
    camera_id: str
    frame_sequence: int
    capture_time: float
    width: int
    height: int
    jpeg: bytes
