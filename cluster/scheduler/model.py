"""Plain data of the placement problem: nodes, camera demand, and the plan.

No Ray here: the controller turns the nodes Ray reports (`boundary.NodeInfo`) and
its cost model into `NodeCapacity`s and `CameraDemand`s, calls the pure planner,
and acts on the `PlacementPlan` (start, move and stop camera actors; request
resources).
Everything pickles, so a plan can be returned from the scheduler actor as is.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

# Float tolerance for "fits" and "is over capacity". Loads are sums of a few
# hundred costs in cores, so real differences are far above this and rounding
# noise far below.
LOAD_EPSILON = 1e-9


def utilisation_spread(load: Mapping[str, float], usable: Mapping[str, float]) -> float:
    """Max minus min of load / usable over the nodes of `usable` (0 with fewer than two)."""
    utils = [load[n] / cap for n, cap in usable.items()]
    return max(utils) - min(utils) if len(utils) > 1 else 0.0


class PlacementError(ValueError):
    """A placement request that cannot be answered; the message says what is wrong."""


class MoveReason(str, enum.Enum):
    """Why a camera changes node.

    NODE_DEAD and NODE_DRAINING are evacuations: never capped by `max_moves`.
    OVERLOAD, REBALANCE and CONSOLIDATE are voluntary moves of cameras on a
    healthy node: together they never exceed `max_moves` in one plan. RESHAPED is
    never made by the planner: the scheduler moves a camera whose new settings no
    longer fit its node (uncapped, like an evacuation: it cannot stay).
    """

    NODE_DEAD = "node_dead"  # its node is not alive or no longer listed
    NODE_DRAINING = "node_draining"  # its node is being drained
    OVERLOAD = "overload"  # its node is over usable capacity (costs grew)
    REBALANCE = "rebalance"  # utilisation spread above the hysteresis
    CONSOLIDATE = "consolidate"  # emptying a lightly loaded node so it can be released
    PREEMPTED = "preempted"  # a camera of higher priority needed its room
    RESHAPED = "reshaped"  # its new settings (detector added, fps raised) no longer fit its node
    # Its node stayed over its usable capacity with no move to relieve it, and this camera
    # was among the lowest priorities taken off it (placed elsewhere only by displacing
    # cameras of lower priority there); an evacuation: it cannot stay.
    SHED = "shed"


EVACUATION_REASONS = frozenset(
    {MoveReason.NODE_DEAD, MoveReason.NODE_DRAINING, MoveReason.RESHAPED, MoveReason.PREEMPTED, MoveReason.SHED}
)


class UnplacedReason(str, enum.Enum):
    """Why a camera has no node in the plan."""

    # Its cost exceeds the usable capacity of every schedulable node, even an
    # empty one: more nodes of the same kind do not help; lower its settings.
    TOO_BIG = "too_big"
    # It would fit an empty node, but no node has that much room left (or there
    # are no schedulable nodes at all): ask the autoscaler for more.
    NO_CAPACITY = "no_capacity"


@dataclass(frozen=True, slots=True)
class NodeCapacity:
    """One Ray node as the planner sees it: the CPU it offers cameras, and whether
    cameras may run there at all (not to be confused with `cluster.domain.NodeView`,
    the node as the front door shows it).

    `capacity` is the CPU cores the node offers to camera actors (its Ray CPU
    resource minus whatever other actors on it reserve). The planner keeps
    `headroom` of it free, so usable capacity is `capacity * (1 - headroom)`.
    """

    node_id: str
    capacity: float
    alive: bool = True


@dataclass(frozen=True, slots=True)
class CameraDemand:
    """One enabled camera and its estimated CPU cost in cores (see `cost.py`)."""

    camera_id: str
    cost: float
    # Higher runs first when capacity is short (camera config `priority`): placed
    # before lower ones, and may displace running cameras of strictly lower priority.
    priority: int = 50


@dataclass(frozen=True, slots=True)
class Move:
    """Move a running (or, for NODE_DEAD, lost) camera actor to another node."""

    camera_id: str
    from_node: str
    to_node: str
    reason: MoveReason


@dataclass(frozen=True, slots=True)
class Unplaced:
    """A camera the plan could not place, with a human-readable explanation."""

    camera_id: str
    cost: float
    reason: UnplacedReason
    detail: str


@dataclass(frozen=True)
class PlacementPlan:
    """Result of `plan()` or `consolidate()`.

    Every input camera is in exactly one of `assignments` and `unplaced`.
    Cameras in `current` that are not among the input cameras are simply not
    mentioned: the caller stops those actors.
    """

    # camera id -> node id, for every placed camera (including ones that stay).
    assignments: dict[str, str]
    # Cameras whose node changes, in the order the planner decided them.
    moves: tuple[Move, ...]
    # Placed cameras that had no node before (start these actors).
    started: tuple[str, ...]
    unplaced: tuple[Unplaced, ...]
    # Projected load in cores of every input node after the plan (0 for dead ones).
    load: dict[str, float]
    # Usable capacity (capacity * (1 - headroom)) of each schedulable node:
    # alive, not draining, capacity > 0. Nodes missing here accept no camera.
    usable: dict[str, float]
    # Cameras kept on an alive draining node because no other node had room:
    # they keep running until capacity appears (they are also in `assignments`
    # and in `autoscaler_demand`). Biggest first, like `unplaced`.
    stranded: tuple[str, ...] = ()
    # Resource bundles for Ray's autoscaler (`request_resources(bundles=...)`),
    # one per camera that needs room: NO_CAPACITY cameras, then stranded ones,
    # in the order of `unplaced` and `stranded`.
    # Each asks for cost / (1 - headroom) CPUs, so that a node packed with
    # these bundles still keeps the headroom free.
    autoscaler_demand: tuple[dict[str, float], ...] = field(default_factory=tuple)
    # plan(): False when `max_moves` ran out while moves were still worth making
    # (re-plan soon); True means re-planning from this plan makes no moves.
    # consolidate(): always True (it does not rebalance).
    converged: bool = True
    # Running cameras displaced by a camera of higher priority that found no room
    # elsewhere either: stop these actors (they are also in `unplaced`).
    shed: tuple[str, ...] = ()
    # Running cameras taken off a node that stayed over its usable capacity (their costs
    # grew) with no move to relieve it, lowest priority first: stop these actors (they
    # are also in `unplaced`, with the node's figures in the detail).
    overload_shed: tuple[str, ...] = ()
    # Why each of `shed` and `overload_shed` was taken off its node, for its reason while it waits.
    shed_notes: dict[str, str] = field(default_factory=dict)

    @property
    def voluntary_moves(self) -> int:
        """Moves of cameras off healthy nodes (bounded by `max_moves`)."""
        return sum(1 for m in self.moves if m.reason not in EVACUATION_REASONS)

    def utilisation(self, node_id: str) -> float:
        """Load over usable capacity of a schedulable node."""
        if node_id not in self.usable:
            raise KeyError(f"node {node_id!r} is not schedulable in this plan")
        return self.load[node_id] / self.usable[node_id]

    @property
    def spread(self) -> float:
        """Max minus min utilisation over schedulable nodes (0 with fewer than two)."""
        return utilisation_spread(self.load, self.usable)

    @property
    def overloaded_nodes(self) -> tuple[str, ...]:
        """Schedulable nodes whose projected load exceeds their usable capacity."""
        return tuple(sorted(n for n, cap in self.usable.items() if self.load[n] > cap + LOAD_EPSILON))

    @property
    def idle_nodes(self) -> tuple[str, ...]:
        """Schedulable nodes with no camera: candidates for the autoscaler to release."""
        busy = set(self.assignments.values())
        return tuple(sorted(n for n in self.usable if n not in busy))
