"""One run of the scheduler through start, a node joining and a node lost, as figures that a
real Ray cluster (`bench.scheduler_recovery`) and the simulation (`bench.district_sim`) both
give, so that `bench.multinode_vs_sim` can print them side by side.

Both read the same `SchedulerReport`; nodes are named by their role, not their id (Ray's ids
are random), so the two runs' per-node counts line up: `head`, `n1`, `n2`, ... in the order the
nodes were started, `joined` for the node added after the start.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cluster.scheduler.report import CameraPhase, SchedulerReport

JOINED = "joined"
REBALANCE = "rebalance"


def node_labels(started: Sequence[str], joined: str | None = None) -> dict[str, str]:
    """Node id -> role: the first started node is the head, then n1, n2, ...; `joined` last."""
    labels = {node_id: ("head" if i == 0 else f"n{i}") for i, node_id in enumerate(started)}
    if joined is not None:
        labels[joined] = JOINED
    return labels


def cameras_per_node(report: SchedulerReport, labels: Mapping[str, str]) -> dict[str, int]:
    """Running cameras on each alive node, by role, in role order (nodes without a role are
    not counted: there are none in these runs)."""
    counts = {label: 0 for label in labels.values()}
    alive = {n.node_id for n in report.nodes if n.alive}
    for cam in report.cameras:
        if cam.phase is CameraPhase.RUNNING and cam.node_id in alive and cam.node_id in labels:
            counts[labels[cam.node_id]] += 1
    dead = {labels[n] for n in labels if n not in alive}
    return {label: count for label, count in counts.items() if label not in dead}


def placement(report: SchedulerReport) -> dict[str, str | None]:
    return {cam.camera_id: cam.node_id for cam in report.cameras}


def where_they_went(lost: Sequence[str], after: SchedulerReport, labels: Mapping[str, str]) -> dict[str, int]:
    """How many of the `lost` cameras run on each node now, by role."""
    now = placement(after)
    went = collections.Counter(labels.get(now.get(cid) or "", "nowhere") for cid in lost)
    return {label: went[label] for label in [*labels.values(), "nowhere"] if went[label]}


def rebalance_moves(report: SchedulerReport, since_wall: float) -> list[float]:
    """Wall times of the voluntary rebalancing moves made at or after `since_wall`."""
    return [m.at for m in report.recent_moves if m.reason == REBALANCE and m.at >= since_wall]


def mean_cost(report: SchedulerReport) -> float:
    """What the scheduler counts per running camera, on average, in cores."""
    costs = [c.cost for c in report.cameras if c.phase is CameraPhase.RUNNING]
    return sum(costs) / len(costs) if costs else float("nan")


def cost_range(report: SchedulerReport) -> tuple[float, float]:
    costs = [c.cost for c in report.cameras if c.phase is CameraPhase.RUNNING]
    return (min(costs), max(costs)) if costs else (float("nan"), float("nan"))


def format_counts(counts: Mapping[str, int]) -> str:
    """`head 22 / n1 21 / n2 21`."""
    return " / ".join(f"{label} {count}" for label, count in counts.items())


@dataclass
class ClusterRun:
    """The figures of one run; times in seconds (the simulation's: steps x its loop period)."""

    kind: str  # "real" or "simulated"
    cameras: int
    nodes: int  # before the join
    node_cpus: float
    hysteresis: float
    max_moves_per_minute: int
    start_cost: float = float("nan")  # mean cost counted per camera once all were live
    start_s: float = float("nan")  # AddCamera of all until all live
    start_steps: int = 0
    placed: dict[str, int] = field(default_factory=dict)  # per node, once all were live
    join_cost: float = float("nan")  # mean cost counted per camera just before the join
    join_cost_range: tuple[float, float] = (float("nan"), float("nan"))
    join_moves: int = 0  # rebalancing moves after the join
    join_last_move_s: float = float("nan")  # from the join to the last of them
    join_balanced_s: float = float("nan")  # from the join until balanced with every camera live
    join_steps: int = 0  # scheduler steps in that time
    after_join: dict[str, int] = field(default_factory=dict)
    victim: str = ""  # role of the node killed
    lost: int = 0  # cameras that ran on it
    loss_noticed_s: float = float("nan")
    loss_noticed_steps: int = 0
    loss_live_s: float = float("nan")  # from the kill until every camera is live again
    loss_steps: int = 0
    went_to: dict[str, int] = field(default_factory=dict)  # the lost cameras, by their new node
    after_loss: dict[str, int] = field(default_factory=dict)
