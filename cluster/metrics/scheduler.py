"""What the scheduler offers to metrics: a snapshot, pulled on each refresh.

Per-node camera counts and load are not repeated here: they come from
`CameraControl.cluster_status()` (`NodeView.cameras`, `NodeView.load`), which the
scheduler implements. The snapshot adds what only the scheduler knows.

Two ways to feed it:
- the scheduler (or its client) implements `SchedulerStatsSource` directly, or
- `SchedulerReportSource` adapts today's `SchedulerClient.report()`
  (`cluster/scheduler/report.py`), counting moves from its recent-move history.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# The scheduler's UnplacedReason values (cluster/scheduler/model.py).
UNPLACED_REASONS = ("no_capacity", "too_big")


@dataclass(frozen=True, slots=True)
class SchedulerSnapshot:
    """Counters are cumulative since the scheduler (or the adapter) started; the
    rest is current."""

    moves_total: Mapping[str, int] = field(default_factory=dict)  # by MoveReason value
    recoveries_total: int = 0  # camera actors recreated after death or lost heartbeats
    unplaced_by_reason: Mapping[str, int] = field(default_factory=dict)  # by UnplacedReason value
    cameras_by_phase: Mapping[str, int] = field(default_factory=dict)  # by CameraPhase value
    node_usable_cores: Mapping[str, float] = field(default_factory=dict)  # node id -> cpus minus headroom
    requested_bundles: int = 0  # bundles asked of the autoscaler
    node_reserved_cores: Mapping[str, float] = field(default_factory=dict)  # node id -> what admission counts
    node_measured_cores: Mapping[str, float] = field(default_factory=dict)  # node id -> what its cameras measure
    unplaced_demand_cores: Mapping[str, float] = field(default_factory=dict)  # by UnplacedReason value


class SchedulerStatsSource(Protocol):
    async def scheduler_snapshot(self) -> SchedulerSnapshot: ...


class SchedulerReportSource:
    """`SchedulerStatsSource` over a `SchedulerReport` getter, e.g.
    `SchedulerReportSource(scheduler_client.report)`.

    Moves are counted from `report.recent_moves` (each record once), so moves
    made and dropped from that bounded history between two refreshes are missed;
    recoveries add up increases of each camera's `restarts`, so the counter
    never goes down when a camera is removed.
    """

    def __init__(self, report: Callable[[], Awaitable[Any]], remember_moves: int = 4096):
        self._report = report
        self._seen_moves: collections.OrderedDict[tuple, None] = collections.OrderedDict()
        self._remember_moves = remember_moves
        self._moves: collections.Counter[str] = collections.Counter()
        self._restarts: dict[str, int] = {}
        self._recoveries = 0

    async def scheduler_snapshot(self) -> SchedulerSnapshot:
        report = await self._report()
        for move in report.recent_moves:
            key = (move.at, move.camera_id, move.from_node, move.to_node, move.reason)
            if key in self._seen_moves:
                continue
            self._seen_moves[key] = None
            if len(self._seen_moves) > self._remember_moves:
                self._seen_moves.popitem(last=False)
            self._moves[move.reason] += 1
        for camera in report.cameras:
            before = self._restarts.get(camera.camera_id, 0)
            self._recoveries += max(0, camera.restarts - before)
            self._restarts[camera.camera_id] = camera.restarts
        phases = collections.Counter(_value(c.phase) for c in report.cameras)
        unplaced = collections.Counter(_value(u.reason) for u in report.unplaced)
        # Zero for the reasons nothing waits for: the alerts compare it with idle capacity.
        demand: dict[str, float] = dict.fromkeys(UNPLACED_REASONS, 0.0)
        for u in report.unplaced:
            demand[_value(u.reason)] = demand.get(_value(u.reason), 0.0) + float(u.cost)
        alive = [n for n in report.nodes if n.alive]
        return SchedulerSnapshot(
            moves_total=dict(self._moves),
            recoveries_total=self._recoveries,
            unplaced_by_reason=dict(unplaced),
            cameras_by_phase=dict(phases),
            node_usable_cores={n.node_id: float(n.usable) for n in alive},
            requested_bundles=len(report.requested_bundles),
            node_reserved_cores={n.node_id: float(n.load) for n in alive},
            node_measured_cores={n.node_id: float(n.measured) for n in alive},
            unplaced_demand_cores=demand,
        )


def _value(member: Any) -> str:
    return str(getattr(member, "value", member))
