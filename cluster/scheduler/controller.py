"""The scheduler's control loop, as plain Python: no Ray here (see boundary.py).

The controller owns one `SchedulerState` and runs the loop over it; what each
phase does to the state is a plain function elsewhere (observation.py,
request_handling.py, planning.py, views.py). One `step()`:

1. observe: list the nodes, adopt running camera actors (first step only), poll
   every actor's `status()` (heartbeat, measured CPU), probe file sources not
   yet known (requests probe theirs when they are submitted);
2. apply what was observed: node losses, deaths, heartbeat and start deadlines,
   cost measurements, sources' sizes, what shapes and node kinds cost;
3. apply queued requests in order (add/update/remove cameras, drain nodes; consecutive
   adds are persisted once for all, see `request_handling.add_cameras`);
4. plan with the pure planner and append the stops and starts it takes;
5. act (stop, reconfigure and start actors, record the outcome), ask the
   autoscaler for capacity, persist, answer the requests.

Each phase is guarded: an exception is logged with its traceback and the step
goes on with what it has; the next step starts again from observation, so every
step is idempotent (a step with nothing new observed or asked changes nothing).
Only the loop thread (actor.py) changes the state, and it never holds the lock
across a call to the cluster; readers on other threads get views under the lock.
"""

from __future__ import annotations

import collections
import functools
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ..config import CameraConfig, SourceConfig
from ..control import CameraUnavailable, CameraView, ClusterStatus, ControlError
from .actions import StartActor, StepActions
from .boundary import ClusterBoundary, NameTaken, Probe
from .cost import CostModel
from .observation import (
    adopt,
    apply_nodes,
    apply_probes,
    check_deadlines,
    due_retries,
    learn_sources,
    needs_recovery,
    record_start,
    refresh_costs,
)
from .planning import capacity_request, degraded_cameras, plan_step
from .prior import SourceInfo
from .report import CameraPhase, SchedulerReport
from .request_handling import add_cameras, apply_request, reply_value
from .requests import AddCamera, Reply, Request, SeedCameras, Submitted, UpdateCamera
from .settings import SchedulerSettings
from .state import SchedulerState, persisted_form, restored_state
from .store import SchedulerStateStore
from .views import build_report, camera_view, camera_views, cluster_status

logger = logging.getLogger(__name__)

# How long a step waits for the first answer of actors still starting.
STARTING_GLANCE_S = 0.2
COST_SAVE_INTERVAL_S = 60.0

T = TypeVar("T")


class Controller:
    def __init__(
        self,
        boundary: ClusterBoundary,
        settings: SchedulerSettings,
        *,
        store: SchedulerStateStore | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.boundary = boundary
        self.settings = settings
        self.store = store
        self.clock = clock
        self.wall_clock = wall_clock
        self.rng = rng or random.Random()
        self.lock = threading.RLock()
        self.wakeup = threading.Event()  # set when a request arrives: step now
        self.cost = CostModel(time_constant_s=settings.cost_smoothing_s)
        self.ticks = 0
        self.last_error: str | None = None
        self._saved_at = clock()
        self._requests: collections.deque[Submitted] = collections.deque()
        self._requests_lock = threading.Lock()
        self._probed: dict[str, SourceInfo | None] = {}  # source URL -> what a probe found, until a step takes it
        self.state = self._load()

    # ---- any thread ------------------------------------------------------------------

    def submit(self, request: Request) -> Submitted:
        """Queue a request for the next step; wait on `.future` for the answer.

        The file sources of the cameras it adds or changes are probed first, on the
        caller's thread (milliseconds per distinct file), so the step that applies it
        places them by their real size."""
        if self.settings.learn_costs:
            self._probe_sources(_sources_of(request))
        item = Submitted(request)
        with self._requests_lock:
            self._requests.append(item)
        self.wakeup.set()
        return item

    def report(self) -> SchedulerReport:
        with self.lock:
            return build_report(
                self.state, self.settings, self.cost, self.clock(), ticks=self.ticks, last_error=self.last_error
            )

    def camera_views(self) -> list[CameraView]:
        with self.lock:
            return camera_views(self.state, self.settings, self.clock())

    def camera_view(self, camera_id: str) -> CameraView:
        with self.lock:
            return camera_view(self.state, camera_id, self.settings, self.clock())

    def cluster_status(self) -> ClusterStatus:
        with self.lock:
            return cluster_status(self.state, self.settings, self.cost, self.clock())

    def actor_of(self, camera_id: str) -> object:
        """The camera's actor handle, for data-plane calls."""
        with self.lock:
            rec = self.state.cameras.require(camera_id)
            phase = self.state.cameras.phase_of(camera_id)
            if rec.actor is None or phase not in (CameraPhase.STARTING, CameraPhase.RUNNING):
                raise CameraUnavailable(f"camera {camera_id!r} is {phase.value}: {rec.reason}")
            return rec.actor

    # ---- the loop thread -------------------------------------------------------------

    def step(self) -> None:
        """One pass of the control loop. Never raises."""
        self.ticks += 1
        now = self.clock()
        state, settings = self.state, self.settings
        actions = StepActions()
        nodes = self._guard("list nodes", self.boundary.list_nodes)
        if nodes is not None and not state.adopted:
            self._guard("adopt running camera actors", lambda: self._adopt(now, actions))
        probes = self._guard("poll camera actors", self._probe) or {}
        if settings.learn_costs:
            self._guard("probe file sources", self._probe_unknown_files)
        replies: list[tuple[Submitted, Reply]] = []
        with self.lock:
            if nodes is not None:
                self._guard("apply the node list", lambda: apply_nodes(state, nodes, settings, now))
            self._guard("apply heartbeats", lambda: apply_probes(state, probes, settings, self.cost, now, actions))
            self._guard("learn sources", lambda: learn_sources(state, self._take_probed(), settings, self.cost))
            self._guard("refresh costs", lambda: refresh_costs(state, settings, self.cost))
            self._guard("check deadlines", lambda: check_deadlines(state, settings, now, actions))
            replies = self._apply_requests(self._take_requests(), now, actions)
            self._guard("schedule retries", lambda: due_retries(state, now))
            if nodes is not None and state.adopted and not state.paused:
                self._guard("plan", lambda: plan_step(state, settings, self.cost, now, self.wall_clock(), actions))
        self._act(actions, now)
        if nodes is not None and state.adopted:
            self._guard("request capacity", self._request_capacity)
        with self.lock:
            if settings.learn_costs and self.clock() - self._saved_at >= COST_SAVE_INTERVAL_S:
                state.dirty = True  # learnt costs drift slowly: save them now and then, not every step
            if state.dirty:
                self._guard("persist placement state", self.save)
        self._answer(replies, actions)

    def save(self) -> None:
        """Persist the desired set and placement facts (raises on failure)."""
        if self.store is None:
            self.state.dirty = False
            return
        self.store.save(persisted_form(self.state, self.cost))
        self.state.persisted = True
        self.state.dirty = False
        self._saved_at = self.clock()

    def _guard(self, what: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except Exception as exc:  # the loop must survive anything one part does
            self.last_error = f"{what}: {exc!r}"
            logger.exception("scheduler step %d: %s failed; carrying on", self.ticks, what)
            return None

    def _take_requests(self) -> list[Submitted]:
        with self._requests_lock:
            taken = list(self._requests)
            self._requests.clear()
        return taken

    # ---- sources ---------------------------------------------------------------------

    def _probe_sources(self, sources: list[SourceConfig]) -> None:
        found: dict[str, SourceInfo | None] = {}
        for source in sources:
            if source.is_file and source.url not in found:
                try:
                    found[source.url] = self.boundary.probe_source(source)
                except Exception:  # a probe is an optimisation: without it the camera is costed by the prior
                    logger.exception("could not probe the source of a camera")
        with self._requests_lock:
            self._probed.update(found)

    def _probe_unknown_files(self) -> None:
        """Cameras restored from disk or recovered from running actors: their file sources."""
        with self.lock:
            unknown = {
                rec.config.source.url: rec.config.source
                for rec in self.state.cameras
                if rec.config.source.is_file and self.cost.source_of(rec.config.source.url) is None
            }
        self._probe_sources(list(unknown.values()))

    def _take_probed(self) -> dict[str, SourceInfo | None]:
        with self._requests_lock:
            taken, self._probed = self._probed, {}
        return taken

    # ---- startup ---------------------------------------------------------------------

    def _load(self) -> SchedulerState:
        saved = self.store.load() if self.store is not None else None
        if saved is None:
            return SchedulerState()
        state = restored_state(saved, self.settings, self.cost, self.rng, self.clock())
        logger.info(
            "loaded %d camera(s), %d placement hint(s), draining %s from %s",
            len(saved.cameras),
            len(saved.placements),
            sorted(state.draining) or "none",
            self.store.state_dir if self.store else "-",
        )
        return state

    def _adopt(self, now: float, actions: StepActions) -> None:
        found = self.boundary.find_camera_actors()
        with self.lock:
            recover = needs_recovery(self.state, found)
        recovered: dict[str, CameraConfig] = {}
        if recover:
            for cid, actor in found.items():
                config = self._guard(
                    f"read the config of running camera {cid}", functools.partial(self.boundary.read_config, actor)
                )
                if isinstance(config, CameraConfig):
                    recovered[cid] = config
        with self.lock:
            adopt(self.state, found, recovered, self.settings, self.cost, self.rng, now, actions)

    # ---- observation -----------------------------------------------------------------

    def _probe(self) -> dict[str, Probe]:
        """Heartbeats: running actors get the full poll timeout; starting ones only a
        glance (an actor still being created answers nothing, and waiting for it
        would make every step of a mass start last the whole timeout)."""
        with self.lock:
            running = {
                r.camera_id: r.actor for r in self.state.cameras.in_phase(CameraPhase.RUNNING) if r.actor is not None
            }
            starting = {
                r.camera_id: r.actor for r in self.state.cameras.in_phase(CameraPhase.STARTING) if r.actor is not None
            }
        probes: dict[str, Probe] = {}
        if running:
            probes.update(self.boundary.probe(running, self.settings.status_timeout_s))
        if starting:
            probes.update(self.boundary.probe(starting, STARTING_GLANCE_S))
        return probes

    # ---- requests --------------------------------------------------------------------

    def _apply_requests(
        self, items: list[Submitted], now: float, actions: StepActions
    ) -> list[tuple[Submitted, Reply]]:
        replies = []
        for burst in _bursts(items):
            for item, outcome in zip(burst, self._apply_burst(burst, now, actions), strict=True):
                reply = self._settle(item, outcome)
                if reply is not None:
                    replies.append((item, reply))
        return replies

    def _apply_burst(self, burst: list[Submitted], now: float, actions: StepActions) -> list[Reply | Exception]:
        """One request, or consecutive AddCameras together (persisted once for all)."""
        try:
            if isinstance(burst[0].request, AddCamera):
                configs = [item.request.config for item in burst if isinstance(item.request, AddCamera)]
                return add_cameras(
                    self.state, configs, settings=self.settings, cost=self.cost, rng=self.rng, persist=self._persist_now
                )
            (item,) = burst
            reply = apply_request(
                self.state,
                item.request,
                settings=self.settings,
                cost=self.cost,
                rng=self.rng,
                now=now,
                persist=self._persist_now,
                actions=actions,
            )
            return [reply]
        except Exception as exc:  # noqa: BLE001 - the callers hear about it, the loop goes on
            return [exc] * len(burst)

    def _settle(self, item: Submitted, outcome: Reply | Exception) -> Reply | None:
        """The reply to answer after the step, or None when the request was refused (answered now)."""
        name = type(item.request).__name__
        if isinstance(outcome, ControlError):
            logger.info("rejected %s: %s", name, outcome)
            item.future.set_exception(outcome)
            return None
        if isinstance(outcome, Exception):
            self.last_error = f"apply {name}: {outcome!r}"
            logger.error("could not apply %s", name, exc_info=outcome)
            item.future.set_exception(ControlError(f"the scheduler could not apply {name}: {outcome!r}"))
            return None
        return outcome

    def _persist_now(self) -> None:
        try:
            self.save()
        except Exception as exc:
            where = self.store.state_dir if self.store is not None else "memory"
            raise ControlError(f"could not persist the desired camera set in {where}: {exc}") from exc

    def _answer(self, replies: list[tuple[Submitted, Reply]], actions: StepActions) -> None:
        for item, reply in replies:
            try:
                with self.lock:
                    value = reply_value(self.state, reply, settings=self.settings, now=self.clock(), actions=actions)
            except Exception as exc:  # noqa: BLE001 - any failure of the reply is the caller's answer
                item.future.set_exception(exc)
            else:
                item.future.set_result(value)

    # ---- acting ----------------------------------------------------------------------

    def _act(self, actions: StepActions, now: float) -> None:
        if actions.stops:
            self._guard("stop camera actors", lambda: self.boundary.stop_cameras(list(actions.stops)))
        for push in actions.pushes:
            self._guard(
                f"send config to camera {push.config.id}",
                functools.partial(self.boundary.push_config, push.actor, push.config),
            )
        for start in actions.starts:
            outcome = self._start_one(start)
            existing = None
            if isinstance(outcome, NameTaken):
                existing = self._guard(
                    f"look up camera {start.camera_id}",
                    functools.partial(self.boundary.lookup_camera_actor, start.camera_id),
                )
            with self.lock:
                unwanted = record_start(self.state, start, outcome, existing, self.settings, now)
            if unwanted is not None:
                self._guard("stop an actor nobody wants", functools.partial(self.boundary.stop_cameras, [unwanted]))

    def _start_one(self, start: StartActor) -> object:
        try:
            return self.boundary.start_camera(start.config, start.node_id, start.cpus)
        except NameTaken as exc:
            return exc
        except Exception as exc:  # recorded as a failed start, never fatal
            logger.exception("camera %s: could not submit its actor to node %s", start.camera_id, start.node_id)
            return exc

    def _request_capacity(self) -> None:
        with self.lock:
            bundles = capacity_request(self.state, self.settings, self.cost)
        if bundles is None:
            return
        self.boundary.request_capacity(list(bundles))
        with self.lock:
            self.state.requested = bundles
        if bundles:
            total = sum(b["CPU"] for b in bundles)
            with self.lock:
                degraded = len(degraded_cameras(self.state))
            logger.info(
                "asking the autoscaler for room for %d camera(s) at their full rates (%.2f CPU in total; %d degraded)",
                len(bundles),
                total,
                degraded,
            )
        else:
            logger.info("withdrawing the autoscaler request: every camera has a node")


def _bursts(items: list[Submitted]) -> list[list[Submitted]]:
    """The step's requests in order: each run of consecutive AddCameras as one burst, every
    other request alone."""
    bursts: list[list[Submitted]] = []
    for adding, group in itertools.groupby(items, key=lambda item: isinstance(item.request, AddCamera)):
        run = list(group)
        bursts.extend([run] if adding else [[item] for item in run])
    return bursts


def _sources_of(request: Request) -> list[SourceConfig]:
    if isinstance(request, AddCamera | UpdateCamera):
        return [request.config.source]
    if isinstance(request, SeedCameras):
        return [config.source for config in request.configs]
    return []
