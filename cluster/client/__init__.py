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

__all__ = [
    "AlreadyExists",
    "ClientError",
    "ClientTls",
    "DataLoss",
    "DeadlineExceeded",
    "DetectionEvent",
    "DetectionStream",
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
