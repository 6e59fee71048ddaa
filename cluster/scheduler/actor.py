"""The scheduler actor: a named, detached Ray actor owning the desired camera set
and placement. Thin: the logic is in `Controller`; this runs its loop on a thread
and exposes it to callers.

Threaded (max_concurrency > 1): the control loop runs on its own thread started in
the constructor, so it also runs after Ray restarts the actor (max_restarts=-1)
without anyone calling it. Admin methods queue a request and wait for the step
that applies it; read methods answer from the controller's latest state.

A ControlError is returned as the method's value, not raised (replies.py):
`SchedulerClient` raises it again as exactly that error.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from typing import Any

import ray

from ..config import CameraConfig
from ..control import CameraView, ClusterStatus, ControlError, DrainResult
from ..support.detached import find_or_create, named_actor
from ..support.heap import LongLivedHeap
from ..support.threads import named_thread
from .controller import Controller
from .ray_cluster import RayCluster
from .replies import capture
from .report import SchedulerReport
from .requests import (
    AddCamera,
    DrainNode,
    RemoveCamera,
    Request,
    ResumeCameras,
    SeedCameras,
    StopAllCameras,
    UndrainNode,
    UpdateCamera,
)
from .settings import SCHEDULER_ACTOR_NAME, SchedulerSettings
from .store import SchedulerStateStore

logger = logging.getLogger(__name__)

MAX_CONCURRENCY = 32
# An admin call waits this long for the step that applies it (a step with a
# silent camera takes status_timeout_s, plus stopping and starting actors).
REQUEST_TIMEOUT_S = 60.0
LOOP_JOIN_TIMEOUT_S = 30.0


class SchedulerActor:
    """The actor's class; `ensure_scheduler` creates it (threaded, reserving no CPU)."""

    def __init__(self, settings: SchedulerSettings):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        store = SchedulerStateStore(settings.state_dir) if settings.state_dir is not None else None
        boundary = RayCluster(settings.namespace, settings.stop_timeout_s)
        self._controller = Controller(boundary, settings, store=store)
        self._settings = settings
        self._stop = threading.Event()
        self._thread = named_thread(self._loop, name="scheduler-loop")
        self._thread.start()
        logger.info("scheduler started (namespace %s, state in %s)", settings.namespace, settings.state_dir)

    def _loop(self) -> None:
        controller = self._controller
        heap = LongLivedHeap()  # full GC collections between steps, on a schedule, not inside them
        while not self._stop.is_set():
            controller.wakeup.clear()  # before the step: a request arriving during it wakes the next one
            try:
                controller.step()  # guards each of its parts; this is the last line of defence
            except Exception:
                logger.exception("scheduler step failed; the loop goes on")
            try:
                if heap.refresh_if_due():
                    logger.debug("garbage collected and long-lived objects frozen in %.3f s", heap.last_pause_s)
            except Exception:
                logger.exception("refreshing the frozen heap failed; the loop goes on")
            controller.wakeup.wait(self._settings.tick_s)

    def _request(self, request: Request, timeout_s: float = REQUEST_TIMEOUT_S) -> Any:
        item = self._controller.submit(request)
        try:
            return item.future.result(timeout=timeout_s)
        except ControlError as exc:
            exc.__traceback__ = None
            return exc
        except TimeoutError:
            return ControlError(
                f"the scheduler did not apply {type(request).__name__} "
                f"within {timeout_s:.0f} s; it may still take effect"
            )

    # ---- admin (queued, applied by the loop) ------------------------------------------

    def add_camera(self, config: CameraConfig) -> CameraView | ControlError:
        return self._request(AddCamera(config))

    def update_camera(self, config: CameraConfig) -> CameraView | ControlError:
        return self._request(UpdateCamera(config))

    def remove_camera(self, camera_id: str) -> ControlError | None:
        return self._request(RemoveCamera(camera_id))

    def drain_node(self, node_id: str) -> DrainResult | ControlError:
        return self._request(DrainNode(node_id))

    def undrain_node(self, node_id: str) -> ControlError | None:
        return self._request(UndrainNode(node_id))

    def seed(self, configs: list[CameraConfig]) -> bool | ControlError:
        return self._request(SeedCameras(tuple(configs)))

    def stop_all_cameras(self) -> int | ControlError:
        return self._request(StopAllCameras())

    def resume_cameras(self) -> ControlError | None:
        return self._request(ResumeCameras())

    # ---- reads -------------------------------------------------------------------------

    def ping(self) -> int:
        return self._controller.ticks

    def list_cameras(self) -> list[CameraView]:
        return self._controller.camera_views()

    def get_camera(self, camera_id: str) -> CameraView | ControlError:
        return capture(lambda: self._controller.camera_view(camera_id))

    def camera_actor(self, camera_id: str) -> object | ControlError:
        """The camera's actor handle (Ray handles pickle), for data-plane calls."""
        return capture(lambda: self._controller.actor_of(camera_id))

    def cluster_status(self) -> ClusterStatus:
        return self._controller.cluster_status()

    def report(self) -> SchedulerReport:
        return self._controller.report()

    def loop_stack(self) -> str:
        """Where the control loop thread is right now (diagnosing a step that hangs)."""
        ident = self._thread.ident
        frame = sys._current_frames().get(ident) if ident is not None else None
        return "".join(traceback.format_stack(frame)) if frame is not None else "the loop thread is not running"

    def shutdown_loop(self) -> None:
        """Stop the control loop (before the actor is killed on purpose)."""
        self._stop.set()
        self._controller.wakeup.set()
        self._thread.join(timeout=LOOP_JOIN_TIMEOUT_S)


_REMOTE_SCHEDULER = ray.remote(SchedulerActor)


def get_scheduler(namespace: str) -> Any:
    """The running scheduler actor of `namespace`, or None."""
    return named_actor(SCHEDULER_ACTOR_NAME, namespace)


def missing_scheduler_hint(namespace: str) -> str:
    """Why `namespace` has no scheduler here, as far as this Ray cluster can tell: the
    cluster's address, and the namespaces that do have one (a `matthan serve` started
    with another --namespace, or attached to another local Ray)."""
    try:
        address = ray.get_runtime_context().gcs_address
        named = ray.util.list_named_actors(all_namespaces=True)
    except Exception as exc:  # noqa: BLE001 - only a hint; the caller reports the missing actor anyway
        return f"(could not list the cluster's actors: {type(exc).__name__})"
    elsewhere = sorted({a["namespace"] for a in named if a.get("name") == SCHEDULER_ACTOR_NAME} - {namespace})
    hint = f"in the Ray cluster at {address}"
    if elsewhere:
        hint += f"; there is one in namespace {', '.join(repr(n) for n in elsewhere)} (--namespace)"
    return hint


def ensure_scheduler(settings: SchedulerSettings, node_id: str | None = None) -> Any:
    """Find the scheduler actor of `settings.namespace`, or create it.

    A new one is pinned to `node_id` (default: this process's node), where its
    state directory is. It is detached (outlives the process that created it) and
    restarted by Ray if it crashes; on restart it reloads its state and adopts the
    running camera actors. An existing actor keeps the settings it was created with.
    """
    return find_or_create(
        _REMOTE_SCHEDULER,
        settings,
        name=SCHEDULER_ACTOR_NAME,
        namespace=settings.namespace,
        max_concurrency=MAX_CONCURRENCY,
        node_id=node_id,
    )
