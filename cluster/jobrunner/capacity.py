"""Room for batch segments, per node, from the scheduler's own accounting.

Every camera actor declares the same 0.01 CPU to Ray (`cluster/scheduler/capacity.py`):
the scheduler, not Ray, accounts what live cameras use. So Ray's free CPU says
nothing about room for batch work, and the room is computed from the scheduler's
report instead (`SchedulerReport.nodes`, one `NodeReport` per node):

    cameras(node) = max(reserved, measured)      # its estimates, or what they measured if more
    room(node)    = usable - cameras(node) - cpus_per_segment * segments already running there

where `usable` is the node's CPUs minus the scheduler's headroom (the share it
keeps free of cameras: decode spikes, reconnects), which batch work never takes
either. Beyond that, the cluster as a whole keeps at least `live_reserve_cpus`
of its CPU idle (for a camera that is added or moved before the next report):

    idle = sum over the nodes that take work of (cpus - cameras - segments running)

An idle core is an idle core, so the headroom counts toward the reserve (on one
2-CPU node with the 20% headroom and the default reserve of 1 CPU, one segment of
1 CPU runs: 0.4 of headroom and 1.0 of reserve would not both fit beside it).

Guarantees of `plan_slots` (tested in `tests/jobrunner/test_capacity.py`):

- a node gets at most `floor(room / cpus_per_segment)` new segments, and none if
  it is dead, suspect, draining (DrainNode), being released (consolidation) or
  may not host cameras (`usable` 0);
- the idle CPU left after the new segments is at least `live_reserve_cpus`
  (when there was that much to begin with);
- nodes with the most room are filled first (ties by node id): deterministic;
- a plan with no slot says why (`SlotPlan.waiting`): the scheduler silent and the
  fallback used up, no node taking work, the most room any node has against what a
  segment needs, or the cluster's live reserve, with the figures; jobs show it.

Without an answer from the scheduler (`nodes` None: it is restarting, frozen or
gone) the plan is the documented conservative default: at most
`FALLBACK_SEGMENTS` segment(s) running in the whole cluster, placed by Ray, at
low OS priority like every segment. A job goes on slowly; the live cameras lose
at most that one niced core.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..scheduler.report import NodeReport

# Segments that may run in the whole cluster while the scheduler does not answer.
FALLBACK_SEGMENTS = 1
# Float noise of sums of estimates must not lose a whole slot.
_EPSILON = 1e-9


def camera_use(node: NodeReport) -> float:
    """Cores the live cameras of `node` take, as the scheduler accounts them."""
    return max(node.reserved, node.measured)


def takes_work(node: NodeReport) -> bool:
    """Whether new segments may go to `node` at all."""
    return node.alive and not (node.suspect or node.draining or node.releasing) and node.usable > 0


def batch_room(node: NodeReport, *, cpus_per_segment: float, running: int) -> float:
    """Cores of `node` free for new segments: never its headroom (0 for a node that takes no work)."""
    if not takes_work(node):
        return 0.0
    return max(0.0, node.usable - camera_use(node) - cpus_per_segment * running)


def idle_cpus(node: NodeReport, *, cpus_per_segment: float, running: int) -> float:
    """Cores of `node` neither its cameras nor its segments use (0 for a node that takes no work)."""
    if not takes_work(node):
        return 0.0
    return max(0.0, node.cpus - camera_use(node) - cpus_per_segment * running)


@dataclass(slots=True)
class SlotPlan:
    """Where the next segments may start. `per_node` maps node id -> segments;
    `anywhere` counts segments Ray may place itself (the fallback)."""

    per_node: dict[str, int] = field(default_factory=dict)
    anywhere: int = 0
    from_scheduler: bool = True
    waiting: str = ""  # with no slot: why not, for the jobs that wait (empty when there are slots)

    @property
    def total(self) -> int:
        return sum(self.per_node.values()) + self.anywhere

    def take(self) -> str | None:
        """Use one slot: the node with the most slots left (None: let Ray place it).
        Raises LookupError when there is none left."""
        if self.per_node:
            node_id = max(sorted(self.per_node), key=lambda n: self.per_node[n])
            if self.per_node[node_id] > 0:
                self.per_node[node_id] -= 1
                if not self.per_node[node_id]:
                    del self.per_node[node_id]
                return node_id
        if self.anywhere > 0:
            self.anywhere -= 1
            return None
        raise LookupError("no batch slot left: ask for a new plan")


def plan_slots(
    nodes: Sequence[NodeReport] | None,
    *,
    cpus_per_segment: float,
    live_reserve_cpus: float,
    running: Mapping[str | None, int],
) -> SlotPlan:
    """New segments that may start now (see the module's guarantees). `running`: the
    segments running now by the node they were pinned to (None: placed by Ray)."""
    if not (math.isfinite(cpus_per_segment) and cpus_per_segment > 0):
        raise ValueError(f"cpus_per_segment must be a positive number, got {cpus_per_segment!r}")
    if nodes is None:
        anywhere = max(0, FALLBACK_SEGMENTS - sum(running.values()))
        waiting = (
            ""
            if anywhere
            else (
                f"waiting for room: the scheduler does not answer, and until it does at most {FALLBACK_SEGMENTS} "
                f"segment(s) run in the cluster ({sum(running.values())} running)"
            )
        )
        return SlotPlan(anywhere=anywhere, from_scheduler=False, waiting=waiting)
    rooms = {
        node.node_id: batch_room(node, cpus_per_segment=cpus_per_segment, running=running.get(node.node_id, 0))
        for node in nodes
    }
    idle = [idle_cpus(node, cpus_per_segment=cpus_per_segment, running=running.get(node.node_id, 0)) for node in nodes]
    # Segments Ray placed while the scheduler was silent are somewhere: count them against the total.
    left = math.fsum(idle) - cpus_per_segment * running.get(None, 0)
    plan = SlotPlan()
    for node_id in sorted(rooms, key=lambda n: (-rooms[n], n)):
        room = rooms[node_id]
        while room + _EPSILON >= cpus_per_segment and left - cpus_per_segment + _EPSILON >= live_reserve_cpus:
            plan.per_node[node_id] = plan.per_node.get(node_id, 0) + 1
            room -= cpus_per_segment
            left -= cpus_per_segment
    if not plan.total:
        plan.waiting = _why_no_slot(nodes, rooms, left, cpus_per_segment, live_reserve_cpus, running)
    return plan


def _why_no_slot(
    nodes: Sequence[NodeReport],
    rooms: Mapping[str, float],
    idle_left: float,
    cpus_per_segment: float,
    live_reserve_cpus: float,
    running: Mapping[str | None, int],
) -> str:
    working = [n for n in nodes if takes_work(n)]
    if not working:
        return (
            f"waiting for room: none of the {len(nodes)} node(s) takes batch work "
            "(each is dead, suspect, draining, being released or takes no cameras)"
        )
    best = max(working, key=lambda n: (rooms[n.node_id], n.node_id))
    if rooms[best.node_id] + _EPSILON < cpus_per_segment:
        return (
            f"waiting for room: a segment needs {cpus_per_segment:.2f} cores and the most any node has free is "
            f"{rooms[best.node_id]:.2f} (node {best.node_id[:8]}: {best.usable:.2f} usable, its cameras "
            f"{camera_use(best):.2f}, {running.get(best.node_id, 0)} segment(s) running)"
        )
    return (
        f"waiting for room: the cluster keeps {live_reserve_cpus:.2f} cores idle for live cameras "
        f"(batch.live_reserve_cpus) and {max(0.0, idle_left):.2f} are idle"
    )
