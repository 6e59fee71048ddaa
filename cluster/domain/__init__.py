"""Plain data shared by every part of Mắt Thần: frames, detections, events, camera
and cluster state, telemetry snapshots and the typed errors of the control plane.

A leaf: nothing here imports the rest of the project (only the standard library
and numpy), so the video core, the camera actor, the scheduler, the gateway and
the client can all use these types without import cycles. Everything pickles,
because these values cross process boundaries through Ray.
"""

from .camera import AnalysisMode, CameraState, CameraStatus, CaptureStats
from .cluster import ClusterStatus, DrainResult, NodeView
from .detections import Box, Detection, DetectionBatch, DetectionPull
from .errors import (
    CameraExists,
    CameraNotFound,
    CameraUnavailable,
    CameraUnresponsive,
    ControlError,
    NodeNotFound,
    PlacementRejected,
    SchedulerUnavailable,
)
from .events import Direction, Event, EventType, Severity, event_id
from .frames import Frame, JpegFrame
from .recordings import (
    ChainCheck,
    EvidenceHold,
    RecordedRange,
    RecordingGap,
    RecordingState,
    RecordingStatus,
    RecordingTimeline,
    SegmentInfo,
)
from .results import AnalysisResult, EventPull
from .telemetry import CameraMetricsSnapshot, HistogramSnapshot

__all__ = [
    "AnalysisMode",
    "AnalysisResult",
    "Box",
    "CameraExists",
    "CameraMetricsSnapshot",
    "CameraNotFound",
    "CameraState",
    "CameraStatus",
    "CameraUnavailable",
    "CameraUnresponsive",
    "CaptureStats",
    "ChainCheck",
    "ClusterStatus",
    "ControlError",
    "Detection",
    "DetectionBatch",
    "DetectionPull",
    "Direction",
    "DrainResult",
    "Event",
    "EventPull",
    "EventType",
    "EvidenceHold",
    "Frame",
    "HistogramSnapshot",
    "JpegFrame",
    "NodeNotFound",
    "NodeView",
    "PlacementRejected",
    "RecordedRange",
    "RecordingGap",
    "RecordingState",
    "RecordingStatus",
    "RecordingTimeline",
    "SchedulerUnavailable",
    "SegmentInfo",
    "Severity",
    "event_id",
]
