"""`SchedulerClient`: the CameraControl the gateway and `matthan serve` use, forwarding
to the scheduler actor.

Data-plane calls do not go through the scheduler: `handle()` asks it once for the
camera's actor handle and the caller talks to the camera actor directly.

Every call has a deadline, and a call that finds no answer within it raises
`SchedulerUnavailable` (UNAVAILABLE at the front door), never hangs:

- reads (`list_cameras`, `cluster_status`, ...) answer from the scheduler's
  latest state at once; each attempt gets `read_attempt_s`, and attempts are
  retried until `read_deadline_s` while the actor is unreachable (Ray is
  restarting it);
- admin calls wait for the control-loop step that applies them (the actor gives
  up after its own `REQUEST_TIMEOUT_S`); they get `admin_deadline_s` and are not
  retried (not idempotent: a retried AddCamera could answer CameraExists for the
  camera it just added).

A `ControlError` the scheduler answers with (`CameraNotFound`, ...) is raised as
exactly that error (see replies.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ray
from ray.exceptions import RayError

from ..actors.handle import CameraActorHandle
from ..config import CameraConfig
from ..control import CameraView, ClusterStatus, ControlError, DrainResult, SchedulerUnavailable
from ..support.detached import Call, SingletonCaller, Unanswered, describe
from .actor import REQUEST_TIMEOUT_S, get_scheduler, missing_scheduler_hint
from .replies import unwrap
from .report import SchedulerReport
from .settings import SCHEDULER_ACTOR_NAME

logger = logging.getLogger(__name__)

READ_ATTEMPT_S = 5.0  # one read: the actor answers from memory, so this is generous
READ_DEADLINE_S = 15.0  # reads, retries included, while Ray restarts the scheduler
ADMIN_DEADLINE_S = REQUEST_TIMEOUT_S + 10.0  # above the actor's own wait for the step
SHUTDOWN_TIMEOUT_S = 15.0


class SchedulerClient:
    """Implements `cluster.control.CameraControl` (plus reports, seeding and shutdown)."""

    def __init__(
        self,
        actor: Any,
        namespace: str,
        *,
        read_attempt_s: float = READ_ATTEMPT_S,
        read_deadline_s: float = READ_DEADLINE_S,
        admin_deadline_s: float = ADMIN_DEADLINE_S,
    ) -> None:
        for name, value in (
            ("read_attempt_s", read_attempt_s),
            ("read_deadline_s", read_deadline_s),
            ("admin_deadline_s", admin_deadline_s),
        ):
            if not value > 0:
                raise ValueError(f"SchedulerClient {name} must be a positive number of seconds, got {value!r}")
        self._caller = SingletonCaller(actor, SCHEDULER_ACTOR_NAME, namespace)
        self.namespace = namespace
        self.read_attempt_s = read_attempt_s
        self.read_deadline_s = read_deadline_s
        self.admin_deadline_s = admin_deadline_s

    @classmethod
    def connect(cls, namespace: str) -> SchedulerClient:
        """A client of the running scheduler of `namespace` (Ray must be connected)."""
        actor = get_scheduler(namespace)
        if actor is None:
            raise SchedulerUnavailable(
                f"no scheduler actor in Ray namespace {namespace!r} {missing_scheduler_hint(namespace)}: "
                "is `matthan serve` running, and attached to this Ray cluster?"
            )
        return cls(actor, namespace)

    async def _read(self, method: str, call: Call) -> Any:
        try:
            reply = await self._caller.retrying(
                method, call, attempt_s=self.read_attempt_s, deadline_s=self.read_deadline_s
            )
        except Unanswered as exc:
            raise SchedulerUnavailable(
                f"the scheduler actor did not answer {method} within {self.read_deadline_s:g} s: {exc.cause}"
            ) from None
        return unwrap(reply)

    async def _admin(self, method: str, call: Call) -> Any:
        try:
            reply = await self._caller.once(method, call, self.admin_deadline_s)
        except Unanswered as exc:
            raise SchedulerUnavailable(
                f"the scheduler actor did not answer {method} within {self.admin_deadline_s:g} s "
                f"({exc.cause}); it may still take effect"
            ) from None
        return unwrap(reply)

    # ---- CameraControl -----------------------------------------------------------------

    async def list_cameras(self) -> list[CameraView]:
        return await self._read("list_cameras", lambda a: a.list_cameras.remote())

    async def get_camera(self, camera_id: str) -> CameraView:
        return await self._read("get_camera", lambda a: a.get_camera.remote(camera_id))

    async def add_camera(self, config: CameraConfig) -> CameraView:
        return await self._admin("add_camera", lambda a: a.add_camera.remote(config))

    async def update_camera(self, config: CameraConfig) -> CameraView:
        return await self._admin("update_camera", lambda a: a.update_camera.remote(config))

    async def remove_camera(self, camera_id: str) -> None:
        await self._admin("remove_camera", lambda a: a.remove_camera.remote(camera_id))

    async def handle(self, camera_id: str) -> CameraActorHandle:
        actor = await self._read("camera_actor", lambda a: a.camera_actor.remote(camera_id))
        return CameraActorHandle(camera_id, actor)

    async def cluster_status(self) -> ClusterStatus:
        return await self._read("cluster_status", lambda a: a.cluster_status.remote())

    async def drain_node(self, node_id: str) -> DrainResult:
        return await self._admin("drain_node", lambda a: a.drain_node.remote(node_id))

    async def undrain_node(self, node_id: str) -> None:
        await self._admin("undrain_node", lambda a: a.undrain_node.remote(node_id))

    # ---- beyond the protocol -----------------------------------------------------------

    async def report(self) -> SchedulerReport:
        return await self._read("report", lambda a: a.report.remote())

    async def seed(self, configs: list[CameraConfig]) -> bool:
        """Use `configs` as the desired set if the scheduler has none yet (first start)."""
        configs = list(configs)
        return await self._admin("seed", lambda a: a.seed.remote(configs))

    async def stop_all_cameras(self) -> int:
        return await self._admin("stop_all_cameras", lambda a: a.stop_all_cameras.remote())

    async def resume_cameras(self) -> None:
        await self._admin("resume_cameras", lambda a: a.resume_cameras.remote())

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
            logger.warning(
                "the scheduler did not shut down cleanly (%s); is the cluster going down already?", describe(exc)
            )

    async def _shutdown(self, stop_cameras: bool) -> None:
        if stop_cameras:
            stopped = await self.stop_all_cameras()
            logger.info("stopped %d camera actor(s)", stopped)
        await self._caller.actor.shutdown_loop.remote()
        ray.kill(self._caller.actor, no_restart=True)
