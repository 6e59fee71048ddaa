"""Turning the controller's records into a placement plan, and the plan into actions.

Costs: Ray accounts what each actor declared when it started (`num_cpus`), fixed
until it restarts, while the estimate moves with measurements. The plan counts a
running camera at max(declared, estimate): never below what Ray holds for it (or
the plan could pin a new actor to a node Ray thinks is full, and it would stay
pending), above it when the camera measurably grew (an overloaded node then
sheds cameras). A camera started afresh (new, after a crash, off a dead or
drained node) declares its current estimate, so reservations follow what
cameras really cost. A voluntary move (rebalance, overload, consolidation) keeps
the cost the plan moved: re-declaring less at the destination would unbalance
what the plan just balanced, and the next plan would move more cameras.
"""

from __future__ import annotations

import collections
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..config import CameraConfig
from .model import EVACUATION_REASONS, CameraDemand, Move, NodeView, PlacementPlan, UnplacedReason
from .placement import RAY_RESOURCE_GRANULARITY, consolidate, plan
from .records import CameraRecord
from .report import CameraPhase, MoveRecord
from .requests import Submitted

if TYPE_CHECKING:
    from .controller import Controller

logger = logging.getLogger(__name__)

MOVE_WINDOW_S = 60.0
HISTORY_LENGTH = 200


@dataclass
class TickActions:
    """What one step decided to do, carried out after the lock is released."""

    stops: dict[str, object] = field(default_factory=dict)
    starts: list[tuple[str, str, float]] = field(default_factory=list)  # camera, node, cpus
    pushes: list[tuple[object, CameraConfig]] = field(default_factory=list)
    answers: list[tuple[Submitted, Callable[[], object]]] = field(default_factory=list)

    def stop(self, camera_id: str, actor: object, why: str) -> None:
        key, n = camera_id, 1
        while key in self.stops:  # an orphan and a tracked actor of the same id: stop both
            n += 1
            key = f"{camera_id}#{n}"
        self.stops[key] = actor
        logger.info("camera %s: stopping its actor (%s)", camera_id, why)

    def start(self, camera_id: str, node_id: str, cpus: float) -> None:
        self.starts.append((camera_id, node_id, cpus))

    def push(self, actor: object, config: CameraConfig) -> None:
        self.pushes.append((actor, config))

    def answer(self, item: Submitted, value: Callable[[], object]) -> None:
        """Answer `item` after the step acted, with what `value()` returns then."""
        self.answers.append((item, value))

    def answer_requests(self, controller: "Controller") -> None:
        for item, value in self.answers:
            try:
                with controller.lock:
                    result = value()
            except Exception as exc:  # noqa: BLE001 - the caller gets the error
                item.future.set_exception(exc)
            else:
                item.future.set_result(result)


def unmet(p: PlacementPlan | None) -> bool:
    """Cameras wait for room (not counting ones too big for any node)."""
    if p is None:
        return False
    return bool(p.stranded) or any(u.reason is UnplacedReason.NO_CAPACITY for u in p.unplaced)


class Planner:
    def __init__(self, controller: "Controller") -> None:
        self.ctl = controller
        self.releasing: dict[str, float] = {}  # node -> when consolidation emptied it
        self.voluntary_moves: collections.deque[float] = collections.deque()
        self.history: collections.deque[MoveRecord] = collections.deque(maxlen=HISTORY_LENGTH)
        self.last_plan: PlacementPlan | None = None
        self.last_consolidation: float | None = None
        self.costs: dict[str, float] = {}  # camera -> cost used by the last plan
        self.requested: tuple[dict[str, float], ...] = ()
        self.tick_moves: list[Move] = []

    # ---- helpers -----------------------------------------------------------------------

    @staticmethod
    def reservation(cost: float) -> float:
        """CPUs to declare for `cost` cores: rounded up to Ray's resource granularity."""
        steps = max(1, math.ceil(round(cost / RAY_RESOURCE_GRANULARITY, 6)))
        return round(steps * RAY_RESOURCE_GRANULARITY, 4)

    def may_host(self, node_id: str) -> bool:
        node = self.ctl.nodes.get(node_id)
        return node is not None and node.cpus > 0 and (self.ctl.settings.use_head_node or not node.is_head)

    def usable(self, node_id: str) -> float:
        node = self.ctl.nodes[node_id]
        return node.cpus * (1.0 - self.ctl.settings.headroom) if self.may_host(node_id) else 0.0

    def camera_cost(self, rec: CameraRecord) -> float:
        """What the plan counts for the camera (see the module docstring)."""
        estimate = self.ctl.cost.cost(rec.camera_id)
        if rec.active and rec.reserved is not None:
            return max(rec.reserved, estimate)
        return estimate

    def moves_last_minute(self, now: float) -> int:
        while self.voluntary_moves and now - self.voluntary_moves[0] > MOVE_WINDOW_S:
            self.voluntary_moves.popleft()
        return len(self.voluntary_moves)

    def forget_gone_nodes(self, alive: set[str]) -> None:
        for node_id in [n for n in self.releasing if n not in alive]:
            del self.releasing[node_id]
            logger.info("node %s was released", node_id)

    # ---- one tick ----------------------------------------------------------------------

    def plan_tick(self, now: float, actions: TickActions) -> None:
        ctl, s = self.ctl, self.ctl.settings
        self.tick_moves = []
        nodes = [NodeView(n.node_id, n.cpus if self.may_host(n.node_id) else 0.0,
                          n.alive and n.node_id not in ctl.suspect_nodes)
                 for n in sorted(ctl.nodes.values(), key=lambda n: n.node_id)]
        demand, current = self._demand()
        for node_id, since in list(self.releasing.items()):
            if now - since > s.release_grace_s:
                del self.releasing[node_id]
                logger.info("node %s was not released within %.0f s; it takes cameras again", node_id, s.release_grace_s)
        if s.autoscaling and self.last_plan is not None and not unmet(self.last_plan):
            self._release_idle_nodes(nodes, current, now)
        budget = max(0, s.max_moves_per_minute - self.moves_last_minute(now))
        p = self._plan(nodes, demand, current, budget)
        if unmet(p) and self.releasing:
            logger.info("cameras wait for room: nodes %s take cameras again", ", ".join(sorted(self.releasing)))
            self.releasing.clear()
            p = self._plan(nodes, demand, current, budget)
        if s.autoscaling and self._consolidation_due(now) and not (unmet(p) or p.moves or p.started):
            self.last_consolidation = now
            c = consolidate(nodes, demand, current, max_moves=budget, headroom=s.headroom,
                            draining=self._draining(nodes), keep=self._unreleasable(nodes))
            if c.moves:
                for node_id in c.idle_nodes:
                    if node_id not in self._unreleasable(nodes) and node_id in {m.from_node for m in c.moves}:
                        self.releasing[node_id] = now
                        logger.info("consolidation: emptying node %s so the autoscaler can release it", node_id)
                p = c
        self._apply(p, now, actions)
        self.last_plan = p

    def _demand(self) -> tuple[list[CameraDemand], dict[str, str]]:
        demand: list[CameraDemand] = []
        current: dict[str, str] = {}
        self.costs = {}
        for cid, rec in sorted(self.ctl.cameras.items()):
            if not rec.config.enabled or rec.phase not in (CameraPhase.PENDING, CameraPhase.STARTING,
                                                           CameraPhase.RUNNING):
                continue
            if rec.active and rec.node_id is None:
                continue  # adopted, its node not known until it answers
            cost = self.camera_cost(rec)
            self.costs[cid] = cost
            demand.append(CameraDemand(cid, cost))
            if rec.active:
                current[cid] = rec.node_id  # type: ignore[assignment]
            elif rec.lost_from is not None:
                current[cid] = rec.lost_from
        return demand, current

    def _draining(self, nodes: list[NodeView]) -> set[str]:
        """Drained and releasing nodes, unless that would leave no node for cameras."""
        wanted = self.ctl.draining | set(self.releasing)
        open_nodes = [n for n in nodes if n.alive and n.capacity > 0]
        if open_nodes and all(n.node_id in wanted for n in open_nodes):
            if self.releasing:
                self.releasing.clear()
                wanted = set(self.ctl.draining)
            if all(n.node_id in wanted for n in open_nodes):
                logger.warning("every node is draining: draining of %s suspended until another node joins",
                               ", ".join(sorted(wanted)))
                return set()
        return wanted

    def _unreleasable(self, nodes: list[NodeView]) -> set[str]:
        # Only autoscaled workers can be released; the head node stays whatever happens.
        return {n.node_id for n in nodes if self.ctl.nodes[n.node_id].is_head}

    def _release_idle_nodes(self, nodes: list[NodeView], current: dict[str, str], now: float) -> None:
        busy = set(current.values())
        keep = self._unreleasable(nodes)
        for n in nodes:
            if n.alive and n.capacity > 0 and n.node_id not in busy and n.node_id not in keep \
                    and n.node_id not in self.releasing and n.node_id not in self.ctl.draining:
                self.releasing[n.node_id] = now
                logger.info("node %s is idle: leaving it empty so the autoscaler can release it", n.node_id)

    def _consolidation_due(self, now: float) -> bool:
        last = self.last_consolidation
        return last is None or now - last >= self.ctl.settings.consolidate_every_s

    def _plan(self, nodes: list[NodeView], demand: list[CameraDemand], current: dict[str, str],
              budget: int) -> PlacementPlan:
        s = self.ctl.settings
        return plan(nodes, demand, current, max_moves=budget, headroom=s.headroom, hysteresis=s.hysteresis,
                    draining=self._draining(nodes))

    def _apply(self, p: PlacementPlan, now: float, actions: TickActions) -> None:
        ctl = self.ctl
        for cid in p.started:
            self._start(cid, p.assignments[cid], "new" if ctl.cameras[cid].lost_from is None else "its node died",
                        actions)
        for move in p.moves:
            rec = ctl.cameras[move.camera_id]
            if rec.actor is not None:
                actions.stop(move.camera_id, rec.actor, f"moving to {move.to_node}: {move.reason.value}")
                rec.stopped_at = now
            keep = self.costs[move.camera_id] if move.reason not in EVACUATION_REASONS else None
            self._start(move.camera_id, move.to_node, f"moved from {move.from_node}: {move.reason.value}", actions,
                        cost=keep)
            if move.reason not in EVACUATION_REASONS:
                self.voluntary_moves.append(now)
            self.history.append(MoveRecord(ctl.wall_clock(), move.camera_id, move.from_node, move.to_node,
                                           move.reason.value))
            self.tick_moves.append(move)
        unplaced_ids = set()
        for u in p.unplaced:
            rec = ctl.cameras[u.camera_id]
            unplaced_ids.add(u.camera_id)
            reason = f"unplaced ({u.reason.value}): {u.detail}"
            if rec.unplaced is None or rec.unplaced.reason is not u.reason:
                logger.warning("camera %s: %s", u.camera_id, reason)
            rec.unplaced, rec.reason = u, reason
        for cid, rec in ctl.cameras.items():
            if cid not in unplaced_ids:
                rec.unplaced = None
        if p.stranded:
            logger.warning("draining is waiting for room for %d camera(s): %s", len(p.stranded), ", ".join(p.stranded))

    def _start(self, cid: str, node_id: str, why: str, actions: TickActions, cost: float | None = None) -> None:
        rec = self.ctl.cameras[cid]
        cpus = self.reservation(self.ctl.cost.cost(cid) if cost is None else cost)
        rec.forget_actor()
        rec.phase = CameraPhase.STARTING
        rec.node_id = node_id
        rec.lost_from = None
        rec.reserved = cpus
        rec.reason = f"starting on {node_id} ({why})"
        actions.start(cid, node_id, cpus)
        self.ctl.dirty = True
        logger.info("camera %s: starting on node %s with %.4f CPU (%s)", cid, node_id, cpus, why)

    # ---- autoscaler --------------------------------------------------------------------

    def request_capacity(self, actions: TickActions) -> None:
        """While cameras wait for room, ask for a cluster that fits the whole demand.

        `request_resources` sizes the cluster to fit the bundles in total, counting
        what already runs (not on top of it), so the request covers every placeable
        camera, not only the waiting ones. Once they all run it is withdrawn: their
        actors' reservations keep their nodes busy, and a standing request would keep
        nodes alive that consolidation has emptied.
        """
        p = self.last_plan
        with self.ctl.lock:
            if unmet(p):
                too_big = {u.camera_id for u in p.unplaced if u.reason is UnplacedReason.TOO_BIG}
                headroom = self.ctl.settings.headroom
                bundles = tuple(
                    {"CPU": self.reservation(cost / (1.0 - headroom))}
                    for cid, cost in sorted(self.costs.items(), key=lambda kv: (-kv[1], kv[0]))
                    if cid not in too_big
                )
            else:
                bundles = ()
        if bundles == self.requested:
            return
        self.ctl.boundary.request_capacity(list(bundles))
        if bundles:
            total = sum(b["CPU"] for b in bundles)
            logger.info("asking the autoscaler for room for %d camera(s) (%.2f CPU in total)", len(bundles), total)
        else:
            logger.info("withdrawing the autoscaler request: every camera has a node")
        self.requested = bundles
