"""Requests to the controller: submitted from any thread, applied in order by the
control loop at the start of its next step, answered through a Future.

Serialising every change through the loop means no request races an action the
loop is taking (starting the very actor a RemoveCamera wants gone).

Applying a request gives a `Reply`: what to answer once the step has acted
(the camera's view after its actor was started, the moves a drain made), as a
value rather than a callback, so nothing holds on to the step's internals.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field

from ..config import CameraConfig


@dataclass(frozen=True)
class AddCamera:
    """Answer: the CameraView after the step (placed, actor starting, or unplaced)."""

    config: CameraConfig


@dataclass(frozen=True)
class UpdateCamera:
    """Answer: the CameraView after the step."""

    config: CameraConfig


@dataclass(frozen=True)
class RemoveCamera:
    """Answer: None, once its actor is stopped."""

    camera_id: str


@dataclass(frozen=True)
class DrainNode:
    """Answer: a DrainResult (cameras moved off by this step, cameras stranded)."""

    node_id: str


@dataclass(frozen=True)
class UndrainNode:
    """Answer: None; the node takes cameras again (rebalancing may move some there)."""

    node_id: str


@dataclass(frozen=True)
class SeedCameras:
    """First start only: take these cameras as the desired set if the scheduler has
    none yet (nothing persisted, nothing running). Answer: True if it did."""

    configs: tuple[CameraConfig, ...]


@dataclass(frozen=True)
class StopAllCameras:
    """Stop every camera actor and start none until `ResumeCameras`; the desired set
    is kept. For a clean shutdown of a cluster that is about to go away. Answer: count."""


@dataclass(frozen=True)
class ResumeCameras:
    """Undo `StopAllCameras`. Answer: None."""


Request = (
    AddCamera | UpdateCamera | RemoveCamera | DrainNode | UndrainNode | SeedCameras | StopAllCameras | ResumeCameras
)


@dataclass(frozen=True, slots=True)
class Value:
    """Answer with this value."""

    value: object = None


@dataclass(frozen=True, slots=True)
class ViewOf:
    """Answer with the camera's CameraView after the step."""

    camera_id: str


@dataclass(frozen=True, slots=True)
class DrainOutcome:
    """Answer with a DrainResult: the step's moves off the node, the cameras still on it."""

    node_id: str


Reply = Value | ViewOf | DrainOutcome


@dataclass
class Submitted:
    request: Request
    future: Future = field(default_factory=Future)
