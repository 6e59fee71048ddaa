"""The cluster as the front door sees it: nodes, their cameras, drains."""

from __future__ import annotations

from dataclasses import dataclass, field


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
