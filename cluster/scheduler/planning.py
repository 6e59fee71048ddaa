"""Turning the state into a placement plan, and the plan into actions.

`plan_step` asks the pure planner (`placement.plan`, and `placement.consolidate`
on autoscaling clusters) where every enabled camera should run, moves cameras
between buckets accordingly and appends the starts and stops to the step's
actions. `capacity_request` says what to ask of the autoscaler.

Admission (issue 9): the plan counts every camera at what the scheduler reserves
for it, its estimate (`cost.py`: its own measurement, else what cameras of its
shape measure, else the calibrated prior), and fills a node only up to its usable
share. Every actor declares the same small Ray reservation (`capacity.py`), so a
running camera's reservation follows its measurement without a restart and no
state keeps measured idle capacity unusable: a camera reserved more than it
measures gives the difference back as its estimate converges, and cameras
waiting for room are placed in the step where it fits.

A node whose cameras turn out to cost more than its usable share, with no move to
relieve it, sheds its lowest priorities (`placement` step 3b) once every camera on it
is measured on its current run (see `_settling`): they are stopped and wait unplaced,
the reason naming the node's cost and usable CPU, until there is room.

A camera whose new settings no longer fit its node (UpdateCamera accepted it
because another node has room, or because the autoscaler may add one) is taken
out of its node's load and placed again: kept if it fits there after all, moved
(a stop and a start, reason `reshaped`, not counted against the move cap), or
stopped and left unplaced with the reason.

An unplaced camera's reason names its cost, where that comes from, and the
reserved and measured CPU of the node with the most room.
"""

from __future__ import annotations

import logging
import math

from .actions import StartActor, StepActions
from .capacity import RAY_CPUS_PER_CAMERA, NodeUse, counted_cost, node_capacities, node_use, reservation
from .cost import CostModel
from .model import (
    CameraDemand,
    Move,
    MoveReason,
    NodeCapacity,
    PlacementPlan,
    Unplaced,
    UnplacedReason,
)
from .placement import consolidate, plan
from .report import CameraPhase
from .settings import SchedulerSettings
from .state import SchedulerState

logger = logging.getLogger(__name__)

# Phases the plan places: PENDING ones get a node, STARTING/RUNNING ones keep or change theirs.
PLANNED_PHASES = (CameraPhase.PENDING, CameraPhase.STARTING, CameraPhase.RUNNING)


def unmet(p: PlacementPlan | None) -> bool:
    """Cameras wait for room (not counting ones too big for any node)."""
    if p is None:
        return False
    return bool(p.stranded) or any(u.reason is UnplacedReason.NO_CAPACITY for u in p.unplaced)


def plan_step(
    state: SchedulerState,
    settings: SchedulerSettings,
    cost: CostModel,
    now: float,
    wall_now: float,
    actions: StepActions,
) -> None:
    """Plan where every camera runs and append what it takes to get there to `actions`."""
    nodes = node_capacities(state, settings)
    demand, current = _demand(state, cost)
    for node_id, since in list(state.releasing.items()):
        if now - since > settings.release_grace_s:
            del state.releasing[node_id]
            logger.info(
                "node %s was not released within %.0f s; it takes cameras again", node_id, settings.release_grace_s
            )
    if settings.autoscaling and state.last_plan is not None and not unmet(state.last_plan):
        _release_idle_nodes(state, nodes, current, now)
    state.moves.forget_before_window(now)
    budget = max(0, settings.max_moves_per_minute - state.moves.voluntary_in_window(now))
    p = _plan(state, settings, nodes, demand, current, budget, now)
    if unmet(p) and state.releasing:
        logger.info("cameras wait for room: nodes %s take cameras again", ", ".join(sorted(state.releasing)))
        state.releasing.clear()
        p = _plan(state, settings, nodes, demand, current, budget, now)
    if settings.autoscaling and _consolidation_due(state, settings, now) and not (unmet(p) or p.moves or p.started):
        state.last_consolidation = now
        keep = _unreleasable(state, nodes)
        c = consolidate(
            nodes,
            demand,
            current,
            max_moves=budget,
            headroom=settings.headroom,
            draining=_draining(state, nodes),
            keep=keep,
        )
        if c.moves:
            emptied = {m.from_node for m in c.moves}
            for node_id in c.idle_nodes:
                if node_id not in keep and node_id in emptied:
                    state.releasing[node_id] = now
                    logger.info("consolidation: emptying node %s so the autoscaler can release it", node_id)
            p = c
    _apply(state, p, settings, cost, now, wall_now, actions)
    state.last_plan = p


def _demand(state: SchedulerState, cost: CostModel) -> tuple[list[CameraDemand], dict[str, str]]:
    demand: list[CameraDemand] = []
    current: dict[str, str] = {}
    state.plan_costs = {}
    for rec in state.cameras.in_phase(*PLANNED_PHASES):
        if not rec.config.enabled:
            continue
        cid = rec.camera_id
        active = state.cameras.is_active(cid)
        if active and rec.node_id is None:
            continue  # adopted, its node not known until it answers
        counted = counted_cost(rec, active, cost)
        state.plan_costs[cid] = counted
        demand.append(CameraDemand(cid, counted, rec.config.priority))
        if active and rec.node_id is not None:
            if rec.must_move is None:
                current[cid] = rec.node_id
        elif rec.lost_from is not None:
            current[cid] = rec.lost_from
    return demand, current


def _draining(state: SchedulerState, nodes: list[NodeCapacity]) -> set[str]:
    """Drained and releasing nodes, unless that would leave no node for cameras."""
    wanted = state.draining | set(state.releasing)
    open_nodes = [n for n in nodes if n.alive and n.capacity > 0]
    if open_nodes and all(n.node_id in wanted for n in open_nodes):
        if state.releasing:
            state.releasing.clear()
            wanted = set(state.draining)
        if all(n.node_id in wanted for n in open_nodes):
            logger.warning(
                "every node is draining: draining of %s suspended until another node joins", ", ".join(sorted(wanted))
            )
            return set()
    return wanted


def _unreleasable(state: SchedulerState, nodes: list[NodeCapacity]) -> set[str]:
    # Only autoscaled workers can be released; the head node stays whatever happens.
    return {n.node_id for n in nodes if state.nodes[n.node_id].is_head}


def _release_idle_nodes(state: SchedulerState, nodes: list[NodeCapacity], current: dict[str, str], now: float) -> None:
    busy = set(current.values())
    keep = _unreleasable(state, nodes)
    for n in nodes:
        if (
            n.alive
            and n.capacity > 0
            and n.node_id not in busy
            and n.node_id not in keep
            and n.node_id not in state.releasing
            and n.node_id not in state.draining
        ):
            state.releasing[n.node_id] = now
            logger.info("node %s is idle: leaving it empty so the autoscaler can release it", n.node_id)


def _consolidation_due(state: SchedulerState, settings: SchedulerSettings, now: float) -> bool:
    last = state.last_consolidation
    return last is None or now - last >= settings.consolidate_every_s


def _plan(
    state: SchedulerState,
    settings: SchedulerSettings,
    nodes: list[NodeCapacity],
    demand: list[CameraDemand],
    current: dict[str, str],
    budget: int,
    now: float,
) -> PlacementPlan:
    return plan(
        nodes,
        demand,
        current,
        max_moves=budget,
        headroom=settings.headroom,
        hysteresis=settings.hysteresis,
        draining=_draining(state, nodes),
        settling=_settling(state, settings, now),
    )


def _settling(state: SchedulerState, settings: SchedulerSettings, now: float) -> set[str]:
    """Running cameras whose cost is not yet measured on their current run: live for less
    than the warm-up plus two smoothing time constants (86% of a change absorbed). Without
    learning every camera is: shedding answers measurements, and there are none."""
    settled_after = settings.cost_warmup_s + 2 * settings.cost_smoothing_s
    return {
        rec.camera_id
        for rec in state.cameras.active()
        if not settings.learn_costs or rec.live_since is None or now - rec.live_since < settled_after
    }


def _apply(
    state: SchedulerState,
    p: PlacementPlan,
    settings: SchedulerSettings,
    cost: CostModel,
    now: float,
    wall_now: float,
    actions: StepActions,
) -> None:
    turns = StartTurns(state, settings)
    # Turns go to the highest priorities first (sorted is stable: the planner's order otherwise).
    for cid in sorted(p.started, key=lambda c: -state.cameras.require(c).config.priority):
        rec = state.cameras.require(cid)
        if rec.must_move is not None and rec.actor is not None:
            _reshaped(state, cid, p.assignments[cid], cost, now, wall_now, actions)
            continue
        node_id = p.assignments[cid]
        if not turns.take(node_id):
            rec.reason = turns.waiting_reason(node_id)
            continue
        why = "new" if rec.lost_from is None else "its node died"
        _start(state, cid, node_id, why, actions)
    for move in p.moves:
        rec = state.cameras.require(move.camera_id)
        if rec.actor is not None:
            actions.stop(move.camera_id, rec.actor, f"moving to {move.to_node}: {move.reason.value}")
            rec.stopped_at = now
        _start(state, move.camera_id, move.to_node, f"moved from {move.from_node}: {move.reason.value}", actions)
        state.moves.record(move, now, wall_now)
        actions.moves.append(move)
    unplaced = {u.camera_id: u for u in p.unplaced}
    shed = {*p.shed, *p.overload_shed}
    use = node_use(state, cost) if unplaced else {}
    for rec in state.cameras.records():
        u = unplaced.get(rec.camera_id)
        if u is None:
            rec.unplaced, rec.shed_note = None, None
            continue
        if rec.shed_note is not None and rec.camera_id not in p.shed_notes:
            u = Unplaced(u.camera_id, u.cost, u.reason, f"{rec.shed_note}; {u.detail}")  # still waiting
        u = _explained(p, u, cost, use)
        if rec.camera_id in shed and rec.actor is not None:
            why = p.shed_notes[rec.camera_id]
            actions.stop(rec.camera_id, rec.actor, why)
            logger.warning("camera %s (priority %d) %s", rec.camera_id, rec.config.priority, why)
            rec.shed_note = why
            rec.stopped_at = now
            rec.forget_actor()
            rec.node_id, rec.must_move = None, None
            state.cameras.move(rec.camera_id, CameraPhase.PENDING)
            state.dirty = True
        elif rec.must_move is not None and rec.actor is not None:
            actions.stop(rec.camera_id, rec.actor, f"its new settings fit no node: {rec.must_move}")
            rec.stopped_at = now
            rec.forget_actor()
            rec.node_id, rec.must_move = None, None
            state.cameras.move(rec.camera_id, CameraPhase.PENDING)
            state.dirty = True
        reason = f"unplaced ({u.reason.value}): {u.detail}"
        if rec.unplaced is None or rec.unplaced.reason is not u.reason:
            logger.warning("camera %s: %s", u.camera_id, reason)
        rec.unplaced, rec.reason = u, reason
    if p.stranded:
        logger.warning("draining is waiting for room for %d camera(s): %s", len(p.stranded), ", ".join(p.stranded))


def _reshaped(
    state: SchedulerState, cid: str, node_id: str, cost: CostModel, now: float, wall_now: float, actions: StepActions
) -> None:
    """A camera whose new settings did not fit its node, placed again: kept where it is
    if it fits there after all, else moved."""
    rec = state.cameras.require(cid)
    reason, rec.must_move = rec.must_move, None
    from_node = rec.node_id
    if from_node is None or from_node == node_id:
        logger.info("camera %s: its new settings fit node %s after all; it stays", cid, node_id)
        return
    assert rec.actor is not None
    actions.stop(cid, rec.actor, f"moving to {node_id}: {reason}")
    rec.stopped_at = now
    move = Move(cid, from_node, node_id, MoveReason.RESHAPED)
    _start(state, cid, node_id, f"moved from {from_node}: {reason} ({cost.cost(cid):.3f} cores)", actions)
    state.moves.record(move, now, wall_now)
    actions.moves.append(move)


def _explained(p: PlacementPlan, u: Unplaced, cost: CostModel, use: dict[str, NodeUse]) -> Unplaced:
    """The planner's reason, with where the cost comes from and, for lack of room, the
    reserved and measured CPU of the node with the most room left."""
    detail = f"{u.detail}; its cost is from {cost.describe(u.camera_id)}"
    if u.reason is UnplacedReason.NO_CAPACITY and p.usable:
        roomiest = max(sorted(p.usable), key=lambda n: p.usable[n] - p.load[n])
        measured = use.get(roomiest)
        detail += (
            f"; node {roomiest[:12]}: {p.load[roomiest]:.3f} cores reserved, "
            f"{measured.measured if measured else 0.0:.3f} measured, of {p.usable[roomiest]:.3f} usable"
        )
    return Unplaced(u.camera_id, u.cost, u.reason, detail)


class StartTurns:
    """How many more camera actors each node may start in this step (`max_starts_per_cpu`).

    A start costs a core-second or more (Ray's worker start, our imports, opening the
    stream) before the actor answers; a node asked to start all its cameras at once
    spends minutes with every start slower than it needs to be, some past
    `start_timeout_s`, and their restarts feed the storm. So a node has at most
    `max(1, floor(cpus * max_starts_per_cpu))` actors in STARTING; a placed camera over
    that stays PENDING, unassigned, with the reason, and the next step places it again
    (where it may find a node with a free turn). Only new placements wait: a move or a
    reshape stops an actor and is already bounded by the move budget.
    """

    def __init__(self, state: SchedulerState, settings: SchedulerSettings) -> None:
        self.limit = {
            node_id: max(1, math.floor(node.cpus * settings.max_starts_per_cpu))
            for node_id, node in state.nodes.items()
        }
        self.starting: dict[str, int] = {}
        for rec in state.cameras.in_phase(CameraPhase.STARTING):
            if rec.node_id is not None:
                self.starting[rec.node_id] = self.starting.get(rec.node_id, 0) + 1

    def take(self, node_id: str) -> bool:
        """True (and the turn is taken) when `node_id` may start one more actor now."""
        if self.starting.get(node_id, 0) >= self.limit.get(node_id, 1):
            return False
        self.starting[node_id] = self.starting.get(node_id, 0) + 1
        return True

    def waiting_reason(self, node_id: str) -> str:
        return (
            f"waiting its turn to start on {node_id}: {self.starting.get(node_id, 0)} camera actors are starting "
            f"there, at most {self.limit.get(node_id, 1)} at once (scheduler.max_starts_per_cpu)"
        )


def _start(state: SchedulerState, cid: str, node_id: str, why: str, actions: StepActions) -> None:
    rec = state.cameras.require(cid)
    cpus = reservation(RAY_CPUS_PER_CAMERA)
    rec.forget_actor()
    rec.node_id = node_id
    rec.lost_from = None
    rec.must_move = None
    rec.reserved = cpus
    rec.reason = f"starting on {node_id} ({why})"
    state.cameras.move(cid, CameraPhase.STARTING)
    actions.start(StartActor(cid, node_id, cpus, rec.config))
    state.dirty = True
    logger.info(
        "camera %s: starting on node %s, reserving %.4f cores (%s)", cid, node_id, state.plan_costs.get(cid, 0.0), why
    )


def capacity_request(
    state: SchedulerState, settings: SchedulerSettings, cost: CostModel
) -> tuple[dict[str, float], ...] | None:
    """The bundles to ask the autoscaler for, or None when the standing request is right.

    While cameras wait for room, or run degraded (below their analysis rate for want
    of CPU, `analysis.min_fps`), ask for a cluster that fits the whole demand at full
    rate: `request_resources` sizes the cluster to fit the bundles in total, counting
    what already runs (not on top of it), so the request covers every placeable
    camera, not only the waiting or degraded ones. Once they all run at their rate it
    is withdrawn (`()`): their actors' reservations keep their nodes busy, and a
    standing request would keep nodes alive that consolidation has emptied.
    """
    p = state.last_plan
    bundles: tuple[dict[str, float], ...] = ()
    if p is not None and (unmet(p) or degraded_cameras(state)):
        too_big = {u.camera_id for u in p.unplaced if u.reason is UnplacedReason.TOO_BIG}
        bundles = tuple(
            {"CPU": reservation(cores / (1.0 - settings.headroom))}
            for cid, cores in sorted(_full_rate_costs(state, cost).items(), key=lambda kv: (-kv[1], kv[0]))
            if cid not in too_big
        )
    return None if bundles == state.requested else bundles


def _full_rate_costs(state: SchedulerState, cost: CostModel) -> dict[str, float]:
    """The last plan's cameras at what they cost at their full analysis rate: the plan's
    own cost, except for cameras that may lower their rate (counted at their floor)."""
    full = dict(state.plan_costs)
    for cid in full:
        rec = state.cameras.get(cid)
        if rec is not None and rec.config.analysis.min_fps is not None:
            full[cid] = counted_cost(rec, state.cameras.is_active(cid), cost, full_rate=True)
    return full


def degraded_cameras(state: SchedulerState) -> list[str]:
    """Running cameras whose last status says they analyse below their rate for want of CPU."""
    return [
        rec.camera_id
        for rec in state.cameras.in_phase(CameraPhase.RUNNING)
        if rec.status is not None and rec.status.degraded
    ]
