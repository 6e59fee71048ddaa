"""What one control-loop step decided to do to the cluster, as typed values.

The step's functions append here as they decide (so a step that fails halfway
still carries out what it already decided: the records and the actions never
disagree); the controller carries the actions out once the lock is released.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..config import CameraConfig
from .model import Move

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class StopActor:
    """Stop (gracefully, briefly) and kill one camera actor."""

    camera_id: str
    actor: object
    reason: str


@dataclass(frozen=True, slots=True)
class StartActor:
    """Create the camera's actor pinned to `node_id`, declaring `cpus` to Ray."""

    camera_id: str
    node_id: str
    cpus: float
    config: CameraConfig


@dataclass(frozen=True, slots=True, eq=False)
class PushConfig:
    """Send a changed config to a running actor (fire and forget)."""

    actor: object
    config: CameraConfig


@dataclass
class StepActions:
    stops: list[StopActor] = field(default_factory=list)
    starts: list[StartActor] = field(default_factory=list)
    pushes: list[PushConfig] = field(default_factory=list)
    # Moves the plan of this step made (each also a stop and a start): a DrainNode
    # answers with the ones off its node.
    moves: list[Move] = field(default_factory=list)

    def stop(self, camera_id: str, actor: object, reason: str) -> None:
        self.stops.append(StopActor(camera_id, actor, reason))
        logger.info("camera %s: stopping its actor (%s)", camera_id, reason)

    def start(self, start: StartActor) -> None:
        self.starts.append(start)

    def push(self, actor: object, config: CameraConfig) -> None:
        self.pushes.append(PushConfig(actor, config))
