"""`SchedulerClient`: the CameraControl the gateway and `matthan serve` use, forwarding
to the scheduler actor.

Data-plane calls do not go through the scheduler: `handle()` asks it once for the
camera's actor handle and the caller talks to the camera actor directly.

Reads are retried for a few seconds when the scheduler actor is unreachable
(Ray is restarting it); admin calls are not (they are not idempotent: a retried
AddCamera could answer CameraExists for the camera it just added), they raise
ControlError and the caller may retry.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ray
from ray.exceptions import RayActorError, RayError

from ..actors.handle import CameraActorHandle
from ..config import CameraConfig
from ..control import CameraView, ClusterStatus, ControlError, DrainResult, SchedulerUnavailable
from .actor import RemoteError, get_scheduler
from .report import SchedulerReport

logger = logging.getLogger(__name__)

READ_RETRY_S = 15.0  # how long reads wait for a restarting scheduler
RETRY_PAUSE_S = 0.5
CALL_TIMEOUT_S = 90.0  # above the actor's own REQUEST_TIMEOUT_S
SHUTDOWN_TIMEOUT_S = 15.0


async def _wait(ref) -> Any:
    return await ref


class SchedulerClient:
    """Implements `cluster.control.CameraControl` (plus drain/undrain and reports)."""

    def __init__(self, actor, namespace: str, *, call_timeout_s: float = CALL_TIMEOUT_S):
        self._actor = actor
        self.namespace = namespace
        self.call_timeout_s = call_timeout_s

    @classmethod
    def connect(cls, namespace: str) -> "SchedulerClient":
        """A client of the running scheduler of `namespace` (Ray must be connected)."""
        actor = get_scheduler(namespace)
        if actor is None:
            raise SchedulerUnavailable(
                f"no scheduler actor in Ray namespace {namespace!r}: is `matthan serve` running?"
            )
        return cls(actor, namespace)

    async def _call(self, method: str, *args, read: bool = False):
        deadline = asyncio.get_running_loop().time() + (READ_RETRY_S if read else 0.0)
        while True:
            try:
                ref = getattr(self._actor, method).remote(*args)
                result = await asyncio.wait_for(_wait(ref), self.call_timeout_s)
                break
            except (RayActorError, asyncio.TimeoutError) as exc:
                if asyncio.get_running_loop().time() >= deadline:
                    raise SchedulerUnavailable(f"the scheduler actor did not answer {method}: {exc}") from None
                await asyncio.sleep(RETRY_PAUSE_S)
                # A scheduler re-created by someone else has a new handle.
                self._actor = get_scheduler(self.namespace) or self._actor
        if isinstance(result, RemoteError):
            raise result.to_exception()
        return result

    # ---- CameraControl -----------------------------------------------------------------

    async def list_cameras(self) -> list[CameraView]:
        return await self._call("list_cameras", read=True)

    async def get_camera(self, camera_id: str) -> CameraView:
        return await self._call("get_camera", camera_id, read=True)

    async def add_camera(self, config: CameraConfig) -> CameraView:
        return await self._call("add_camera", config)

    async def update_camera(self, config: CameraConfig) -> CameraView:
        return await self._call("update_camera", config)

    async def remove_camera(self, camera_id: str) -> None:
        await self._call("remove_camera", camera_id)

    async def handle(self, camera_id: str) -> CameraActorHandle:
        actor = await self._call("camera_actor", camera_id, read=True)
        return CameraActorHandle(camera_id, actor)

    async def cluster_status(self) -> ClusterStatus:
        return await self._call("cluster_status", read=True)

    async def drain_node(self, node_id: str) -> DrainResult:
        return await self._call("drain_node", node_id)

    # ---- beyond the protocol -----------------------------------------------------------

    async def undrain_node(self, node_id: str) -> None:
        await self._call("undrain_node", node_id)

    async def report(self) -> SchedulerReport:
        return await self._call("report", read=True)

    async def seed(self, configs: list[CameraConfig]) -> bool:
        """Use `configs` as the desired set if the scheduler has none yet (first start)."""
        return await self._call("seed", list(configs))

    async def stop_all_cameras(self) -> int:
        return await self._call("stop_all_cameras")

    async def resume_cameras(self) -> None:
        await self._call("resume_cameras")

    async def shutdown(self, *, stop_cameras: bool, timeout_s: float = SHUTDOWN_TIMEOUT_S) -> None:
        """End the scheduler actor; with `stop_cameras`, stop every camera actor first.
        The persisted state stays, so the next scheduler resumes the same set.

        Bounded: on Ctrl-C the terminal signals the whole foreground process group,
        which includes a locally started raylet, so the cluster may already be going
        down and calls may never be answered.
        """
        try:
            await asyncio.wait_for(self._shutdown(stop_cameras), timeout_s)
        except (asyncio.TimeoutError, ControlError, RayError) as exc:
            logger.warning("the scheduler did not shut down cleanly (%s); is the cluster going down already?",
                           exc or type(exc).__name__)

    async def _shutdown(self, stop_cameras: bool) -> None:
        if stop_cameras:
            stopped = await self.stop_all_cameras()
            logger.info("stopped %d camera actor(s)", stopped)
        await _wait(self._actor.shutdown_loop.remote())
        ray.kill(self._actor, no_restart=True)
