"""Python client of the Mắt Thần gRPC front door (used by the CLI)."""

from ..contract import DataLoss, LossReason
from .client import ClientTls, DetectionEvent, DetectionStream, FrameEvent, FrameStream, MatthanClient, NodeDrain
from .errors import (
    AlreadyExists,
    ClientError,
    DeadlineExceeded,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from .events import EventCounts, EventResults, EventsClient, EventSelection, EventStream, EventUpdate

__all__ = [
    "AlreadyExists",
    "ClientError",
    "ClientTls",
    "DataLoss",
    "DeadlineExceeded",
    "DetectionEvent",
    "DetectionStream",
    "EventCounts",
    "EventResults",
    "EventSelection",
    "EventStream",
    "EventUpdate",
    "EventsClient",
    "FrameEvent",
    "FrameStream",
    "InvalidArgument",
    "LossReason",
    "MatthanClient",
    "NodeDrain",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
]
