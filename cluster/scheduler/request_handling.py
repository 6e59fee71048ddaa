"""Applying admin requests to the state inside a control-loop step.

Every request is validated against the current records and nodes before anything
changes; a rejected request raises a ControlError that names what is wrong and
leaves the desired set, the persisted state and the cluster as they were. An
accepted change is persisted before it is acted on (and rolled back if it cannot
be persisted), so an acknowledged camera survives a scheduler restart.

`apply_request` returns a `Reply`, resolved by `reply_value` once the step has
acted (a camera's view then shows its actor starting; a drain lists the moves
the step made).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence

from ..config import CameraConfig
from ..control import CameraExists, ControlError, DrainResult, NodeNotFound, PlacementRejected
from .actions import StepActions
from .capacity import hosting_nodes, may_host, node_use, usable
from .cost import CostModel
from .records import forgive, initial_phase, new_record
from .report import CameraPhase
from .requests import (
    AddCamera,
    DrainNode,
    DrainOutcome,
    RemoveCamera,
    Reply,
    Request,
    ResumeCameras,
    SeedCameras,
    StopAllCameras,
    UndrainNode,
    UpdateCamera,
    Value,
    ViewOf,
)
from .settings import SchedulerSettings
from .state import SchedulerState
from .views import camera_view

logger = logging.getLogger(__name__)

# Saves the state now; raises ControlError (naming where) when it cannot.
Persist = Callable[[], None]


def apply_request(
    state: SchedulerState,
    request: Request,
    *,
    settings: SchedulerSettings,
    cost: CostModel,
    rng: random.Random,
    now: float,
    persist: Persist,
    actions: StepActions,
) -> Reply:
    """Apply one request; raises ControlError (nothing changed) when it is rejected."""
    if isinstance(request, AddCamera):
        (outcome,) = add_cameras(state, [request.config], settings=settings, cost=cost, rng=rng, persist=persist)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    if isinstance(request, UpdateCamera):
        return _update(state, request.config, settings, cost, now, persist, actions)
    if isinstance(request, RemoveCamera):
        return _remove(state, request.camera_id, cost, persist, actions)
    if isinstance(request, DrainNode):
        return _drain(state, request.node_id, settings, persist)
    if isinstance(request, UndrainNode):
        return _undrain(state, request.node_id, persist)
    if isinstance(request, SeedCameras):
        return _seed(state, request.configs, settings, cost, rng, persist)
    if isinstance(request, StopAllCameras):
        return _stop_all(state, now, actions)
    if isinstance(request, ResumeCameras):
        state.paused = False
        logger.info("cameras resumed")
        return Value(None)
    raise ControlError(f"unknown request {request!r}")


def reply_value(
    state: SchedulerState, reply: Reply, *, settings: SchedulerSettings, now: float, actions: StepActions
) -> object:
    """The answer to a request, after the step carried out `actions`."""
    if isinstance(reply, ViewOf):
        return camera_view(state, reply.camera_id, settings, now)
    if isinstance(reply, DrainOutcome):
        node_id = reply.node_id
        return DrainResult(
            node_id=node_id,
            moved_camera_ids=tuple(m.camera_id for m in actions.moves if m.from_node == node_id),
            stranded_camera_ids=tuple(rec.camera_id for rec in state.cameras.active() if rec.node_id == node_id),
        )
    return reply.value


# ---- cameras ---------------------------------------------------------------------------------


def add_cameras(
    state: SchedulerState,
    configs: Sequence[CameraConfig],
    *,
    settings: SchedulerSettings,
    cost: CostModel,
    rng: random.Random,
    persist: Persist,
) -> list[Reply | Exception]:
    """AddCamera of each of `configs`, in order (the adds that arrived for one step),
    persisted once for all of them: a save writes the whole desired set, so saving after
    each add would make a burst of N adds (a script adding a district) cost N^2 and stall
    the loop. Each add is checked as if it came alone; a rejected one changes nothing and
    its error is its outcome. If the save fails, every camera of the burst is taken back
    and each request naming one of them gets the error."""
    outcomes: list[Reply | Exception] = []
    staged: list[str] = []
    for config in configs:
        try:
            if _stage_add(state, config, settings, cost, rng):
                staged.append(config.id)
            outcomes.append(ViewOf(config.id))
        except Exception as exc:  # noqa: BLE001 - its own outcome (the controller reports it); the others go on
            outcomes.append(exc)
    if not staged:
        return outcomes
    try:
        persist()
    except ControlError as exc:
        for camera_id in reversed(staged):
            state.cameras.remove(camera_id)
            cost.forget(camera_id)
        taken_back = set(staged)
        return [exc if config.id in taken_back else outcome for config, outcome in zip(configs, outcomes, strict=True)]
    for camera_id in staged:
        logger.info("camera %s added (estimated %.3f cores)", camera_id, cost.cost(camera_id))
    return outcomes


def _stage_add(
    state: SchedulerState, config: CameraConfig, settings: SchedulerSettings, cost: CostModel, rng: random.Random
) -> bool:
    """Add the camera to the desired set, not yet persisted; False if it was there already
    with the same config. Raises ControlError (nothing changed) when it is rejected."""
    existing = state.cameras.get(config.id)
    if existing is not None:
        if existing.config == config:
            # A client retrying an AddCamera whose answer it lost (the scheduler restarted,
            # the deadline passed): the camera it asked for is there, so the retry succeeds.
            logger.info("camera %s added again with the same config: nothing to do", config.id)
            return False
        raise CameraExists(config.id)
    estimate = cost.update_config(config)
    try:
        if config.enabled:
            _check_fits(state, settings, config.id, estimate)
        state.cameras.add(new_record(config, settings, rng), initial_phase(config))
    except BaseException:
        cost.forget(config.id)
        raise
    return True


def _update(
    state: SchedulerState,
    config: CameraConfig,
    settings: SchedulerSettings,
    cost: CostModel,
    now: float,
    persist: Persist,
    actions: StepActions,
) -> Reply:
    rec = state.cameras.require(config.id)
    old = rec.config
    before, checkpoint = cost.cost(config.id), cost.checkpoint(config.id)
    estimate = cost.update_config(config)
    must_move: str | None = None
    try:
        if config.enabled:
            _check_fits(state, settings, config.id, estimate)
            if estimate > before:
                must_move = _check_room(state, settings, cost, config.id, before, estimate)
        rec.config = config

        def undo() -> None:
            rec.config = old

        _persist(persist, undo=undo)
    except BaseException:
        cost.rollback(config.id, checkpoint)
        raise
    phase = state.cameras.phase_of(config.id)
    if not config.enabled:
        if rec.actor is not None:
            actions.stop(config.id, rec.actor, "disabled")
            rec.stopped_at = now
        rec.forget_actor()
        rec.node_id, rec.lost_from, rec.retry_at, rec.reason = None, None, None, "disabled"
        state.cameras.move(config.id, CameraPhase.DISABLED)
    elif phase is CameraPhase.DISABLED:
        rec.reason = "enabled; waiting for a node"
        state.cameras.move(config.id, CameraPhase.PENDING)
    elif phase in (CameraPhase.FAILED, CameraPhase.BACKING_OFF):
        forgive(rec)  # the operator changed something: try again now
        rec.retry_at, rec.reason = None, "updated; restarting now"
        state.cameras.move(config.id, CameraPhase.PENDING)
    elif rec.actor is not None and config != old:
        actions.push(rec.actor, config)
        if must_move is not None:
            rec.must_move = must_move
            logger.info("camera %s: %s", config.id, must_move)
    logger.info("camera %s updated (estimated %.3f cores, %.3f before)", config.id, estimate, before)
    return ViewOf(config.id)


def _remove(state: SchedulerState, camera_id: str, cost: CostModel, persist: Persist, actions: StepActions) -> Reply:
    phase = state.cameras.phase_of(camera_id)
    rec = state.cameras.remove(camera_id)
    _persist(persist, undo=lambda: state.cameras.add(rec, phase))
    cost.forget(camera_id)
    if rec.actor is not None:
        actions.stop(camera_id, rec.actor, "removed")
    logger.info("camera %s removed", camera_id)
    return Value(None)


def _seed(
    state: SchedulerState,
    configs: tuple[CameraConfig, ...],
    settings: SchedulerSettings,
    cost: CostModel,
    rng: random.Random,
    persist: Persist,
) -> Reply:
    if state.persisted or len(state.cameras):
        return Value(False)
    for config in configs:
        state.cameras.add(new_record(config, settings, rng), initial_phase(config))
        cost.update_config(config)

    def undo() -> None:
        for config in configs:
            if config.id in state.cameras:
                state.cameras.remove(config.id)
            cost.forget(config.id)

    _persist(persist, undo=undo)
    logger.info("seeded the desired set with %d camera(s) from the config file", len(configs))
    return Value(True)


def _stop_all(state: SchedulerState, now: float, actions: StepActions) -> Reply:
    state.paused = True
    stopped = 0
    for phase, rec in state.cameras.entries():
        if rec.actor is not None:
            actions.stop(rec.camera_id, rec.actor, "stopping all cameras")
            rec.stopped_at = now
            stopped += 1
        rec.forget_actor()
        if phase is not CameraPhase.DISABLED:
            rec.node_id, rec.reason = None, "stopped: the scheduler is paused"
            state.cameras.move(rec.camera_id, CameraPhase.PENDING)
    state.dirty = True
    logger.info("stopping all %d camera actor(s); no camera starts until resumed", stopped)
    return Value(stopped)


# ---- nodes -----------------------------------------------------------------------------------


def _drain(state: SchedulerState, node_id: str, settings: SchedulerSettings, persist: Persist) -> Reply:
    node = state.nodes.get(node_id)
    if node is None or not node.alive:
        alive = ", ".join(sorted(state.alive_nodes())) or "none"
        raise NodeNotFound(node_id, f"alive nodes: {alive}")
    if node_id not in state.draining:
        others = [n for n in hosting_nodes(state, settings) if n != node_id and n not in state.draining]
        if may_host(node, settings) and not others:
            raise PlacementRejected(
                f"cannot drain node {node_id}: it is the last node that can run cameras "
                "(join another node with `ray start --address ...` first)"
            )
        state.draining.add(node_id)
        state.releasing.pop(node_id, None)
        _persist(persist, undo=lambda: state.draining.discard(node_id))
        logger.info("draining node %s", node_id)
    return DrainOutcome(node_id)


def _undrain(state: SchedulerState, node_id: str, persist: Persist) -> Reply:
    if node_id not in state.draining and node_id not in state.nodes:
        raise NodeNotFound(node_id)
    if node_id in state.draining:
        state.draining.discard(node_id)
        _persist(persist, undo=lambda: state.draining.add(node_id))
        logger.info("node %s takes cameras again", node_id)
    return Value(None)


# ---- helpers ---------------------------------------------------------------------------------


def _check_fits(state: SchedulerState, settings: SchedulerSettings, camera_id: str, estimate: float) -> None:
    """Reject a camera no node could ever run (clear error, nothing changed)."""
    sizes = [state.nodes[n].cpus for n in hosting_nodes(state, settings)]
    if settings.max_node_cpus is not None:
        sizes.append(settings.max_node_cpus)
    if not sizes:
        return  # no node known yet: it waits, reported as unplaced
    largest = max(sizes) * (1.0 - settings.headroom)
    if estimate > largest + 1e-9:
        raise PlacementRejected(
            f"camera {camera_id!r} needs an estimated {estimate:.2f} CPU cores, more than any node can give "
            f"a camera ({largest:.2f} usable of {max(sizes):g} CPUs with {settings.headroom:.0%} headroom); "
            "lower its analysis fps, resolution or detector settings, or add a bigger node"
        )


def _check_room(
    state: SchedulerState, settings: SchedulerSettings, cost: CostModel, camera_id: str, before: float, estimate: float
) -> str | None:
    """A running camera whose update raises its cost: None if it still fits its node,
    else why it must move (another node has room, or the autoscaler may add one).
    Raises PlacementRejected (nothing changed) when it fits nowhere."""
    rec = state.cameras.require(camera_id)
    if not state.cameras.is_active(camera_id) or rec.node_id is None:
        return None  # not running: the plan places it at its new cost, or says why not
    use = node_use(state, cost)  # counts this camera at its new estimate already
    here = state.nodes.get(rec.node_id)
    here_use = use.get(rec.node_id)
    reserved_here = here_use.reserved if here_use is not None else estimate
    usable_here = usable(here, settings) if here is not None and here.alive else 0.0
    if reserved_here <= usable_here + 1e-9 and rec.node_id not in state.draining:
        return None
    free_here = max(0.0, usable_here - (reserved_here - estimate))
    for node_id, node in sorted(state.nodes.items()):
        if node_id == rec.node_id or not node.alive or node_id in state.draining or node_id in state.suspect_nodes:
            continue
        other = use.get(node_id)
        if usable(node, settings) - (other.reserved if other is not None else 0.0) >= estimate - 1e-9:
            return (
                f"its new settings need an estimated {estimate:.3f} cores ({before:.3f} before), more than the "
                f"{free_here:.3f} free on node {rec.node_id}: moving it to a node with room"
            )
    if settings.autoscaling:
        return (
            f"its new settings need an estimated {estimate:.3f} cores ({before:.3f} before) and no node has room: "
            "waiting for the autoscaler"
        )
    measured = here_use.measured if here_use is not None else 0.0
    raise PlacementRejected(
        f"camera {camera_id!r}: its new settings need an estimated {estimate:.3f} CPU cores ({before:.3f} before; "
        f"from {cost.describe(camera_id)}), but node {rec.node_id} has {free_here:.3f} cores free "
        f"({reserved_here - estimate + before:.3f} reserved, {measured:.3f} measured, of {usable_here:.3f} usable) "
        "and no other node has room; it keeps its old settings. Add a node, or lower its analysis fps, "
        "resolution or detector settings"
    )


def _persist(persist: Persist, undo: Callable[[], object]) -> None:
    try:
        persist()
    except ControlError:
        undo()
        raise
