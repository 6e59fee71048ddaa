"""The scheduler's control loop, as plain Python: no Ray here (see boundary.py).

One `step()`:

1. observe: list the nodes, adopt running camera actors (first step only), poll
   every actor's `status()` (heartbeat, measured CPU);
2. apply what was observed: deaths and node losses, heartbeat and start
   deadlines, cost measurements;
3. apply queued requests in order (add/update/remove cameras, drain nodes);
4. plan with the pure planner (`placement.plan`, `placement.consolidate`) and
   turn the plan into actions: stop actors, start actors pinned to nodes;
5. act, record the outcome, ask the autoscaler for capacity, persist, answer requests.

Each part is guarded: an exception is logged with its traceback and the step
goes on with what it has; the next step starts again from observation, so every
step is idempotent (a step with nothing new observed or asked changes nothing).
The loop thread (actor.py) calls `step()` forever; readers on other threads get
snapshots under the lock.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
from collections.abc import Callable

from ..domain import CameraState
from ..config import CameraConfig
from ..control import CameraNotFound, CameraUnavailable, CameraView, ClusterStatus
from .boundary import ClusterBoundary, Gone, Heartbeat, NameTaken, NodeInfo, Probe
from .cost import CostModel
from .planning import Planner, TickActions
from .records import CameraRecord, forgive, new_record, record_failure
from .report import CameraPhase, SchedulerReport
from .requests import Request, Submitted
from .request_handling import RequestHandler
from .settings import SchedulerSettings
from .state import PersistedState, Placement, SchedulerStateStore
from .views import build_cluster_status, build_report, camera_view

logger = logging.getLogger(__name__)

# A camera whose actor we stopped less than this long ago may still hold its name.
NAME_RELEASE_GRACE_S = 15.0
# How long a step waits for the first answer of actors still starting.
STARTING_GLANCE_S = 0.2
# This many actors of one node found dead in one step make the node suspect.
SUSPECT_NODE_DEATHS = 2
COST_SAVE_INTERVAL_S = 60.0


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
        self.cameras: dict[str, CameraRecord] = {}
        self.cost = CostModel()
        self.nodes: dict[str, NodeInfo] = {}
        self.draining: set[str] = set()
        self.suspect_nodes: dict[str, float] = {}  # node -> since when its actors died en masse
        self.paused = False  # StopAllCameras
        self.persisted = False  # a desired set exists on disk (or was seeded / changed)
        self.ticks = 0
        self.last_error: str | None = None
        self.dirty = False  # placement facts changed since the last save
        self._saved_at = clock()
        self._adopted = False
        self._hints: dict[str, Placement] = {}  # persisted placements, used once for adoption
        self._requests: collections.deque[Submitted] = collections.deque()
        self._requests_lock = threading.Lock()
        self.planner = Planner(self)
        self.requests = RequestHandler(self)
        self._load()

    # ---- any thread ------------------------------------------------------------------

    def submit(self, request: Request) -> Submitted:
        """Queue a request for the next step; wait on `.future` for the answer."""
        item = Submitted(request)
        with self._requests_lock:
            self._requests.append(item)
        self.wakeup.set()
        return item

    def report(self) -> SchedulerReport:
        with self.lock:
            return build_report(self)

    def camera_views(self) -> list[CameraView]:
        with self.lock:
            return [camera_view(rec) for _, rec in sorted(self.cameras.items())]

    def camera_view(self, camera_id: str) -> CameraView:
        with self.lock:
            return camera_view(self.require(camera_id))

    def cluster_status(self) -> ClusterStatus:
        with self.lock:
            return build_cluster_status(self)

    def actor_of(self, camera_id: str) -> object:
        """The camera's actor handle, for data-plane calls."""
        with self.lock:
            rec = self.require(camera_id)
            if rec.actor is None or not rec.active:
                raise CameraUnavailable(f"camera {camera_id!r} is {rec.phase.value}: {rec.reason}")
            return rec.actor

    def require(self, camera_id: str) -> CameraRecord:
        rec = self.cameras.get(camera_id)
        if rec is None:
            raise CameraNotFound(camera_id)
        return rec

    # ---- the loop thread -------------------------------------------------------------

    def step(self) -> None:
        """One pass of the control loop. Never raises."""
        self.ticks += 1
        now = self.clock()
        actions = TickActions()
        self.planner.tick_moves = []
        nodes = self._guard("list nodes", self.boundary.list_nodes)
        if nodes is not None and not self._adopted:
            self._guard("adopt running camera actors", lambda: self._adopt(now, actions))
        probes = self._guard("poll camera actors", self._probe) or {}
        with self.lock:
            if nodes is not None:
                self._guard("apply the node list", lambda: self._apply_nodes(nodes))
            self._guard("apply heartbeats", lambda: self._apply_probes(probes, now, actions))
            self._guard("check deadlines", lambda: self._check_deadlines(now, actions))
            self._guard("apply requests", lambda: self.requests.apply(self._take_requests(), now, actions))
            self._guard("schedule retries", lambda: self._due_retries(now))
            if nodes is not None and self._adopted and not self.paused:
                self._guard("plan", lambda: self.planner.plan_tick(now, actions))
        self._act(actions, now)
        if nodes is not None and self._adopted:
            self._guard("request capacity", lambda: self.planner.request_capacity(actions))
        with self.lock:
            if self.settings.learn_costs and self.clock() - self._saved_at >= COST_SAVE_INTERVAL_S:
                self.dirty = True  # learnt costs drift slowly: save them now and then, not every step
            if self.dirty:
                self._guard("persist placement state", self.save)
        self._guard("answer requests", lambda: actions.answer_requests(self))

    def save(self) -> None:
        """Persist the desired set and placement facts (raises on failure)."""
        if self.store is None:
            self.dirty = False
            return
        self.store.save(
            PersistedState(
                cameras=[rec.config for _, rec in sorted(self.cameras.items())],
                placements={
                    cid: Placement(rec.node_id, rec.reserved)
                    for cid, rec in self.cameras.items()
                    if rec.actor is not None and rec.node_id is not None and rec.reserved is not None
                },
                draining=set(self.draining),
                restarts={cid: rec.restarts for cid, rec in self.cameras.items() if rec.restarts},
                costs={cid: c for cid in self.cameras if (c := self.cost.learned(cid)) is not None},
            )
        )
        self.persisted = True
        self.dirty = False
        self._saved_at = self.clock()

    def _guard(self, what: str, fn: Callable):
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

    # ---- startup ---------------------------------------------------------------------

    def _load(self) -> None:
        state = self.store.load() if self.store is not None else None
        if state is None:
            return
        self.persisted = True
        self.draining = set(state.draining)
        for config in state.cameras:
            rec = new_record(config, self.settings, self.rng)
            rec.restarts = state.restarts.get(config.id, 0)
            self.cameras[config.id] = rec
            self.cost.update_config(config)
            if config.id in state.costs:
                self.cost.restore(config.id, state.costs[config.id], self.clock())
        self._hints = state.placements
        logger.info("loaded %d camera(s), %d placement hint(s), draining %s from %s",
                    len(state.cameras), len(state.placements), sorted(self.draining) or "none",
                    self.store.state_dir if self.store else "-")

    def _adopt(self, now: float, actions: TickActions) -> None:
        """Take over the camera actors a previous scheduler left running (names are
        unique, so this is what prevents duplicates after a restart)."""
        found = self.boundary.find_camera_actors()
        hints = self._hints
        with self.lock:
            if not self.persisted and found and not self.cameras:
                # No state file (lost disk, new node) but cameras are running: rebuild
                # the desired set from them rather than stopping every camera.
                for cid, actor in found.items():
                    config = self._guard(f"read the config of running camera {cid}",
                                         lambda a=actor: self.boundary.read_config(a))
                    if isinstance(config, CameraConfig):
                        self.cameras[cid] = new_record(config, self.settings, self.rng)
                        self.cost.update_config(config)
                if self.cameras:
                    self.persisted = True
                    self.dirty = True
                    logger.warning("no persisted state; recovered %d camera(s) from running actors",
                                   len(self.cameras))
            for cid, actor in sorted(found.items()):
                rec = self.cameras.get(cid)
                if rec is None or not rec.config.enabled:
                    actions.stop(cid, actor, "not in the desired set" if rec is None else "disabled")
                    continue
                hint = hints.get(cid)
                rec.actor = actor
                rec.phase = CameraPhase.STARTING
                rec.node_id = hint.node_id if hint else None
                rec.reserved = hint.cpus if hint else None
                rec.started_at = now
                rec.push_config = True
                rec.reason = "adopted after a scheduler restart"
            self._adopted = True
            self._hints = {}
        if found:
            logger.info("adopted %d running camera actor(s)", sum(1 for c in found if c in self.cameras))

    # ---- observation -----------------------------------------------------------------

    def _probe(self) -> dict[str, Probe]:
        """Heartbeats: running actors get the full poll timeout; starting ones only a
        glance (an actor still being created answers nothing, and waiting for it
        would make every step of a mass start last the whole timeout)."""
        with self.lock:
            running = {cid: rec.actor for cid, rec in self.cameras.items()
                       if rec.actor is not None and rec.phase is CameraPhase.RUNNING}
            starting = {cid: rec.actor for cid, rec in self.cameras.items()
                        if rec.actor is not None and rec.phase is CameraPhase.STARTING}
        probes: dict[str, Probe] = {}
        if running:
            probes.update(self.boundary.probe(running, self.settings.status_timeout_s))
        if starting:
            probes.update(self.boundary.probe(starting, STARTING_GLANCE_S))
        return probes

    def _apply_nodes(self, nodes: list[NodeInfo]) -> None:
        before = self.nodes
        self.nodes = {n.node_id: n for n in nodes}
        for node in nodes:
            old = before.get(node.node_id)
            if node.alive and (old is None or not old.alive):
                logger.info("node %s joined (%s, %g CPU%s)", node.node_id, node.address, node.cpus,
                            ", head" if node.is_head else "")
        alive = {n.node_id for n in nodes if n.alive}
        for node_id in sorted(set(before) - alive):
            if before[node_id].alive:
                logger.warning("node %s left or died", node_id)
        lost: dict[str, list[str]] = {}
        for cid, rec in self.cameras.items():
            if rec.active and rec.node_id is not None and rec.node_id not in alive:
                lost.setdefault(rec.node_id, []).append(cid)
                rec.forget_actor()
                rec.lost_from = rec.node_id
                rec.phase = CameraPhase.PENDING
                rec.reason = f"its node {rec.node_id} is gone; re-placing"
                self.dirty = True
        for node_id, cids in lost.items():
            logger.warning("node %s is gone: re-placing its %d camera(s): %s", node_id, len(cids), ", ".join(sorted(cids)))
        for node_id, since in list(self.suspect_nodes.items()):
            if node_id not in alive:
                del self.suspect_nodes[node_id]  # Ray agrees: it is dead
            elif self.clock() - since > self.settings.suspect_node_s:
                del self.suspect_nodes[node_id]
                logger.info("node %s is still alive after %.0f s: it takes cameras again",
                            node_id, self.settings.suspect_node_s)
        stale = {n for n in self.draining if n not in alive}
        if stale:
            self.draining -= stale
            self.dirty = True
            logger.info("forgetting drain of node(s) no longer alive: %s", ", ".join(sorted(stale)))
        self.planner.forget_gone_nodes(alive)

    def _apply_probes(self, probes: dict[str, Probe], now: float, actions: TickActions) -> None:
        alive_nodes = {n for n, info in self.nodes.items() if info.alive}
        gone_by_node: dict[str, list[str]] = {}
        for cid, probe in probes.items():
            rec = self.cameras.get(cid)
            if rec is None or rec.actor is None:
                continue  # removed meanwhile
            if isinstance(probe, Heartbeat):
                self._heartbeat(rec, probe, now, actions)
            elif isinstance(probe, Gone):
                if rec.node_id is None or rec.node_id in alive_nodes:
                    gone_by_node.setdefault(rec.node_id or "", []).append(cid)
                # else its node died: _apply_nodes re-places it, not a crash
        for node_id, cids in gone_by_node.items():
            # A dead node's actors fail their calls a second or more before Ray
            # declares the node dead. Several deaths on one node at once are that,
            # not several crashes: re-place them without counting, and keep new
            # cameras off the node until Ray decides (or the suspicion expires).
            if node_id and (len(cids) >= SUSPECT_NODE_DEATHS or node_id in self.suspect_nodes):
                if node_id not in self.suspect_nodes:
                    self.suspect_nodes[node_id] = now
                    logger.warning("node %s: %d camera actors died at once; treating the node as dead for now",
                                   node_id, len(cids))
                for cid in cids:
                    rec = self.cameras[cid]
                    rec.forget_actor()
                    rec.lost_from, rec.phase = node_id, CameraPhase.PENDING
                    rec.reason = f"its node {node_id} looks dead; re-placing"
                self.dirty = True
                continue
            for cid in cids:
                rec = self.cameras[cid]
                why = record_failure(rec, f"actor died: {probes[cid].reason}", now, self.settings)
                self.dirty = True
                logger.warning("camera %s: %s", cid, why)

    def _heartbeat(self, rec: CameraRecord, probe: Heartbeat, now: float, actions: TickActions) -> None:
        status = probe.status
        rec.status = status
        rec.last_heartbeat = now
        if status.node_id and status.node_id != rec.node_id:
            rec.node_id = status.node_id
            self.dirty = True
        if rec.reserved is None:
            rec.reserved = self.planner.reservation(self.cost.cost(rec.camera_id))
            self.dirty = True
        if rec.phase is CameraPhase.STARTING:
            rec.phase = CameraPhase.RUNNING
            rec.healthy_since = now
            rec.reason = f"running on {rec.node_id}"
            logger.info("camera %s: actor up on node %s (%s)", rec.camera_id, rec.node_id, status.state.value)
        elif rec.healthy_since is not None and now - rec.healthy_since >= self.settings.healthy_reset_s:
            if rec.failures:
                forgive(rec)
        if rec.push_config:
            actions.push(rec.actor, rec.config)
            rec.push_config = False
        if status.state is not CameraState.LIVE:
            rec.live_since = None
        elif rec.live_since is None:
            rec.live_since = now
        elif self.settings.learn_costs and now - rec.live_since >= self.settings.cost_warmup_s:
            self.cost.observe(rec.camera_id, max(0.0, status.cpu_percent) / 100.0, now)

    def _check_deadlines(self, now: float, actions: TickActions) -> None:
        s = self.settings
        for cid, rec in self.cameras.items():
            if rec.actor is None:
                continue
            if rec.phase is CameraPhase.STARTING and rec.started_at is not None:
                if now - rec.started_at > s.start_timeout_s:
                    actions.stop(cid, rec.actor, "did not come up")
                    rec.stopped_at = now
                    why = record_failure(rec, f"actor did not answer within {s.start_timeout_s:.0f} s of its start",
                                         now, s)
                    self.dirty = True
                    logger.warning("camera %s: %s", cid, why)
            elif rec.phase is CameraPhase.RUNNING and rec.last_heartbeat is not None:
                if now - rec.last_heartbeat > s.heartbeat_timeout_s:
                    actions.stop(cid, rec.actor, "heartbeat lost")
                    rec.stopped_at = now
                    why = record_failure(rec, f"no heartbeat for {s.heartbeat_timeout_s:.0f} s", now, s)
                    self.dirty = True
                    logger.warning("camera %s: %s", cid, why)

    def _due_retries(self, now: float) -> None:
        for cid, rec in self.cameras.items():
            if rec.phase in (CameraPhase.BACKING_OFF, CameraPhase.FAILED) and rec.retry_at is not None:
                if now >= rec.retry_at:
                    rec.phase = CameraPhase.PENDING
                    rec.retry_at = None
                    rec.reason = "restarting after backoff"

    # ---- acting ----------------------------------------------------------------------

    def _act(self, actions: TickActions, now: float) -> None:
        if actions.stops:
            self._guard("stop camera actors", lambda: self.boundary.stop_cameras(dict(actions.stops)))
        for actor, config in actions.pushes:
            self._guard(f"send config to camera {config.id}", lambda a=actor, c=config: self.boundary.push_config(a, c))
        for cid, node_id, cpus in actions.starts:
            outcome = self._start_one(cid, node_id, cpus)
            with self.lock:
                self._record_start(cid, node_id, cpus, outcome, now)

    def _start_one(self, cid: str, node_id: str, cpus: float):
        with self.lock:
            rec = self.cameras.get(cid)
            config = rec.config if rec is not None else None
        if config is None:
            return None
        try:
            return self.boundary.start_camera(config, node_id, cpus)
        except NameTaken as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - recorded as a failed start, never fatal
            logger.exception("camera %s: could not submit its actor to node %s", cid, node_id)
            return exc

    def _record_start(self, cid: str, node_id: str, cpus: float, outcome, now: float) -> None:
        rec = self.cameras.get(cid)
        if rec is None or rec.phase is not CameraPhase.STARTING or rec.node_id != node_id:
            if outcome is not None and not isinstance(outcome, Exception):
                # Removed or changed while we were starting it: do not leak the actor.
                self._guard("stop an actor nobody wants", lambda: self.boundary.stop_cameras({cid: outcome}))
            return
        if isinstance(outcome, NameTaken):
            recently_stopped = rec.stopped_at is not None and now - rec.stopped_at < NAME_RELEASE_GRACE_S
            existing = None if recently_stopped else self._guard(
                f"look up camera {cid}", lambda: self.boundary.lookup_camera_actor(cid))
            if existing is not None:
                rec.actor, rec.node_id, rec.reserved, rec.started_at = existing, None, None, now
                rec.push_config = True
                rec.reason = "adopted an actor already running under its name"
                logger.warning("camera %s: an actor already runs under its name; adopting it", cid)
            else:
                rec.phase, rec.node_id = CameraPhase.PENDING, None
                rec.reason = "waiting for its previous actor to release the name"
            return
        if isinstance(outcome, Exception) or outcome is None:
            why = record_failure(rec, f"could not start its actor on node {node_id}: {outcome}", now, self.settings)
            self.dirty = True
            logger.warning("camera %s: %s", cid, why)
            return
        rec.actor = outcome
        rec.reserved = cpus
        rec.started_at = now
        self.dirty = True

