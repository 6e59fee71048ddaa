"""The contract between the front door (gateway, CLI, metrics) and the control
plane that runs the cameras.

`matthan serve` implements it with `cluster.scheduler.client.SchedulerClient`
(the scheduler actor owns the desired set, camera handles talk to camera actors
directly); the gateway's unit tests implement it in memory. Errors and data types
are the domain's (`cluster.domain`), re-exported here for the contract's users.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .config import CameraConfig
from .domain import (
    CameraExists,
    CameraNotFound,
    CameraStatus,
    CameraUnavailable,
    CameraUnresponsive,
    ClusterStatus,
    ControlError,
    DetectionPull,
    DrainResult,
    EventPull,
    JpegFrame,
    NodeNotFound,
    NodeView,
    PlacementRejected,
    SchedulerUnavailable,
)

__all__ = [
    "CameraControl",
    "CameraExists",
    "CameraHandle",
    "CameraNotFound",
    "CameraUnavailable",
    "CameraUnresponsive",
    "CameraView",
    "ClusterStatus",
    "ControlError",
    "DetectionPull",
    "DrainResult",
    "NodeNotFound",
    "NodeView",
    "PlacementRejected",
    "SchedulerUnavailable",
]


@dataclass(frozen=True, slots=True)
class CameraView:
    """Desired state plus what is observed of it (None while the actor is not up)."""

    config: CameraConfig
    status: CameraStatus | None
    node_id: str | None


class CameraHandle(Protocol):
    """Data-plane calls to one camera actor (async: they await Ray object refs).

    Every call ends within its deadline: a camera that does not answer in time
    raises `CameraUnresponsive` (a `CameraUnavailable`), never hangs its caller."""

    camera_id: str

    async def status(self) -> CameraStatus: ...

    async def pull_detections(self, after_sequence: int, max_batches: int, timeout_s: float) -> DetectionPull: ...

    async def pull_events(self, after_sequence: int, max_events: int, timeout_s: float) -> EventPull:
        """Event revisions of the camera's event ring after `after_sequence` (see `EventPull`)."""
        ...

    async def latest_jpeg(
        self, after_frame_sequence: int, timeout_s: float, max_width: int = 0, quality: int = 0
    ) -> JpegFrame | None: ...


class CameraControl(Protocol):
    """Desired-state admin, cluster administration and lookup of camera handles."""

    async def list_cameras(self) -> list[CameraView]: ...

    async def get_camera(self, camera_id: str) -> CameraView: ...

    async def add_camera(self, config: CameraConfig) -> CameraView: ...

    async def update_camera(self, config: CameraConfig) -> CameraView: ...

    async def remove_camera(self, camera_id: str) -> None: ...

    async def handle(self, camera_id: str) -> CameraHandle: ...

    async def cluster_status(self) -> ClusterStatus: ...

    async def drain_node(self, node_id: str) -> DrainResult:
        """Move every camera off `node_id` and place no new one there.
        Raises NodeNotFound, or PlacementRejected for the last schedulable node."""
        ...

    async def undrain_node(self, node_id: str) -> None:
        """Let a drained node take cameras again. Raises NodeNotFound."""
        ...
