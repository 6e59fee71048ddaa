"""A camera's observed state: its stream's life cycle and what its actor reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .recordings import RecordingStatus
from .telemetry import CameraMetricsSnapshot


class CameraState(str, enum.Enum):
    """Lifecycle of one camera's stream.

    CONNECTING: opening the source. LIVE: frames arriving. STALLED: the source is
    open but no frame came for `stall_timeout_s`. RECONNECTING: waiting out the
    backoff after a failure. FAILED: a permanent error (bad URL, missing or corrupt
    file, unusable model) that retrying cannot fix. STOPPED: shut down on purpose.
    UNRESPONSIVE: never reported by a camera itself: its actor stopped answering
    (frozen process, wedged decoder, lost node) and the last status it gave is
    no longer true; the scheduler reports it until the actor answers or is replaced.
    """

    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"
    UNRESPONSIVE = "unresponsive"


class AnalysisMode(str, enum.Enum):
    """What a camera's pipeline produces detections from."""

    MOTION_ONLY = "motion-only"  # no detector: moving regions are the detections
    DETECTOR = "detector"  # an object detector (cv2.dnn)
    NONE = "none"  # no pipeline built (not started, or its set-up failed)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class CaptureStats:
    frames_received: int = 0  # grabbed from the source
    frames_decoded: int = 0  # retrieved (converted to BGR)
    frames_due: int = 0  # marked due for the analysis by the sampler
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
    mode: AnalysisMode
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
    # Cumulative histograms and counters for Prometheus (cluster/actors/telemetry.py).
    metrics: CameraMetricsSnapshot | None = None
    # The stream as the capture loop found it (0 until it connected): the scheduler costs
    # cameras by their source's shape.
    source_width: int = 0
    source_height: int = 0
    source_fps: float = 0.0  # what the source declares, else the measured rate
    # The camera's recorder (None: recording was never configured on this actor).
    recording: RecordingStatus | None = None
    # The rate the camera analyses at now: analysis.fps, or lower while `degraded` (its
    # node is short of CPU and analysis.min_fps lets it lower itself; 0 from older actors).
    target_fps: float = 0.0
    degraded: bool = False
