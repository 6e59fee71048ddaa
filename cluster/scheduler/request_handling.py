"""Applying admin requests inside a control-loop step.

Every request is validated against the current records and nodes before anything
changes; a rejected request raises a ControlError that names what is wrong and
leaves the desired set, the persisted state and the cluster as they were. An
accepted change is persisted before it is acted on (and rolled back if it cannot
be persisted), so an acknowledged camera survives a scheduler restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..config import CameraConfig
from ..control import CameraExists, ControlError, DrainResult, NodeNotFound, PlacementRejected
from .planning import TickActions
from .records import forgive, new_record
from .report import CameraPhase
from .requests import (
    AddCamera,
    DrainNode,
    RemoveCamera,
    ResumeCameras,
    SeedCameras,
    StopAllCameras,
    Submitted,
    UndrainNode,
    UpdateCamera,
)
from .views import camera_view

if TYPE_CHECKING:
    from .controller import Controller

logger = logging.getLogger(__name__)


class RequestHandler:
    def __init__(self, controller: "Controller") -> None:
        self.ctl = controller

    def apply(self, items: list[Submitted], now: float, actions: TickActions) -> None:
        for item in items:
            try:
                self._dispatch(item, now, actions)
            except ControlError as exc:
                logger.info("rejected %s: %s", type(item.request).__name__, exc)
                item.future.set_exception(exc)
            except Exception as exc:  # noqa: BLE001 - the caller hears about it, the loop goes on
                logger.exception("could not apply %s", type(item.request).__name__)
                item.future.set_exception(
                    ControlError(f"the scheduler could not apply {type(item.request).__name__}: {exc!r}")
                )

    def _dispatch(self, item: Submitted, now: float, actions: TickActions) -> None:
        req = item.request
        if isinstance(req, AddCamera):
            self._add(item, req.config, actions)
        elif isinstance(req, UpdateCamera):
            self._update(item, req.config, now, actions)
        elif isinstance(req, RemoveCamera):
            self._remove(item, req.camera_id, now, actions)
        elif isinstance(req, DrainNode):
            self._drain(item, req.node_id, actions)
        elif isinstance(req, UndrainNode):
            self._undrain(item, req.node_id, actions)
        elif isinstance(req, SeedCameras):
            self._seed(item, req.configs, actions)
        elif isinstance(req, StopAllCameras):
            self._stop_all(item, now, actions)
        elif isinstance(req, ResumeCameras):
            self.ctl.paused = False
            logger.info("cameras resumed")
            actions.answer(item, lambda: None)
        else:
            raise ControlError(f"unknown request {req!r}")

    # ---- cameras -----------------------------------------------------------------------

    def _add(self, item: Submitted, config: CameraConfig, actions: TickActions) -> None:
        ctl = self.ctl
        if config.id in ctl.cameras:
            raise CameraExists(config.id)
        cost = ctl.cost.update_config(config)
        try:
            if config.enabled:
                self._check_fits(config.id, cost)
            rec = new_record(config, ctl.settings, ctl.rng)
            ctl.cameras[config.id] = rec
            self._persist(undo=lambda: ctl.cameras.pop(config.id, None))
        except BaseException:
            ctl.cost.forget(config.id)
            raise
        logger.info("camera %s added (estimated %.3f cores)", config.id, cost)
        actions.answer(item, lambda: camera_view(rec))

    def _update(self, item: Submitted, config: CameraConfig, now: float, actions: TickActions) -> None:
        ctl = self.ctl
        rec = ctl.require(config.id)
        old = rec.config
        cost = ctl.cost.update_config(config)
        try:
            if config.enabled:
                self._check_fits(config.id, cost)
            rec.config = config

            def undo() -> None:
                rec.config = old

            self._persist(undo=undo)
        except BaseException:
            ctl.cost.update_config(old)
            raise
        if not config.enabled:
            if rec.actor is not None:
                actions.stop(config.id, rec.actor, "disabled")
                rec.stopped_at = now
            rec.forget_actor()
            rec.phase, rec.node_id, rec.lost_from, rec.retry_at = CameraPhase.DISABLED, None, None, None
            rec.reason = "disabled"
        elif rec.phase is CameraPhase.DISABLED:
            rec.phase, rec.reason = CameraPhase.PENDING, "enabled; waiting for a node"
        elif rec.phase in (CameraPhase.FAILED, CameraPhase.BACKING_OFF):
            forgive(rec)  # the operator changed something: try again now
            rec.phase, rec.retry_at, rec.reason = CameraPhase.PENDING, None, "updated; restarting now"
        elif rec.actor is not None and config != old:
            actions.push(rec.actor, config)
        logger.info("camera %s updated (estimated %.3f cores)", config.id, cost)
        actions.answer(item, lambda: camera_view(rec))

    def _remove(self, item: Submitted, camera_id: str, now: float, actions: TickActions) -> None:
        ctl = self.ctl
        rec = ctl.require(camera_id)
        del ctl.cameras[camera_id]

        def undo() -> None:
            ctl.cameras[camera_id] = rec

        self._persist(undo=undo)
        ctl.cost.forget(camera_id)
        if rec.actor is not None:
            actions.stop(camera_id, rec.actor, "removed")
        logger.info("camera %s removed", camera_id)
        actions.answer(item, lambda: None)

    def _seed(self, item: Submitted, configs: tuple[CameraConfig, ...], actions: TickActions) -> None:
        ctl = self.ctl
        if ctl.persisted or ctl.cameras:
            actions.answer(item, lambda: False)
            return
        for config in configs:
            ctl.cameras[config.id] = new_record(config, ctl.settings, ctl.rng)
            ctl.cost.update_config(config)

        def undo() -> None:
            for config in configs:
                ctl.cameras.pop(config.id, None)
                ctl.cost.forget(config.id)

        self._persist(undo=undo)
        logger.info("seeded the desired set with %d camera(s) from the config file", len(configs))
        actions.answer(item, lambda: True)

    def _stop_all(self, item: Submitted, now: float, actions: TickActions) -> None:
        ctl = self.ctl
        ctl.paused = True
        stopped = 0
        for cid, rec in ctl.cameras.items():
            if rec.actor is not None:
                actions.stop(cid, rec.actor, "stopping all cameras")
                rec.stopped_at = now
                stopped += 1
            rec.forget_actor()
            if rec.phase is not CameraPhase.DISABLED:
                rec.phase, rec.node_id, rec.reason = CameraPhase.PENDING, None, "stopped: the scheduler is paused"
        ctl.dirty = True
        logger.info("stopping all %d camera actor(s); no camera starts until resumed", stopped)
        actions.answer(item, lambda: stopped)

    # ---- nodes -------------------------------------------------------------------------

    def _drain(self, item: Submitted, node_id: str, actions: TickActions) -> None:
        ctl = self.ctl
        node = ctl.nodes.get(node_id)
        if node is None or not node.alive:
            alive = ", ".join(sorted(n for n, info in ctl.nodes.items() if info.alive)) or "none"
            raise NodeNotFound(node_id, f"alive nodes: {alive}")
        planner = ctl.planner
        if node_id not in ctl.draining:
            others = [n for n, info in ctl.nodes.items()
                      if info.alive and n != node_id and planner.may_host(n) and n not in ctl.draining]
            if planner.may_host(node_id) and not others:
                raise PlacementRejected(
                    f"cannot drain node {node_id}: it is the last node that can run cameras "
                    "(join another node with `ray start --address ...` first)"
                )
            ctl.draining.add(node_id)
            planner.releasing.pop(node_id, None)
            self._persist(undo=lambda: ctl.draining.discard(node_id))
            logger.info("draining node %s", node_id)

        def result() -> DrainResult:
            moved = tuple(m.camera_id for m in planner.tick_moves if m.from_node == node_id)
            on_node = tuple(sorted(cid for cid, rec in ctl.cameras.items() if rec.active and rec.node_id == node_id))
            return DrainResult(node_id=node_id, moved_camera_ids=moved, stranded_camera_ids=on_node)

        actions.answer(item, result)

    def _undrain(self, item: Submitted, node_id: str, actions: TickActions) -> None:
        ctl = self.ctl
        if node_id not in ctl.draining and node_id not in ctl.nodes:
            raise NodeNotFound(node_id)
        if node_id in ctl.draining:
            ctl.draining.discard(node_id)
            self._persist(undo=lambda: ctl.draining.add(node_id))
            logger.info("node %s takes cameras again", node_id)
        actions.answer(item, lambda: None)

    # ---- helpers -----------------------------------------------------------------------

    def _check_fits(self, camera_id: str, cost: float) -> None:
        """Reject a camera no node could ever run (clear error, nothing changed)."""
        ctl, s = self.ctl, self.ctl.settings
        sizes = [info.cpus for n, info in ctl.nodes.items() if info.alive and ctl.planner.may_host(n)]
        if s.max_node_cpus is not None:
            sizes.append(s.max_node_cpus)
        if not sizes:
            return  # no node known yet: it waits, reported as unplaced
        largest = max(sizes) * (1.0 - s.headroom)
        if cost > largest + 1e-9:
            raise PlacementRejected(
                f"camera {camera_id!r} needs an estimated {cost:.2f} CPU cores, more than any node can give "
                f"a camera ({largest:.2f} usable of {max(sizes):g} CPUs with {s.headroom:.0%} headroom); "
                "lower its analysis fps, resolution or detector settings, or add a bigger node"
            )

    def _persist(self, undo: Callable[[], object]) -> None:
        try:
            self.ctl.save()
        except Exception as exc:
            undo()
            where = self.ctl.store.state_dir if self.ctl.store is not None else "memory"
            raise ControlError(f"could not persist the desired camera set in {where}: {exc}") from exc
