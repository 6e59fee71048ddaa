"""Pure placement of camera actors on nodes: `plan()` and `consolidate()`.

No Ray, no clock, no randomness: the same input gives the same plan (every
choice is made by sorted keys, ties broken by camera id then node id).

Terms. A node is *schedulable* when it is alive, not draining and has capacity > 0
(an alive node without capacity is treated like a draining one). Its *usable*
capacity is `capacity * (1 - headroom)`, its *utilisation* load / usable. The
*spread* is max - min utilisation over schedulable nodes. *Imbalance* is
sum(load^2 / usable) over schedulable nodes: with the total load fixed it is
smallest when all utilisations are equal, and moving a camera from a fuller to
an emptier node lowers it only if the move does not overshoot.

What `plan()` does, in order:

1. Stickiness: a camera whose current node is schedulable stays there.
2. Placement: cameras not running (new ones, and those on dead or unlisted nodes),
   then cameras on alive draining nodes, each group highest priority first, then
   biggest cost (ties by id), go to the node that fits them with the lowest utilisation after placing
   (ties by node id). A node fits when load + cost <= usable. A draining node's
   camera that fits nowhere stays where it is (*stranded*: it keeps running) and
   is asked of the autoscaler; a camera that is not running and fits nowhere is
   unplaced (TOO_BIG if it exceeds every node's usable capacity, else NO_CAPACITY,
   also asked of the autoscaler).
2b. Preemption: a camera not running that fits nowhere may displace running
   cameras of strictly lower priority from one node: on each node the candidates
   are taken lowest priority first (then biggest cost, then id) until it fits;
   the node chosen displaces the lowest highest-priority, then the fewest
   cameras, then the least cost (ties by node id). Displaced cameras are placed
   again as in step 2 (they may displace cameras of still lower priority); those
   that fit nowhere are unplaced and listed in `shed` (the caller stops them).
3. Voluntary moves, at most `max_moves` in total: while some node is over its
   usable capacity (costs grew) or the spread exceeds `hysteresis`, make the
   single move that most lowers (total overload, imbalance), lexicographically,
   without overfilling its target; stop when no move strictly lowers it. When
   only overload triggered, a move must lower the overload.
3b. Shedding: when step 3 converged (no move is worth making or possible) and a node
   is still over its usable capacity by more than `SHED_TOLERANCE` (its cameras cost
   more than they were admitted at; within the tolerance the headroom absorbs it, so
   measurement noise around a full node does not shed and re-admit a camera), unless
   one of its cameras is `settling` (its cost not yet measured on this run: shedding
   on a guess may take off the wrong one, and bring it back at once), take its
   cameras off lowest priority first (then biggest cost, then id) until it fits,
   then put back those of them that fit the room left (highest priority first). The
   rest are unplaced (NO_CAPACITY, or TOO_BIG if one alone exceeds the node) and
   listed in `overload_shed` (the caller stops them); they are placed again as in
   steps 2 and 2b.
4. If any camera is still unplaced or stranded, retry step 2 for those, and if
   that placed something, step 3 again with the remaining budget.

Guarantees (tested in tests/scheduler):

- Every input camera is in exactly one of `assignments` and `unplaced`; `moves`
  holds at most one move per camera (its net change from its current node).
- Placement never overfills a schedulable node: a camera is put on a node only if
  it fits there at its turn, and it is put somewhere whenever it fits some node at
  its turn. So if the sticky cameras fit, no schedulable node ends over capacity.
  This is greedy first-fit-decreasing, not optimal bin packing (which is NP-hard):
  a camera may be unplaced although a cleverer packing (moving sticky cameras to
  make room) would fit it.
- A node over capacity on input (sticky costs grew) is relieved by voluntary moves
  within `max_moves`; what moves cannot relieve is shed (3b), so a converged plan
  leaves no schedulable node over its usable capacity by more than `SHED_TOLERANCE`,
  except one holding a `settling` camera (a node that sheds is brought within its
  usable capacity, not just within the tolerance). A plan that ran out of
  `max_moves` sheds nothing (the next plans move instead) and reports the node in
  `overloaded_nodes`. Shedding takes a camera only while its node is still over,
  lowest priority first, so no camera is shed while one of lower priority there
  could have gone instead.
- Voluntary moves (OVERLOAD, REBALANCE, CONSOLIDATE) never exceed `max_moves`;
  evacuations (NODE_DEAD, NODE_DRAINING) are not capped: a lost camera is
  restarted at once, and draining must finish.
- Stability: re-planning from a `converged` plan's assignments (same nodes,
  demand and options) gives no moves. A plan is not converged only when it ran out
  of `max_moves` with worthwhile moves left; the next plans carry on, each
  voluntary move strictly lowering the objective, so they converge.
- With `spread <= hysteresis` and no overloaded node, sticky cameras never move,
  except to make room for a camera of higher priority (2b).
- Priority: a camera is never displaced, nor left unplaced while it would have
  fitted, for a camera of equal or lower priority. With all priorities equal
  there is no preemption and the plan is the one without priorities. Preemption
  ends: each displacement places a camera of strictly higher priority than every
  camera it displaces. Displacements are evacuations (not capped by `max_moves`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from .model import (
    LOAD_EPSILON,
    CameraDemand,
    Move,
    MoveReason,
    NodeCapacity,
    PlacementError,
    PlacementPlan,
    Unplaced,
    UnplacedReason,
)
from .placement_state import PlacementState, Shed, initial_state, validate_inputs

DEFAULT_MAX_MOVES = 4  # a move is a restart: seconds of gap on that camera's stream
DEFAULT_HEADROOM = 0.2  # for estimate error, motion bursts, Ray's own processes on the node
DEFAULT_HYSTERESIS = 0.15  # utilisation spread tolerated before rebalancing
# A voluntary move must improve the objective by more than this (cores^2): float
# noise never justifies restarting a camera.
IMPROVEMENT_EPSILON = 1e-9
# A node is shed (step 3b) only when over its usable capacity by more than this share of it.
SHED_TOLERANCE = 0.05
# Ray keeps resource quantities to 4 decimals.
RAY_RESOURCE_GRANULARITY = 1e-4

__all__ = [
    "DEFAULT_HEADROOM",
    "DEFAULT_HYSTERESIS",
    "DEFAULT_MAX_MOVES",
    "SHED_TOLERANCE",
    "PlacementError",
    "consolidate",
    "plan",
]


def _placing_order(state: PlacementState, camera_id: str) -> tuple[int, float, str]:
    return (-state.priorities.get(camera_id, 0), -state.costs[camera_id], camera_id)


def _place(state: PlacementState, not_running: list[str], on_draining: list[str]) -> tuple[list[str], list[str]]:
    """Step 2; returns (still not running, still stranded)."""
    left_out: list[str] = []
    for cam in sorted(not_running, key=lambda c: _placing_order(state, c)):
        target = state.best_target(state.costs[cam], state.usable)
        if target is None:
            left_out.append(cam)
        else:
            state.move(cam, target, None)  # origin already set for NODE_DEAD
    stranded: list[str] = []
    for cam in sorted(on_draining, key=lambda c: _placing_order(state, c)):
        target = state.best_target(state.costs[cam], state.usable)
        if target is None:
            stranded.append(cam)
        else:
            state.move(cam, target, MoveReason.NODE_DRAINING)
    return left_out, stranded


def _displacement(state: PlacementState, camera_id: str) -> tuple[str, list[str]] | None:
    """The node and the cameras of lower priority whose removal makes room for
    `camera_id` there (step 2b), or None when no node can be made to fit it."""
    priority, cost = state.priorities.get(camera_id, 0), state.costs[camera_id]
    best: tuple[tuple[int, int, float, str], str, list[str]] | None = None
    for node_id in sorted(state.usable):
        candidates = sorted(
            (c for c in state.members[node_id] if state.priorities.get(c, 0) < priority),
            key=lambda c: (state.priorities.get(c, 0), -state.costs[c], c),
        )
        free = state.usable[node_id] - state.load[node_id]
        victims: list[str] = []
        for victim in candidates:
            if free + LOAD_EPSILON >= cost:
                break
            victims.append(victim)
            free += state.costs[victim]
        if not victims or free + LOAD_EPSILON < cost:
            continue
        key = (
            max(state.priorities.get(v, 0) for v in victims),
            len(victims),
            math.fsum(state.costs[v] for v in victims),
            node_id,
        )
        if best is None or key < best[0]:
            best = (key, node_id, victims)
    return None if best is None else (best[1], best[2])


def _preempt(state: PlacementState, left_out: list[str]) -> tuple[list[str], list[str]]:
    """Step 2b; returns (still not running, displaced and placed nowhere: shed)."""
    waiting = sorted(left_out, key=lambda c: _placing_order(state, c))
    displaced: set[str] = set()
    still_out: list[str] = []
    while waiting:
        cam = waiting.pop(0)
        target = state.best_target(state.costs[cam], state.usable)
        if target is None:
            found = _displacement(state, cam)
            if found is None:
                still_out.append(cam)
                continue
            target, victims = found
            for victim in victims:
                state.remove(victim, MoveReason.PREEMPTED)
                displaced.add(victim)
            waiting = sorted([*waiting, *victims], key=lambda c: _placing_order(state, c))
        state.move(cam, target, state.origin.get(cam, (None, None))[1])
    # Shed: displaced from where it was running when the plan began (not one this plan had
    # only just placed, nor one whose node died).
    shed = sorted(
        (c for c in still_out if c in displaced and state.origin.get(c, (None, None))[1] is MoveReason.PREEMPTED),
        key=lambda c: _placing_order(state, c),
    )
    return still_out, shed


def _best_voluntary_move(state: PlacementState, must_relieve_overload: bool) -> tuple[str, str] | None:
    """The (camera, target) that most lowers (overload, imbalance), or None."""
    best: tuple[float, float, str, str] | None = None
    for src in state.usable:
        u_src, load_src = state.usable[src], state.load[src]
        over_before = state.overload(src)
        for dst in state.usable:
            # From an emptier (or equally full) node, no move lowers the imbalance.
            if dst == src or state.utilisation(dst) >= state.utilisation(src):
                continue
            u_dst, load_dst = state.usable[dst], state.load[dst]
            for cam in state.members[src]:
                cost = state.costs[cam]
                if not state.fits(dst, cost):
                    continue
                d_over = max(0.0, load_src - cost - u_src) - over_before
                d_imbalance = ((load_src - cost) ** 2 - load_src**2) / u_src + (
                    (load_dst + cost) ** 2 - load_dst**2
                ) / u_dst
                relieves = d_over < -LOAD_EPSILON
                if must_relieve_overload and not relieves:
                    continue
                if not relieves and d_imbalance >= -IMPROVEMENT_EPSILON:
                    continue
                key = (d_over if relieves else 0.0, d_imbalance, cam, dst)
                if best is None or key < best:
                    best = key
    return None if best is None else (best[2], best[3])


def _next_voluntary_move(state: PlacementState, hysteresis: float) -> tuple[str, str] | None:
    """The move step 3 would make now, or None when there is nothing worth doing."""
    unbalanced = state.spread() > hysteresis
    if not (unbalanced or state.any_overloaded()):
        return None
    return _best_voluntary_move(state, must_relieve_overload=not unbalanced)


def _voluntary_moves(state: PlacementState, budget: int, hysteresis: float) -> tuple[int, bool]:
    """Step 3; returns how many moves it made and whether it converged (stopped
    because no move was worth making rather than because the budget ran out)."""
    made = 0
    while True:
        choice = _next_voluntary_move(state, hysteresis)
        if choice is None:
            return made, True
        if made >= budget:
            return made, False
        cam, dst = choice
        src = state.where[cam]
        reason = MoveReason.OVERLOAD if state.overload(src) > LOAD_EPSILON else MoveReason.REBALANCE
        state.move(cam, dst, reason)
        made += 1


def _shedding_order(state: PlacementState, camera_id: str) -> tuple[int, float, str]:
    return (state.priorities.get(camera_id, 0), -state.costs[camera_id], camera_id)


def _shed_overload(state: PlacementState, settling: frozenset[str]) -> dict[str, Shed]:
    """Step 3b; returns the cameras taken off their node, each with (node, its load
    before, its usable capacity)."""
    taken: dict[str, Shed] = {}
    for node_id in sorted(state.usable):
        usable, before = state.usable[node_id], state.load[node_id]
        if before <= usable * (1 + SHED_TOLERANCE) + LOAD_EPSILON or not settling.isdisjoint(state.members[node_id]):
            continue
        removed: list[tuple[str, bool]] = []
        for cam in sorted(state.members[node_id], key=lambda c: _shedding_order(state, c)):
            if state.load[node_id] <= usable + LOAD_EPSILON:
                break
            removed.append((cam, cam in state.origin))
            state.remove(cam, MoveReason.SHED)
        for cam, had_origin in sorted(removed, key=lambda r: _placing_order(state, r[0])):
            if state.fits(node_id, state.costs[cam]):
                state.put(cam, node_id)  # the room left takes it after all: it never stops
                if not had_origin:
                    del state.origin[cam]
            else:
                taken[cam] = (node_id, before, usable)
    return taken


def _bundle(cost: float, headroom: float) -> dict[str, float]:
    cpus = cost / (1.0 - headroom)
    steps = max(1, math.ceil(round(cpus / RAY_RESOURCE_GRANULARITY, 6)))
    return {"CPU": round(steps * RAY_RESOURCE_GRANULARITY, 4)}


def _finish(
    state: PlacementState,
    left_out: list[str],
    stranded: list[str],
    headroom: float,
    *,
    converged: bool = True,
    shed: tuple[str, ...] | list[str] = (),
    overload_shed: Mapping[str, Shed] | None = None,
) -> PlacementPlan:
    moves: list[Move] = []
    started: list[str] = []
    for cam, (from_node, reason) in state.origin.items():
        to_node = state.where.get(cam)
        if to_node is None:
            continue  # lost and not placed: reported as unplaced
        if from_node is None:
            started.append(cam)
        elif from_node != to_node:
            assert reason is not None
            moves.append(Move(cam, from_node, to_node, reason))

    largest = max(state.usable.values(), default=0.0)
    overload = overload_shed or {}
    notes = {c: "shed for a camera of higher priority" for c in shed}
    for cam, (node_id, load_before, usable) in overload.items():
        notes[cam] = (
            f"shed from node {node_id}: its cameras cost {load_before:.3f} cores, more than its {usable:.3f} "
            "usable, and no move could relieve it (the lowest priorities go first)"
        )
    unplaced: list[Unplaced] = []
    for cam in sorted(left_out, key=lambda c: _placing_order(state, c)):
        cost = state.costs[cam]
        if not state.usable:
            why, detail = UnplacedReason.NO_CAPACITY, "there is no schedulable node"
        elif cost > largest + LOAD_EPSILON:
            why = UnplacedReason.TOO_BIG
            detail = (
                f"costs {cost:.3f} cores, more than the usable capacity of any node "
                f"(largest {largest:.3f} cores with headroom {headroom:.0%})"
            )
        else:
            why = UnplacedReason.NO_CAPACITY
            free = max(state.usable[n] - state.load[n] for n in state.usable)
            detail = f"costs {cost:.3f} cores; the most any node has free is {max(free, 0.0):.3f} cores"
        if cam in notes:
            detail = f"{notes[cam]}; {detail}"
        unplaced.append(Unplaced(cam, cost, why, detail))

    stranded = sorted(stranded, key=lambda c: (-state.costs[c], c))
    needy = [u.cost for u in unplaced if u.reason is UnplacedReason.NO_CAPACITY]
    needy += [state.costs[c] for c in stranded]
    return PlacementPlan(
        assignments=dict(sorted(state.where.items())),
        moves=tuple(moves),
        started=tuple(started),
        unplaced=tuple(unplaced),
        load=dict(sorted(state.load.items())),
        usable=dict(state.usable),
        stranded=tuple(stranded),
        autoscaler_demand=tuple(_bundle(c, headroom) for c in needy),
        converged=converged,
        shed=tuple(shed),
        overload_shed=tuple(sorted(overload, key=lambda c: _shedding_order(state, c))),
        shed_notes=notes,
    )


def plan(
    nodes: list[NodeCapacity],
    cameras: list[CameraDemand],
    current: Mapping[str, str],
    *,
    max_moves: int = DEFAULT_MAX_MOVES,
    headroom: float = DEFAULT_HEADROOM,
    hysteresis: float = DEFAULT_HYSTERESIS,
    draining: Iterable[str] = frozenset(),
    settling: Iterable[str] = frozenset(),
) -> PlacementPlan:
    """Where each camera should run; see the module docstring for the rules and guarantees.

    `settling`: running cameras whose cost is not yet known from measurements of their
    current run; their nodes are not shed (step 3b).

    `current` maps camera id -> node id of running actors; entries for cameras
    not in `cameras` are ignored (the caller stops them). Draining ids that are
    not among `nodes` are ignored. Raises PlacementError for duplicate ids,
    negative costs or capacities, bad options, or draining the last schedulable node.
    """
    draining, settling = frozenset(draining), frozenset(settling)
    validate_inputs(nodes, cameras, max_moves, headroom, hysteresis, draining)
    state, not_running, on_draining = initial_state(nodes, cameras, current, headroom, draining)
    left_out, stranded = _place(state, not_running, on_draining)
    left_out, shed = _preempt(state, left_out) if left_out else (left_out, [])
    budget = max_moves
    overload_shed: dict[str, Shed] = {}
    while True:
        made, converged = _voluntary_moves(state, budget, hysteresis)
        budget -= made
        taken = _shed_overload(state, settling) if converged and state.any_overloaded() else {}
        if taken:
            overload_shed.update(taken)
            left_out = [*left_out, *taken]
            continue  # the room shedding freed may make moves worthwhile (and it is no longer over)
        if not (left_out or stranded):
            break
        before = (len(left_out), len(stranded))
        left_out, stranded = _place(state, left_out, stranded)
        if left_out:  # voluntary moves may have opened room for a camera of higher priority
            left_out, more_shed = _preempt(state, left_out)
            shed = [*shed, *more_shed]
        if (len(left_out), len(stranded)) == before:
            break
    shed = sorted(set(shed) & set(left_out))  # step 4 may have found them room after all
    still_shed = {c: why for c, why in overload_shed.items() if c in left_out}
    return _finish(state, left_out, stranded, headroom, converged=converged, shed=shed, overload_shed=still_shed)


def consolidate(
    nodes: list[NodeCapacity],
    cameras: list[CameraDemand],
    current: Mapping[str, str],
    *,
    max_moves: int = DEFAULT_MAX_MOVES,
    headroom: float = DEFAULT_HEADROOM,
    draining: Iterable[str] = frozenset(),
    keep: Iterable[str] = frozenset(),
) -> PlacementPlan:
    """Empty lightly loaded nodes so the autoscaler can release them.

    Places new and evacuated cameras like `plan()` (uncapped), then tries the
    non-empty schedulable nodes from the least loaded up (ties by id): a node is
    emptied only if all its cameras fit on the other non-empty nodes that are
    kept (each biggest first, to the fullest node it fits: best fit) and the moves
    fit in what is left of `max_moves`; otherwise it is left untouched. A node that
    received cameras is not emptied in the same call. Nothing is
    consolidated while a camera is unplaced for lack of room or stranded: then
    demand has not dropped. No rebalancing is done.

    Nodes in `keep` (ones the autoscaler can never release, such as the head
    node) are never emptied; they still take cameras from emptied nodes.

    Emptied nodes are in `idle_nodes`. Pass them as `draining` to the following
    `plan()` calls until they are released, or rebalancing will refill them.
    """
    draining = frozenset(draining)
    keep = frozenset(keep)
    validate_inputs(nodes, cameras, max_moves, headroom, math.inf, draining)
    state, not_running, on_draining = initial_state(nodes, cameras, current, headroom, draining)
    left_out, stranded = _place(state, not_running, on_draining)
    if left_out or stranded:
        return _finish(state, left_out, stranded, headroom)

    budget = max_moves
    tried: set[str] = set()
    while budget > 0:
        candidates = [n for n in state.usable if state.members[n] and n not in tried and n not in keep]
        if not candidates:
            break
        node = min(candidates, key=lambda n: (state.load[n], n))
        tried.add(node)
        cams = sorted(state.members[node], key=lambda c: (-state.costs[c], c))
        keepers = [n for n in state.usable if n != node and state.members[n]]
        if len(cams) > budget or not keepers:
            continue
        trial = _trial_targets(state, cams, keepers)
        if trial is None:
            continue
        for cam, target in trial:
            state.move(cam, target, MoveReason.CONSOLIDATE)
        budget -= len(cams)
        tried.update(t for _, t in trial)  # a node that just received cameras is not one to empty
    return _finish(state, left_out, stranded, headroom)


def _trial_targets(state: PlacementState, cams: list[str], keepers: list[str]) -> list[tuple[str, str]] | None:
    """Targets for all `cams` among `keepers` without changing `state`, or None if one does not fit."""
    extra = {n: 0.0 for n in keepers}
    chosen: list[tuple[str, str]] = []
    for cam in cams:
        cost = state.costs[cam]
        fitting = [n for n in keepers if state.load[n] + extra[n] + cost <= state.usable[n] + LOAD_EPSILON]
        if not fitting:
            return None
        # Best fit (fullest node that still fits): packs the kept nodes tightly, so
        # the next lightest node can be emptied too. The following plan() evens them
        # out again if their spread exceeds the hysteresis.
        target = min(fitting, key=lambda n: (-(state.load[n] + extra[n] + cost) / state.usable[n], n))
        extra[target] += cost
        chosen.append((cam, target))
    return chosen
