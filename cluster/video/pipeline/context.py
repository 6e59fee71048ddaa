"""What the stages of the pipeline share about the frame being analysed, and what a stage is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from cluster.domain import Detection, Frame


@dataclass(slots=True)
class FrameContext:
    """What the stages know about the frame being analysed; each stage reads and
    fills in its part."""

    frame: Frame
    image: np.ndarray  # the (possibly downscaled) BGR image the stages work on
    timestamp: float  # the frame's media time (pts): drives rate limiting and track ages
    motion: bool = False
    motion_ratio: float = 0.0
    detections: tuple[Detection, ...] = ()
    detector_ran: bool = False
    fresh_detections: bool = False  # detections were (re)computed this frame: the tracker runs


class Stage(Protocol):
    """One step of the pipeline. `run` returns True when it did work this frame;
    only those stages get an entry (their wall time) in `stage_seconds`."""

    name: str

    def run(self, context: FrameContext) -> bool: ...
