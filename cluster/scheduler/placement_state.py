"""The state a placement is computed in (`PlacementState`), and the checks and set-up
that every call of `placement.plan` and `placement.consolidate` starts with.

`PlacementState` holds where every placed camera is and each schedulable node's exact
load (an `fsum` of its members' costs, so the same members always give the same load:
re-planning from a plan sees exactly the loads it ended with), and remembers each
camera's first departure so that a plan reports net moves. The placement steps
themselves, and their guarantees, are in `placement.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from .model import LOAD_EPSILON, CameraDemand, MoveReason, NodeCapacity, PlacementError, utilisation_spread

Origin = tuple[str | None, MoveReason | None]  # (node the camera was on, why it left)
Shed = tuple[str, float, float]  # (node a camera was shed from, its load before, its usable capacity)


class PlacementState:
    """Where every placed camera is, with exact per-node loads."""

    def __init__(
        self,
        costs: dict[str, float],
        node_ids: Iterable[str],
        usable: dict[str, float],
        priorities: dict[str, int] | None = None,
    ) -> None:
        self.costs = costs
        self.priorities = priorities or {}
        self.usable = usable  # schedulable nodes only
        self.members: dict[str, set[str]] = {n: set() for n in node_ids}
        self.load: dict[str, float] = {n: 0.0 for n in self.members}
        self.where: dict[str, str] = {}
        # First departure of each camera this plan touches, to report net moves.
        self.origin: dict[str, Origin] = {}

    def put(self, camera_id: str, node_id: str) -> None:
        self.put_all({camera_id: node_id})

    def put_all(self, placed: Mapping[str, str]) -> None:
        """`put` each camera on its node, each node's load summed once (not once per camera)."""
        for camera_id, node_id in placed.items():
            self.where[camera_id] = node_id
            self.members[node_id].add(camera_id)
        for node_id in set(placed.values()):
            self._refresh(node_id)

    def move(self, camera_id: str, to_node: str, reason: MoveReason | None) -> None:
        """Move (or first place, when the camera has no node) and remember its origin."""
        from_node = self.where.get(camera_id)
        self.origin.setdefault(camera_id, (from_node, reason))
        if from_node is not None:
            self.members[from_node].discard(camera_id)
            self._refresh(from_node)
        self.put(camera_id, to_node)

    def remove(self, camera_id: str, reason: MoveReason) -> None:
        """Take a placed camera off its node (it is placed again or left unplaced)."""
        from_node = self.where.pop(camera_id)
        self.origin.setdefault(camera_id, (from_node, reason))
        self.members[from_node].discard(camera_id)
        self._refresh(from_node)

    def _refresh(self, node_id: str) -> None:
        # fsum is exact whatever the order, so the same members always give the
        # same load: re-planning from a plan sees exactly the loads it ended with.
        self.load[node_id] = math.fsum(self.costs[c] for c in self.members[node_id])

    def fits(self, node_id: str, cost: float) -> bool:
        return self.load[node_id] + cost <= self.usable[node_id] + LOAD_EPSILON

    def utilisation(self, node_id: str) -> float:
        return self.load[node_id] / self.usable[node_id]

    def spread(self) -> float:
        return utilisation_spread(self.load, self.usable)

    def overload(self, node_id: str) -> float:
        return max(0.0, self.load[node_id] - self.usable[node_id])

    def any_overloaded(self) -> bool:
        return any(self.load[n] > self.usable[n] + LOAD_EPSILON for n in self.usable)

    def best_target(self, cost: float, among: Iterable[str]) -> str | None:
        """The fitting node with the lowest utilisation after placing `cost` (ties: node id)."""
        fitting = [n for n in among if self.fits(n, cost)]
        if not fitting:
            return None
        return min(fitting, key=lambda n: ((self.load[n] + cost) / self.usable[n], n))


def schedulable(node: NodeCapacity, draining: frozenset[str]) -> bool:
    return node.alive and node.capacity > 0 and node.node_id not in draining


def validate_inputs(
    nodes: list[NodeCapacity],
    cameras: list[CameraDemand],
    max_moves: int,
    headroom: float,
    hysteresis: float,
    draining: frozenset[str],
) -> None:
    seen_nodes: set[str] = set()
    for node in nodes:
        if node.node_id in seen_nodes:
            raise PlacementError(f"duplicate node id {node.node_id!r}")
        seen_nodes.add(node.node_id)
        if not (math.isfinite(node.capacity) and node.capacity >= 0):
            raise PlacementError(f"node {node.node_id!r} has capacity {node.capacity}; it must be >= 0 cores")
    seen_cameras: set[str] = set()
    for cam in cameras:
        if cam.camera_id in seen_cameras:
            raise PlacementError(f"duplicate camera id {cam.camera_id!r}")
        seen_cameras.add(cam.camera_id)
        if not (math.isfinite(cam.cost) and cam.cost >= 0):
            raise PlacementError(f"camera {cam.camera_id!r} has cost {cam.cost}; it must be >= 0 cores")
    if isinstance(max_moves, bool) or not isinstance(max_moves, int) or max_moves < 0:
        raise PlacementError(f"max_moves must be a non-negative integer, got {max_moves!r}")
    if not (0.0 <= headroom < 1.0):
        raise PlacementError(f"headroom must be within [0, 1), got {headroom}")
    if math.isnan(hysteresis) or hysteresis < 0:
        raise PlacementError(f"hysteresis must be >= 0, got {hysteresis}")
    drained = sorted(n.node_id for n in nodes if n.alive and n.capacity > 0 and n.node_id in draining)
    if drained and not any(schedulable(n, draining) for n in nodes):
        raise PlacementError(
            f"cannot drain {', '.join(drained)}: no other schedulable node would be left to run cameras"
        )


def initial_state(
    nodes: list[NodeCapacity],
    cameras: list[CameraDemand],
    current: Mapping[str, str],
    headroom: float,
    draining: frozenset[str],
) -> tuple[PlacementState, list[str], list[str]]:
    """State with sticky and drain-pending cameras in place; returns the two groups to place."""
    by_id = {n.node_id: n for n in nodes}
    usable = {
        n.node_id: n.capacity * (1.0 - headroom)
        for n in sorted(nodes, key=lambda n: n.node_id)
        if schedulable(n, draining)
    }
    state = PlacementState(
        {c.camera_id: c.cost for c in cameras}, by_id, usable, {c.camera_id: c.priority for c in cameras}
    )
    not_running: list[str] = []  # new, or on a dead / unlisted node
    on_draining: list[str] = []  # still running on an alive node it should leave
    staying: dict[str, str] = {}
    for cam in sorted(state.costs):
        node_id = current.get(cam)
        node = by_id.get(node_id) if node_id is not None else None
        if node_id is None:
            not_running.append(cam)
        elif node is None or not node.alive:
            state.origin[cam] = (node_id, MoveReason.NODE_DEAD)
            not_running.append(cam)
        else:
            staying[cam] = node_id
            if node_id not in usable:
                on_draining.append(cam)  # it keeps running there until it has somewhere to go
    state.put_all(staying)
    return state, not_running, on_draining
