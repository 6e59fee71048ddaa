"""What the analysis finds in frames: boxes, detections and the batches a camera
publishes (a frame's whole result, with its events, is `results.AnalysisResult`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned box, normalised to the frame: 0..1 on both axes, so it is
    independent of the analysis and display resolutions."""

    x: float
    y: float
    w: float
    h: float

    def iou(self, other: Box) -> float:
        ix = max(0.0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0.0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union > 0 else 0.0

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2.0, self.y + self.h / 2.0)


@dataclass(frozen=True, slots=True)
class Detection:
    class_id: int
    class_name: str
    confidence: float
    box: Box
    track_id: int | None = None


@dataclass(frozen=True, slots=True)
class DetectionBatch:
    """One analysed frame's detections, as published by a camera actor.

    `sequence` is the batch number in the actor's ring (dense, starts at 1);
    `frame_sequence` the source frame it came from.
    """

    camera_id: str
    sequence: int
    frame_sequence: int
    capture_time: float
    publish_time: float
    detections: tuple[Detection, ...]
    motion: bool
    motion_ratio: float


@dataclass(frozen=True, slots=True)
class DetectionPull:
    """Answer of a long-poll for detection batches.

    `batches` are those with sequence > the requested one, oldest first, at most the
    requested count. `oldest_sequence` is the oldest batch still in the ring: a
    reader whose `after_sequence + 1 < oldest_sequence` has lost batches (gap).
    `epoch` names the ring's life: a restarted camera actor numbers from 1 again
    under a new epoch, so a reader can tell a restart even when the new ring has
    already passed the sequence it had reached ("" when the source cannot say).
    """

    camera_id: str
    batches: tuple[DetectionBatch, ...]
    oldest_sequence: int
    newest_sequence: int
    epoch: str = ""
