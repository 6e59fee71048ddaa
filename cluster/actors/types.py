"""Plain data passed between the capture loop, the analysis pipeline, the camera
actor and (later) the gateway. No Ray, no OpenCV: these cross process boundaries
through Ray's pickling and are converted to protobuf at the front door."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from ..metrics.camera_side import CameraMetricsSnapshot


class CameraState(str, enum.Enum):
    """Lifecycle of one camera's stream.

    CONNECTING: opening the source. LIVE: frames arriving. STALLED: the source is
    open but no frame came for `stall_timeout_s`. RECONNECTING: waiting out the
    backoff after a failure. FAILED: a permanent error (bad URL, missing or corrupt
    file, unusable model) that retrying cannot fix. STOPPED: shut down on purpose.
    """

    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame. `sequence` counts every frame grabbed from the source
    since the capture loop started, so gaps show how many were skipped."""

    sequence: int
    capture_time: float  # wall-clock epoch seconds when grabbed
    image: np.ndarray  # BGR, HxWx3, uint8


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned box, normalised to the frame: 0..1 on both axes, so it is
    independent of the analysis and display resolutions."""

    x: float
    y: float
    w: float
    h: float

    def iou(self, other: "Box") -> float:
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
class AnalysisResult:
    """What the pipeline made of one frame."""

    detections: tuple[Detection, ...]
    motion: bool  # motion above the configured minimum area
    motion_ratio: float  # fraction of the (unmasked) frame that moved
    detector_ran: bool
    stage_seconds: dict[str, float] = field(default_factory=dict)  # per-stage wall time


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
class JpegFrame:
    camera_id: str
    frame_sequence: int
    capture_time: float
    width: int
    height: int
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class CaptureStats:
    frames_received: int = 0  # grabbed from the source
    frames_decoded: int = 0  # retrieved (converted to BGR)
    reconnects: int = 0
    last_frame_time: float | None = None  # epoch seconds of the newest grab
    fps_in: float = 0.0  # smoothed source rate
    decode_seconds: float = 0.0  # smoothed per-retrieve wall time
    width: int = 0
    height: int = 0
    source_fps: float = 0.0  # what the source reports


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """Observed state of one camera, as returned by `CameraActor.status()`."""

    camera_id: str
    state: CameraState
    reason: str  # why it is in this state (last error for failed/reconnecting)
    node_id: str
    pid: int
    mode: str  # "motion-only" or "detector"
    frames_received: int
    frames_analysed: int
    frames_skipped: int
    detector_runs: int
    reconnects: int
    fps_in: float
    fps_out: float
    last_frame_time: float | None
    last_sequence: int  # newest detection batch sequence
    stage_seconds: dict[str, float]  # smoothed per-stage latency (decode, motion, detector, tracker)
    capture_to_publish_seconds: float  # smoothed
    cpu_percent: float  # of one core, this actor's process
    memory_uss_bytes: int
    # Cumulative histograms and counters for Prometheus (cluster/metrics/camera_side.py).
    metrics: CameraMetricsSnapshot | None = None
