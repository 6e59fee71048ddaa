"""SchedulerReportSource: a SchedulerSnapshot from today's SchedulerReport."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace as NS

from cluster.metrics.scheduler import UNPLACED_REASONS, SchedulerReportSource
from cluster.scheduler.model import UnplacedReason


def report(moves=(), cameras=(), unplaced=(), nodes=(), bundles=()):
    return NS(
        recent_moves=tuple(moves),
        cameras=tuple(cameras),
        unplaced=tuple(unplaced),
        nodes=tuple(nodes),
        requested_bundles=tuple(bundles),
    )


def move(at, camera, reason="rebalance"):
    return NS(at=at, camera_id=camera, from_node="a", to_node="b", reason=reason)


def camera(cid, restarts=0, phase="running"):
    return NS(camera_id=cid, restarts=restarts, phase=NS(value=phase))


class Reports:
    def __init__(self, *reports):
        self.reports = list(reports)

    async def __call__(self):
        return self.reports.pop(0)


def test_moves_are_counted_once_each_across_refreshes():
    source = SchedulerReportSource(
        Reports(
            report(moves=[move(1, "c1"), move(2, "c2", "drain")]),
            report(moves=[move(1, "c1"), move(2, "c2", "drain"), move(3, "c1")]),
        )
    )
    assert asyncio.run(source.scheduler_snapshot()).moves_total == {"rebalance": 1, "drain": 1}
    assert asyncio.run(source.scheduler_snapshot()).moves_total == {"rebalance": 2, "drain": 1}


def test_recoveries_never_go_down_when_a_camera_is_removed():
    source = SchedulerReportSource(
        Reports(report(cameras=[camera("c1", 2), camera("c2", 1)]), report(cameras=[camera("c1", 3)]))
    )
    assert asyncio.run(source.scheduler_snapshot()).recoveries_total == 3
    assert asyncio.run(source.scheduler_snapshot()).recoveries_total == 4


def test_current_state_is_summarised_by_phase_reason_and_node():
    rep = report(
        cameras=[camera("c1"), camera("c2", phase="pending")],
        unplaced=[NS(reason=NS(value="no_capacity"), cost=0.25), NS(reason=NS(value="no_capacity"), cost=0.25)],
        nodes=[
            NS(node_id="n1", usable=3.4, alive=True, load=3.3, measured=1.2),
            NS(node_id="n2", usable=3.4, alive=False, load=0.0, measured=0.0),
        ],
        bundles=[{"CPU": 1.0}],
    )
    snap = asyncio.run(SchedulerReportSource(Reports(rep)).scheduler_snapshot())
    assert snap.cameras_by_phase == {"running": 1, "pending": 1}
    assert snap.unplaced_by_reason == {"no_capacity": 2}
    assert snap.node_usable_cores == {"n1": 3.4}, "dead nodes offer no capacity"
    assert snap.requested_bundles == 1
    assert snap.node_reserved_cores == {"n1": 3.3} and snap.node_measured_cores == {"n1": 1.2}, (
        "reserved and measured CPU of the alive nodes"
    )
    assert snap.unplaced_demand_cores == {"no_capacity": 0.5, "too_big": 0.0}, (
        "what the unplaced cameras would cost, by reason (0 where none waits, so alerts have a series)"
    )


def test_the_unplaced_reasons_are_the_scheduler_s():
    assert set(UNPLACED_REASONS) == {r.value for r in UnplacedReason}, "metrics name every reason a camera waits"
