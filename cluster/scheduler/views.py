"""Read-only views, functions of the state: CameraView and ClusterStatus for the
CameraControl contract, SchedulerReport for operators. Callers hold the lock.

An unresponsive camera: a RUNNING camera whose actor missed its status polls
for longer than `unresponsive_after_s` is shown with `CameraState.UNRESPONSIVE`
(its last status, with state and reason replaced), is not counted live, and
shows its real state again as soon as its actor answers. It is left running:
only `heartbeat_timeout_s` of silence replaces it (observation.py).
"""

from __future__ import annotations

import dataclasses

from ..control import CameraView, ClusterStatus
from ..domain import CameraState, CameraStatus
from .capacity import failed_permanently, measured_cores, node_kind, node_use, usable
from .cost import CostModel
from .records import CameraRecord
from .report import CameraPhase, CameraReport, NodeReport, SchedulerReport
from .settings import SchedulerSettings
from .state import SchedulerState


def unresponsive_reason(rec: CameraRecord, phase: CameraPhase, settings: SchedulerSettings, now: float) -> str | None:
    """Why the camera counts as unresponsive now, or None if it does not."""
    silent_for = rec.silent_for(now) if phase is CameraPhase.RUNNING else None
    if silent_for is None or silent_for <= settings.unresponsive_after_s:
        return None
    return f"its actor has not answered for {silent_for:.0f} s"


RELEASED_NOTE = " (its CPU reservation is released until the camera is changed)"


def observed_status(
    rec: CameraRecord, phase: CameraPhase, settings: SchedulerSettings, now: float
) -> CameraStatus | None:
    """The camera's newest status as it should be shown now (None without an actor)."""
    if phase not in (CameraPhase.STARTING, CameraPhase.RUNNING) or rec.status is None:
        return None
    why = unresponsive_reason(rec, phase, settings, now)
    if why is not None:
        return dataclasses.replace(rec.status, state=CameraState.UNRESPONSIVE, reason=why)
    if failed_permanently(rec):
        return dataclasses.replace(rec.status, reason=f"{rec.status.reason}{RELEASED_NOTE}")
    return rec.status


def camera_view(state: SchedulerState, camera_id: str, settings: SchedulerSettings, now: float) -> CameraView:
    rec = state.cameras.require(camera_id)
    phase = state.cameras.phase_of(camera_id)
    if not state.cameras.is_active(camera_id):
        return CameraView(config=rec.config, status=None, node_id=None)
    return CameraView(config=rec.config, status=observed_status(rec, phase, settings, now), node_id=rec.node_id)


def camera_views(state: SchedulerState, settings: SchedulerSettings, now: float) -> list[CameraView]:
    return [camera_view(state, cid, settings, now) for cid in state.cameras.ids()]


def node_reports(state: SchedulerState, settings: SchedulerSettings, cost: CostModel) -> tuple[NodeReport, ...]:
    """Every known node, head first: its capacity, reserved and measured CPU and cameras
    (the one place a node's report is derived from what Ray said of it)."""
    use = node_use(state, cost)
    reports = []
    for n in sorted(state.nodes.values(), key=lambda n: (not n.is_head, n.node_id)):
        here = use.get(n.node_id)
        reports.append(
            NodeReport(
                node_id=n.node_id,
                address=n.address,
                alive=n.alive,
                cpus=n.cpus,
                usable=usable(n, settings),
                load=here.reserved if here is not None else 0.0,
                cameras=here.cameras if here is not None else (),
                is_head=n.is_head,
                draining=n.node_id in state.draining,
                releasing=n.node_id in state.releasing,
                suspect=n.node_id in state.suspect_nodes,
                labels=dict(n.labels),
                measured=here.measured if here is not None else 0.0,
                kind=node_kind(n),
                calibration=cost.calibration(node_kind(n)),
            )
        )
    return tuple(reports)


def _is_live(rec: CameraRecord, phase: CameraPhase, settings: SchedulerSettings, now: float) -> bool:
    status = observed_status(rec, phase, settings, now)
    return status is not None and status.state is CameraState.LIVE


def cluster_status(state: SchedulerState, settings: SchedulerSettings, cost: CostModel, now: float) -> ClusterStatus:
    entries = state.cameras.entries()
    return ClusterStatus(
        nodes=tuple(node.as_node_view() for node in node_reports(state, settings, cost)),
        cameras_configured=len(entries),
        cameras_live=sum(1 for phase, rec in entries if _is_live(rec, phase, settings, now)),
        unplaced=tuple(rec.camera_id for _, rec in entries if rec.unplaced is not None),
    )


def build_report(
    state: SchedulerState,
    settings: SchedulerSettings,
    cost: CostModel,
    now: float,
    *,
    ticks: int,
    last_error: str | None,
) -> SchedulerReport:
    cameras = []
    for phase, rec in state.cameras.entries():
        active = phase in (CameraPhase.STARTING, CameraPhase.RUNNING)
        status = observed_status(rec, phase, settings, now)
        cameras.append(
            CameraReport(
                camera_id=rec.camera_id,
                phase=phase,
                node_id=rec.node_id if active else None,
                cost=cost.cost(rec.camera_id),
                reserved_cpus=rec.reserved if active else None,
                restarts=rec.restarts,
                state=status.state.value if status is not None else None,
                reason=unresponsive_reason(rec, phase, settings, now) or rec.reason,
                retry_in_s=max(0.0, rec.retry_at - now) if rec.retry_at is not None else None,
                measured=measured_cores(rec) if active and rec.status is not None else None,
                cost_basis=cost.basis(rec.camera_id).value,
            )
        )
    return SchedulerReport(
        nodes=node_reports(state, settings, cost),
        cameras=tuple(cameras),
        unplaced=tuple(rec.unplaced for rec in state.cameras.records() if rec.unplaced is not None),
        requested_bundles=state.requested,
        recent_moves=tuple(state.moves.history),
        moves_last_minute=state.moves.voluntary_in_window(now),
        ticks=ticks,
        last_error=last_error,
    )
