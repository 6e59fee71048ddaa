"""Creating, finding and killing camera actors: every Ray call of the fleet lives here."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import ray

from ..config import CameraConfig
from .camera_actor import CameraActor, actor_name
from .handle import CameraActorHandle

logger = logging.getLogger(__name__)

# Ray restarts a crashed camera actor this many times by itself.
CAMERA_MAX_RESTARTS = 5
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class RayNode:
    node_id: str
    address: str
    alive: bool
    cpus: float


class CameraActorFactory:
    def __init__(self, namespace: str, camera_cpu: float):
        self.namespace = namespace
        self.camera_cpu = camera_cpu

    def create(self, config: CameraConfig) -> CameraActorHandle:
        actor = CameraActor.options(
            name=actor_name(config.id),
            namespace=self.namespace,
            num_cpus=self.camera_cpu,
            max_restarts=CAMERA_MAX_RESTARTS,
            max_task_retries=0,
        ).remote(config)
        return CameraActorHandle(config.id, actor)

    async def destroy(self, handle: CameraActorHandle) -> None:
        try:
            await asyncio.wait_for(handle.actor.stop.remote(), STOP_TIMEOUT_S)
        except Exception as exc:  # already dead or wedged: kill regardless
            logger.warning("camera %s did not stop cleanly: %r", handle.camera_id, exc)
        ray.kill(handle.actor, no_restart=True)

    def nodes(self) -> list[RayNode]:
        return [
            RayNode(
                node_id=n["NodeID"],
                address=n.get("NodeManagerAddress", ""),
                alive=bool(n.get("Alive")),
                cpus=float(n.get("Resources", {}).get("CPU", 0.0)),
            )
            for n in ray.nodes()
        ]


def find_camera_actors(namespace: str) -> dict[str, object]:
    """Camera actors currently registered in `namespace`, by camera id."""
    prefix = actor_name("")
    found = {}
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry.get("namespace") == namespace and entry.get("name", "").startswith(prefix):
            name = entry["name"]
            found[name[len(prefix):]] = ray.get_actor(name, namespace=namespace)
    return found
