"""The contract between the front door (gateway, CLI) and whatever runs the cameras.

Today a `CameraFleet` in the serving process implements it; the scheduler actor
(issue 4) takes it over. The gateway depends only on these protocols, so its
tests can drive it with an in-memory implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .actors.types import CameraStatus, DetectionBatch, JpegFrame
from .config import CameraConfig


class ControlError(Exception):
    """Base of errors the control plane reports to clients."""


class CameraNotFound(ControlError, KeyError):
    def __init__(self, camera_id: str):
        super().__init__(f"camera {camera_id!r} not found")
        self.camera_id = camera_id

    def __str__(self) -> str:  # KeyError would quote the message again
        return self.args[0]


class CameraExists(ControlError):
    def __init__(self, camera_id: str):
        super().__init__(f"camera {camera_id!r} already exists")
        self.camera_id = camera_id


class CameraUnavailable(ControlError):
    """The camera is configured but its actor is not running (starting, failed, being moved)."""


class NodeNotFound(ControlError, KeyError):
    """No alive node with this id (drain/undrain of an unknown or dead node)."""

    def __init__(self, node_id: str, detail: str = ""):
        super().__init__(f"node {node_id!r} not found" + (f": {detail}" if detail else ""))
        self.node_id = node_id

    def __str__(self) -> str:  # KeyError would quote the message again
        return self.args[0]


class PlacementRejected(ControlError):
    """A request the cluster cannot honour as asked (a camera bigger than any node,
    draining the last node); nothing was changed."""


@dataclass(frozen=True, slots=True)
class CameraView:
    """Desired state plus what is observed of it (None while the actor is not up)."""

    config: CameraConfig
    status: CameraStatus | None
    node_id: str | None


@dataclass(frozen=True, slots=True)
class DetectionPull:
    """Answer of a long-poll for detection batches.

    `batches` are those with sequence > the requested one, oldest first, at most the
    requested count. `oldest_sequence` is the oldest batch still in the ring: a
    reader whose `after_sequence + 1 < oldest_sequence` has lost batches (gap).
    """

    camera_id: str
    batches: tuple[DetectionBatch, ...]
    oldest_sequence: int
    newest_sequence: int


@dataclass(frozen=True, slots=True)
class NodeView:
    node_id: str
    address: str
    alive: bool
    cpus: float
    cameras: tuple[str, ...] = ()
    load: float = 0.0  # estimated cores used by its cameras
    labels: dict[str, str] = field(default_factory=dict)
    draining: bool = False  # being emptied (DrainNode) or released (consolidation): takes no new cameras


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    nodes: tuple[NodeView, ...]
    cameras_configured: int
    cameras_live: int
    unplaced: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DrainResult:
    """Answer of DrainNode: cameras moved off the node by this call, and those that
    had nowhere to go (they keep running there until capacity appears)."""

    node_id: str
    moved_camera_ids: tuple[str, ...] = ()
    stranded_camera_ids: tuple[str, ...] = ()


class CameraHandle(Protocol):
    """Data-plane calls to one camera actor (async: they await Ray object refs)."""

    camera_id: str

    async def status(self) -> CameraStatus: ...

    async def pull_detections(self, after_sequence: int, max_batches: int, timeout_s: float) -> DetectionPull: ...

    async def latest_jpeg(
        self, after_frame_sequence: int, timeout_s: float, max_width: int = 0, quality: int = 0
    ) -> JpegFrame | None: ...


class CameraControl(Protocol):
    """Desired-state admin and lookup of camera handles."""

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
