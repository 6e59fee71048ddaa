"""Folding what a step observed into the state: node lists, status polls, deadlines,
due retries, the actors a previous scheduler left running, and the outcome of starts.

Plain functions over `SchedulerState`; decisions to stop or reconfigure actors
are appended to the step's `StepActions`. Each is idempotent: the same
observation applied again changes nothing more.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping

from ..config import CameraConfig
from ..domain import CameraState
from .actions import StartActor, StepActions, StopActor
from .boundary import Gone, Heartbeat, NameTaken, NodeInfo, Probe
from .capacity import RAY_CPUS_PER_CAMERA, demanded_cores, may_host, node_kind
from .cost import CostModel
from .prior import SourceInfo
from .records import CameraRecord, forgive, initial_phase, new_record, record_failure, retract_failure
from .report import CameraPhase
from .settings import SchedulerSettings
from .state import SchedulerState

logger = logging.getLogger(__name__)

# This many actors of one node found dead in one step make the node suspect.
SUSPECT_NODE_DEATHS = 2
# A camera whose actor we stopped less than this long ago may still hold its name.
NAME_RELEASE_GRACE_S = 15.0


# ---- nodes ---------------------------------------------------------------------------------


def apply_nodes(state: SchedulerState, nodes: list[NodeInfo], settings: SchedulerSettings, now: float) -> None:
    """Take the newest node list: cameras of nodes gone are re-placed (not counted as
    crashes), suspicion and drains of gone nodes end, released nodes are forgotten."""
    before = state.nodes
    state.nodes = {n.node_id: n for n in nodes}
    for node in nodes:
        old = before.get(node.node_id)
        if node.alive and (old is None or not old.alive):
            logger.info(
                "node %s joined (%s, %g CPU%s)", node.node_id, node.address, node.cpus, ", head" if node.is_head else ""
            )
    alive = state.alive_nodes()
    for node_id in sorted(set(before) - alive):
        if before[node_id].alive:
            logger.warning("node %s left or died", node_id)
            _retract_deaths_on(state, node_id, settings, now)
    lost: dict[str, list[str]] = {}
    for rec in state.cameras.active():
        if rec.node_id is not None and rec.node_id not in alive:
            lost.setdefault(rec.node_id, []).append(rec.camera_id)
            rec.forget_actor()
            rec.lost_from = rec.node_id
            rec.reason = f"its node {rec.node_id} is gone; re-placing"
            state.cameras.move(rec.camera_id, CameraPhase.PENDING)
            state.dirty = True
    for node_id, cids in lost.items():
        logger.warning("node %s is gone: re-placing its %d camera(s): %s", node_id, len(cids), ", ".join(cids))
    for node_id, since in list(state.suspect_nodes.items()):
        if node_id not in alive:
            del state.suspect_nodes[node_id]  # Ray agrees: it is dead
        elif now - since > settings.suspect_node_s:
            del state.suspect_nodes[node_id]
            logger.info("node %s is still alive after %.0f s: it takes cameras again", node_id, settings.suspect_node_s)
    stale = {n for n in state.draining if n not in alive}
    if stale:
        state.draining -= stale
        state.dirty = True
        logger.info("forgetting drain of node(s) no longer alive: %s", ", ".join(sorted(stale)))
    for node_id in [n for n in state.releasing if n not in alive]:
        del state.releasing[node_id]
        logger.info("node %s was released", node_id)


# ---- status polls --------------------------------------------------------------------------


def apply_probes(
    state: SchedulerState,
    probes: Mapping[str, Probe],
    settings: SchedulerSettings,
    cost: CostModel,
    now: float,
    actions: StepActions,
) -> None:
    alive_nodes = state.alive_nodes()
    gone_by_node: dict[str, dict[str, str]] = {}  # node -> camera -> why its actor is gone
    for cid, probe in probes.items():
        rec = state.cameras.get(cid)
        if rec is None or rec.actor is None:
            continue  # removed meanwhile
        if isinstance(probe, Heartbeat):
            _heartbeat(state, rec, probe, settings, cost, now, actions)
        elif isinstance(probe, Gone):
            if rec.node_id is None or rec.node_id in alive_nodes:
                gone_by_node.setdefault(rec.node_id or "", {})[cid] = probe.reason
            # else its node died: apply_nodes re-places it, not a crash
        elif state.cameras.phase_of(cid) is CameraPhase.RUNNING:
            _silent(rec, settings, now)
    for node_id, gone in gone_by_node.items():
        # A dead node's actors fail their calls a second or more before Ray
        # declares the node dead. Several deaths on one node at once are that,
        # not several crashes: re-place them without counting, and keep new
        # cameras off the node until Ray decides (or the suspicion expires).
        if node_id and (len(gone) >= SUSPECT_NODE_DEATHS or node_id in state.suspect_nodes):
            if node_id not in state.suspect_nodes:
                state.suspect_nodes[node_id] = now
                logger.warning(
                    "node %s: %d camera actors died at once; treating the node as dead for now", node_id, len(gone)
                )
            for cid in gone:
                rec = state.cameras.require(cid)
                rec.forget_actor()
                rec.lost_from = node_id
                rec.reason = f"its node {node_id} looks dead; re-placing"
                state.cameras.move(cid, CameraPhase.PENDING)
            _retract_deaths_on(state, node_id, settings, now)
            state.dirty = True
            continue
        for cid, why in gone.items():
            rec = state.cameras.require(cid)
            state.cameras.move(cid, record_failure(rec, f"actor died: {why}", now, settings))
            if node_id:
                rec.died_on = (node_id, now)
            state.dirty = True
            logger.warning("camera %s: %s", cid, rec.reason)


def _retract_deaths_on(state: SchedulerState, node_id: str, settings: SchedulerSettings, now: float) -> None:
    """Un-count the deaths on a node that proved dead (or suspect) within `suspect_node_s`
    of them. A dying node's actors do not all fail in the same poll: the first one
    alone looks like a crash until the rest, or Ray's verdict, follow."""
    for rec in state.cameras.in_phase(CameraPhase.BACKING_OFF, CameraPhase.FAILED):
        if rec.died_on is None:
            continue
        died_node, died_at = rec.died_on
        if died_node != node_id or now - died_at > settings.suspect_node_s:
            continue
        retract_failure(rec)
        rec.lost_from = node_id
        rec.reason = f"its node {node_id} died; re-placing"
        state.cameras.move(rec.camera_id, CameraPhase.PENDING)
        state.dirty = True
        logger.info("camera %s: its actor's death was its node's (%s): not counted as a crash", rec.camera_id, node_id)


def _silent(rec: CameraRecord, settings: SchedulerSettings, now: float) -> None:
    rec.missed_polls += 1
    silent_for = rec.silent_for(now)
    if silent_for is not None and silent_for > settings.unresponsive_after_s and not rec.reported_unresponsive:
        rec.reported_unresponsive = True
        logger.warning(
            "camera %s: its actor has not answered for %.0f s; reported unresponsive", rec.camera_id, silent_for
        )


def _heartbeat(
    state: SchedulerState,
    rec: CameraRecord,
    probe: Heartbeat,
    settings: SchedulerSettings,
    cost: CostModel,
    now: float,
    actions: StepActions,
) -> None:
    status = probe.status
    if rec.reported_unresponsive:
        logger.info("camera %s: its actor answers again", rec.camera_id)
    rec.status = status
    rec.last_heartbeat = now
    rec.missed_polls = 0
    rec.reported_unresponsive = False
    if status.node_id and status.node_id != rec.node_id:
        rec.node_id = status.node_id
        state.dirty = True
    if rec.reserved is None:  # adopted without a placement hint: it declared what every camera does
        rec.reserved = RAY_CPUS_PER_CAMERA
        state.dirty = True
    if state.cameras.phase_of(rec.camera_id) is CameraPhase.STARTING:
        state.cameras.move(rec.camera_id, CameraPhase.RUNNING)
        rec.healthy_since = now
        rec.reason = f"running on {rec.node_id}"
        logger.info("camera %s: actor up on node %s (%s)", rec.camera_id, rec.node_id, status.state.value)
    elif rec.healthy_since is not None and now - rec.healthy_since >= settings.healthy_reset_s and rec.failures:
        forgive(rec)
    if rec.push_config:
        actions.push(rec.actor, rec.config)
        rec.push_config = False
    if settings.learn_costs and status.source_width > 0:
        source = SourceInfo(status.source_width, status.source_height, status.source_fps)
        if cost.learn_source(rec.config.source.url, source):
            logger.info(
                "camera %s: its source is %dx%d at %g fps; re-estimated at %.3f cores",
                rec.camera_id,
                source.width,
                source.height,
                source.fps,
                cost.cost(rec.camera_id),
            )
    if status.state is not CameraState.LIVE:
        rec.live_since = None
    elif rec.live_since is None:
        rec.live_since = now
    elif settings.learn_costs and now - rec.live_since >= settings.cost_warmup_s:
        node = state.nodes.get(rec.node_id or "")
        cost.observe(rec.camera_id, demanded_cores(rec), now, node_kind(node) if node is not None else None)


def refresh_costs(state: SchedulerState, settings: SchedulerSettings, cost: CostModel) -> None:
    """What shapes cost and the node kinds' calibration, from this step's measurements
    (the prior is scaled for the kinds of the nodes that may run cameras)."""
    if settings.learn_costs:
        cost.refresh(node_kind(n) for n in state.nodes.values() if n.alive and may_host(n, settings))


def learn_sources(
    state: SchedulerState, found: Mapping[str, SourceInfo | None], settings: SchedulerSettings, cost: CostModel
) -> None:
    """Take what probes found out about sources (by URL) before their cameras run."""
    if not settings.learn_costs:
        return
    for url, source in found.items():
        if source is not None and cost.learn_source(url, source):
            known = sum(1 for rec in state.cameras if rec.config.source.url == url)
            logger.info(
                "probed a file source: %dx%d at %g fps (%d camera(s) of it so far; those added now follow)",
                source.width,
                source.height,
                source.fps,
                known,
            )


# ---- deadlines and retries -----------------------------------------------------------------


def check_deadlines(state: SchedulerState, settings: SchedulerSettings, now: float, actions: StepActions) -> None:
    """Kill and count actors that never came up, or went silent for the heartbeat timeout."""
    for phase, rec in state.cameras.entries():
        if rec.actor is None:
            continue
        if (
            phase is CameraPhase.STARTING
            and rec.started_at is not None
            and now - rec.started_at > settings.start_timeout_s
        ):
            _give_up(
                state,
                rec,
                "did not come up",
                f"actor did not answer within {settings.start_timeout_s:.0f} s of its start",
                settings,
                now,
                actions,
            )
        elif (
            phase is CameraPhase.RUNNING
            and rec.last_heartbeat is not None
            and now - rec.last_heartbeat > settings.heartbeat_timeout_s
        ):
            _give_up(
                state,
                rec,
                "heartbeat lost",
                f"no heartbeat for {settings.heartbeat_timeout_s:.0f} s",
                settings,
                now,
                actions,
            )


def _give_up(
    state: SchedulerState,
    rec: CameraRecord,
    stop_reason: str,
    failure: str,
    settings: SchedulerSettings,
    now: float,
    actions: StepActions,
) -> None:
    actions.stop(rec.camera_id, rec.actor, stop_reason)
    rec.stopped_at = now
    state.cameras.move(rec.camera_id, record_failure(rec, failure, now, settings))
    state.dirty = True
    logger.warning("camera %s: %s", rec.camera_id, rec.reason)


def due_retries(state: SchedulerState, now: float) -> None:
    for rec in state.cameras.in_phase(CameraPhase.BACKING_OFF, CameraPhase.FAILED):
        if rec.retry_at is not None and now >= rec.retry_at:
            rec.retry_at = None
            rec.reason = "restarting after backoff"
            state.cameras.move(rec.camera_id, CameraPhase.PENDING)


# ---- adoption after a scheduler restart ----------------------------------------------------


def needs_recovery(state: SchedulerState, found: Mapping[str, object]) -> bool:
    """No desired set (lost disk, new node) but cameras run: rebuild it from their
    configs rather than stopping every camera."""
    return not state.persisted and bool(found) and len(state.cameras) == 0


def adopt(
    state: SchedulerState,
    found: Mapping[str, object],
    recovered: Mapping[str, CameraConfig],
    settings: SchedulerSettings,
    cost: CostModel,
    rng: random.Random,
    now: float,
    actions: StepActions,
) -> None:
    """Take over the camera actors a previous scheduler left running (names are unique,
    so this is what prevents duplicates after a restart). `recovered` are the configs
    read from running actors when `needs_recovery`."""
    if recovered and needs_recovery(state, found):
        for _, config in sorted(recovered.items()):
            state.cameras.add(new_record(config, settings, rng), initial_phase(config))
            cost.update_config(config)
        state.persisted = True
        state.dirty = True
        logger.warning("no persisted state; recovered %d camera(s) from running actors", len(state.cameras))
    adopted = 0
    for cid, actor in sorted(found.items()):
        rec = state.cameras.get(cid)
        if rec is None or not rec.config.enabled:
            actions.stop(cid, actor, "not in the desired set" if rec is None else "disabled")
            continue
        hint = state.placement_hints.get(cid)
        rec.actor = actor
        rec.node_id = hint.node_id if hint else None
        rec.reserved = hint.cpus if hint else None
        rec.started_at = now
        rec.push_config = True
        rec.reason = "adopted after a scheduler restart"
        state.cameras.move(cid, CameraPhase.STARTING)
        adopted += 1
    state.adopted = True
    state.placement_hints = {}
    if adopted:
        logger.info("adopted %d running camera actor(s)", adopted)


# ---- outcome of a start --------------------------------------------------------------------


def record_start(
    state: SchedulerState,
    start: StartActor,
    outcome: object,
    existing: object | None,
    settings: SchedulerSettings,
    now: float,
) -> StopActor | None:
    """Record what `boundary.start_camera` gave for `start`: an actor handle, NameTaken
    (then `existing` is the actor registered under the name, if any), or another
    exception. Returns a stop for an actor nobody wants any more (the camera was
    removed or re-placed meanwhile), which must not leak."""
    cid = start.camera_id
    rec = state.cameras.get(cid)
    if rec is None or state.cameras.phase_of(cid) is not CameraPhase.STARTING or rec.node_id != start.node_id:
        if outcome is not None and not isinstance(outcome, BaseException):
            return StopActor(cid, outcome, "removed or re-placed while it was starting")
        return None
    if isinstance(outcome, NameTaken):
        recently_stopped = rec.stopped_at is not None and now - rec.stopped_at < NAME_RELEASE_GRACE_S
        if existing is not None and not recently_stopped:
            rec.actor, rec.node_id, rec.reserved, rec.started_at = existing, None, None, now
            rec.push_config = True
            rec.reason = "adopted an actor already running under its name"
            logger.warning("camera %s: an actor already runs under its name; adopting it", cid)
        else:
            rec.node_id = None
            rec.reason = "waiting for its previous actor to release the name"
            state.cameras.move(cid, CameraPhase.PENDING)
        return None
    if isinstance(outcome, BaseException) or outcome is None:
        phase = record_failure(rec, f"could not start its actor on node {start.node_id}: {outcome}", now, settings)
        state.cameras.move(cid, phase)
        state.dirty = True
        logger.warning("camera %s: %s", cid, rec.reason)
        return None
    rec.actor = outcome
    rec.reserved = start.cpus
    rec.started_at = now
    state.dirty = True
    return None
