"""What the scheduler tells operators: camera phases, nodes, unplaced cameras, recent moves.

Plain picklable data, returned by the scheduler actor to the CLI and tests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ..domain import NodeView
from .model import Unplaced


class CameraPhase(str, enum.Enum):
    """Where a desired camera is in the scheduler's life cycle (its bucket).

    PENDING: enabled, no actor; waiting for a node (new, its node died, retry due,
    or no capacity: then `unplaced` says why). STARTING: actor created on a node,
    no status answer yet. RUNNING: the actor answers. BACKING_OFF: its actor died
    or went silent; it is recreated at `retry_at`. FAILED: crash loop (too many
    failures in the window); retried only after a long delay, or at once when
    its config is updated. DISABLED: `enabled: false`, no actor.
    """

    PENDING = "pending"
    STARTING = "starting"
    RUNNING = "running"
    BACKING_OFF = "backing_off"
    FAILED = "failed"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class CameraReport:
    camera_id: str
    phase: CameraPhase
    node_id: str | None
    cost: float  # current estimate, cores: what the scheduler reserves for it while it runs
    reserved_cpus: float | None  # num_cpus its actor declared to Ray (the same small share for every camera)
    restarts: int  # actor recreations after deaths or lost heartbeats
    state: str | None  # CameraState of the newest status, if any ("unresponsive" while its actor is silent)
    reason: str  # why it is in this phase (or why it is unresponsive)
    retry_in_s: float | None = None
    measured: float | None = None  # cores its actor last measured of itself (None without a status)
    cost_basis: str = ""  # where the estimate comes from (cost.CostBasis value)


@dataclass(frozen=True, slots=True)
class NodeReport:
    """One node as the scheduler reports it to operators (`matthan cluster status`)."""

    node_id: str
    address: str
    alive: bool
    cpus: float
    usable: float  # cpus * (1 - headroom): what cameras may use
    load: float  # cores the scheduler reserves for the cameras on it (their estimates)
    cameras: tuple[str, ...]
    is_head: bool = False
    draining: bool = False  # DrainNode
    releasing: bool = False  # emptied by consolidation for the autoscaler
    suspect: bool = False  # its actors died at once: treated as dead until Ray decides
    labels: dict[str, str] = field(default_factory=dict)
    measured: float = 0.0  # cores its camera actors last measured of themselves
    kind: str = ""  # node kind of the cost calibration
    calibration: float | None = None  # measured / prior on nodes of its kind, if learnt

    @property
    def reserved(self) -> float:
        """Cores the scheduler reserves on the node (`load`)."""
        return self.load

    @property
    def utilisation(self) -> float:
        """Reserved over usable."""
        return self.load / self.usable if self.usable > 0 else 0.0

    @property
    def measured_utilisation(self) -> float:
        """Measured over usable."""
        return self.measured / self.usable if self.usable > 0 else 0.0

    def as_node_view(self) -> NodeView:
        """The node as the front door shows it (`ClusterStatus.nodes`)."""
        return NodeView(
            node_id=self.node_id,
            address=self.address,
            alive=self.alive,
            cpus=self.cpus,
            cameras=self.cameras,
            load=round(self.load, 4),
            labels=dict(self.labels),
            draining=self.draining or self.releasing,
        )


@dataclass(frozen=True, slots=True)
class MoveRecord:
    at: float  # wall-clock epoch seconds
    camera_id: str
    from_node: str
    to_node: str
    reason: str


@dataclass(frozen=True)
class SchedulerReport:
    nodes: tuple[NodeReport, ...]
    cameras: tuple[CameraReport, ...]
    unplaced: tuple[Unplaced, ...]
    requested_bundles: tuple[dict[str, float], ...]  # current request to the autoscaler
    recent_moves: tuple[MoveRecord, ...]
    moves_last_minute: int
    ticks: int
    last_error: str | None = None  # the newest exception a tick survived

    def phase_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for cam in self.cameras:
            counts[cam.phase.value] = counts.get(cam.phase.value, 0) + 1
        return counts

    def camera(self, camera_id: str) -> CameraReport:
        for cam in self.cameras:
            if cam.camera_id == camera_id:
                return cam
        raise KeyError(f"camera {camera_id!r} is not in the report")
