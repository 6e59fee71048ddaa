"""Read-only views of the controller's state: CameraView/ClusterStatus for the
CameraControl protocol, SchedulerReport for the CLI. Callers hold the lock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain import CameraState
from ..control import CameraView, ClusterStatus
from ..control import NodeView as ControlNodeView
from .records import CameraRecord
from .report import CameraReport, NodeReport, SchedulerReport

if TYPE_CHECKING:
    from .controller import Controller


def camera_view(rec: CameraRecord) -> CameraView:
    if not rec.active:
        return CameraView(config=rec.config, status=None, node_id=None)
    return CameraView(config=rec.config, status=rec.status, node_id=rec.node_id)


def _node_cameras(ctl: "Controller") -> tuple[dict[str, list[str]], dict[str, float]]:
    cameras: dict[str, list[str]] = {}
    load: dict[str, float] = {}
    for cid, rec in sorted(ctl.cameras.items()):
        if rec.active and rec.node_id is not None:
            cameras.setdefault(rec.node_id, []).append(cid)
            load[rec.node_id] = load.get(rec.node_id, 0.0) + ctl.planner.camera_cost(rec)
    return cameras, load


def _is_live(rec: CameraRecord) -> bool:
    return rec.active and rec.status is not None and rec.status.state is CameraState.LIVE


def build_cluster_status(ctl: "Controller") -> ClusterStatus:
    cameras, load = _node_cameras(ctl)
    nodes = tuple(
        ControlNodeView(
            node_id=n.node_id,
            address=n.address,
            alive=n.alive,
            cpus=n.cpus,
            cameras=tuple(cameras.get(n.node_id, ())),
            load=round(load.get(n.node_id, 0.0), 4),
            labels=dict(n.labels),
            draining=n.node_id in ctl.draining or n.node_id in ctl.planner.releasing,
        )
        for n in sorted(ctl.nodes.values(), key=lambda n: (not n.is_head, n.node_id))
    )
    return ClusterStatus(
        nodes=nodes,
        cameras_configured=len(ctl.cameras),
        cameras_live=sum(1 for rec in ctl.cameras.values() if _is_live(rec)),
        unplaced=tuple(sorted(cid for cid, rec in ctl.cameras.items() if rec.unplaced is not None)),
    )


def build_report(ctl: "Controller") -> SchedulerReport:
    now = ctl.clock()
    cameras, load = _node_cameras(ctl)
    planner = ctl.planner
    nodes = tuple(
        NodeReport(
            node_id=n.node_id,
            address=n.address,
            alive=n.alive,
            cpus=n.cpus,
            usable=planner.usable(n.node_id),
            load=load.get(n.node_id, 0.0),
            cameras=tuple(cameras.get(n.node_id, ())),
            is_head=n.is_head,
            draining=n.node_id in ctl.draining,
            releasing=n.node_id in planner.releasing,
            suspect=n.node_id in ctl.suspect_nodes,
        )
        for n in sorted(ctl.nodes.values(), key=lambda n: (not n.is_head, n.node_id))
    )
    camera_reports = tuple(
        CameraReport(
            camera_id=cid,
            phase=rec.phase,
            node_id=rec.node_id if rec.active else None,
            cost=ctl.cost.cost(cid),
            reserved_cpus=rec.reserved if rec.active else None,
            restarts=rec.restarts,
            state=rec.status.state.value if rec.active and rec.status is not None else None,
            reason=rec.reason,
            retry_in_s=max(0.0, rec.retry_at - now) if rec.retry_at is not None else None,
        )
        for cid, rec in sorted(ctl.cameras.items())
    )
    return SchedulerReport(
        nodes=nodes,
        cameras=camera_reports,
        unplaced=tuple(rec.unplaced for _, rec in sorted(ctl.cameras.items()) if rec.unplaced is not None),
        requested_bundles=planner.requested,
        recent_moves=tuple(planner.history),
        moves_last_minute=planner.moves_last_minute(now),
        ticks=ctl.ticks,
        last_error=ctl.last_error,
    )
