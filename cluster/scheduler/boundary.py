"""What the controller needs from the cluster, as a protocol.

`ray_cluster.RayCluster` implements it with Ray calls; the controller's tests
implement it in memory. Actor handles are opaque here (`object`): the controller
only stores them and hands them back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..config import CameraConfig, SourceConfig
from ..domain import CameraStatus
from .actions import StopActor
from .prior import SourceInfo


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """One node as the cluster reports it (the one node type from Ray to the scheduler;
    the planner sees `model.NodeCapacity`, operators `report.NodeReport`, the front
    door `cluster.domain.NodeView`, each derived from this in one place)."""

    node_id: str
    address: str
    alive: bool
    cpus: float  # the node's CPU resource (logical cores)
    is_head: bool = False
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The actor answered `status()`."""

    status: CameraStatus


@dataclass(frozen=True, slots=True)
class Gone:
    """The actor is dead (killed, crashed, its creation failed, or its node died)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Silent:
    """No answer within the poll timeout (busy, wedged, still starting, or unreachable)."""

    reason: str = "no answer"


Probe = Heartbeat | Gone | Silent


class NameTaken(Exception):
    """A camera actor with this name is still registered (the old one is not fully gone)."""


class StartFailed(Exception):
    """The actor could not even be submitted (bad resources, serialisation, Ray down)."""


class ClusterBoundary(Protocol):
    def list_nodes(self) -> list[NodeInfo]:
        """Every node Ray knows, dead ones included while it still lists them."""
        ...

    def find_camera_actors(self) -> dict[str, object]:
        """Alive camera actors of our namespace by camera id (for adoption after a restart)."""
        ...

    def lookup_camera_actor(self, camera_id: str) -> object | None:
        """The alive actor registered under this camera's name, if any."""
        ...

    def start_camera(self, config: CameraConfig, node_id: str, cpus: float) -> object:
        """Create the camera actor pinned to `node_id`, reserving `cpus`; returns its handle
        without waiting for it to come up. Raises NameTaken or StartFailed."""
        ...

    def stop_cameras(self, stops: Sequence[StopActor]) -> None:
        """Stop (gracefully, briefly) and kill these actors; returns once their names are free
        or a bounded wait has passed. Two stops may name one camera (an orphan and the
        tracked actor): both actors are stopped."""
        ...

    def probe(self, actors: Mapping[str, object], timeout_s: float) -> dict[str, Probe]:
        """One `status()` call to each actor, all at once; an entry for every actor.
        Returns within `timeout_s` (plus bookkeeping) whatever the actors do."""
        ...

    def read_config(self, actor: object) -> CameraConfig:
        """The config a running actor was started with (to rebuild a lost desired set)."""
        ...

    def push_config(self, actor: object, config: CameraConfig) -> None:
        """Send a changed config to a running actor (fire and forget)."""
        ...

    def request_capacity(self, bundles: list[dict[str, float]]) -> None:
        """Ask the autoscaler for a cluster that fits these bundles in total ([] withdraws)."""
        ...

    def probe_source(self, source: SourceConfig) -> SourceInfo | None:
        """Width, height and fps of a source before its camera runs, if they can be read
        cheaply (file sources); None otherwise. Called from any thread."""
        ...
