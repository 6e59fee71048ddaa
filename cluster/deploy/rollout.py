"""The camera-set rollout of `matthan deploy`: make the scheduler's desired camera set
equal to the config's, through `CameraControl`, so that a second run changes nothing
and a changed config rolls forward.

Guarantees (tested in tests/deploy/test_rollout.py):

- `plan_rollout` is pure: every desired camera is exactly one of *add* (not running),
  *update* (running with another config) or *unchanged* (running with an equal config);
  every running camera missing from the config is *remove* when pruning, else *kept*.
  Each list is sorted by camera id, so a plan prints the same way twice.
- `apply_rollout` removes first (frees capacity for what is added), then updates, then
  adds, at most `concurrency` admin calls at once (each holds a thread of the
  scheduler actor while it waits for the step that applies it). One camera's failure
  never stops the others: it is reported and the rollout goes on.
- It converges under a concurrent operator: an add that finds the camera exists
  becomes an update, an update that finds it gone becomes an add, a remove that finds
  it gone is done. Only the camera's own admin call touches it: an update restarts
  only that camera (an analysis-only change not even that), so a rollout never stops
  more than the cameras it changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from ..config import CameraConfig
from ..control import CameraControl, CameraExists, CameraNotFound, ControlError

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8


class Step(str, Enum):
    ADD = "add"
    UPDATE = "update"
    REMOVE = "remove"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class RolloutPlan:
    """What a rollout does to reach the desired set (see the module docstring)."""

    add: tuple[CameraConfig, ...]
    update: tuple[CameraConfig, ...]
    remove: tuple[str, ...]
    unchanged: tuple[str, ...]
    kept: tuple[str, ...]  # running, not in the config, left alone (no pruning)

    @property
    def changes(self) -> int:
        return len(self.add) + len(self.update) + len(self.remove)

    def describe(self) -> list[str]:
        """One line per change, then a summary line."""
        lines = [f"add {c.id}" for c in self.add]
        lines += [f"update {c.id}" for c in self.update]
        lines += [f"remove {camera_id}" for camera_id in self.remove]
        lines += [f"keep {camera_id} (not in the config; --keep-unlisted)" for camera_id in self.kept]
        lines.append(
            f"{len(self.add)} to add, {len(self.update)} to update, {len(self.remove)} to remove, "
            f"{len(self.unchanged)} unchanged"
        )
        return lines


@dataclass(frozen=True)
class RolloutFailure:
    camera_id: str
    step: Step
    error: str


@dataclass(frozen=True)
class RolloutResult:
    plan: RolloutPlan
    failures: tuple[RolloutFailure, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def plan_rollout(
    current: Iterable[CameraConfig], desired: Iterable[CameraConfig], *, prune: bool = True
) -> RolloutPlan:
    """The changes that turn the `current` camera set into `desired` (pure)."""
    running = _by_id(current, "running")
    wanted = _by_id(desired, "desired")
    add = tuple(wanted[i] for i in sorted(wanted) if i not in running)
    update = tuple(wanted[i] for i in sorted(wanted) if i in running and running[i] != wanted[i])
    unchanged = tuple(i for i in sorted(wanted) if i in running and running[i] == wanted[i])
    unlisted = tuple(i for i in sorted(running) if i not in wanted)
    return RolloutPlan(
        add=add,
        update=update,
        remove=unlisted if prune else (),
        unchanged=unchanged,
        kept=() if prune else unlisted,
    )


def _by_id(configs: Iterable[CameraConfig], which: str) -> dict[str, CameraConfig]:
    found: dict[str, CameraConfig] = {}
    for config in configs:
        if config.id in found:
            raise ValueError(f"two {which} cameras have the id {config.id!r}")
        found[config.id] = config
    return found


async def current_cameras(control: CameraControl) -> list[CameraConfig]:
    """The scheduler's desired camera set, as configs."""
    return [view.config for view in await control.list_cameras()]


async def apply_rollout(
    control: CameraControl, plan: RolloutPlan, *, concurrency: int = DEFAULT_CONCURRENCY
) -> RolloutResult:
    """Carry out `plan` (see the module docstring for order and convergence)."""
    if concurrency < 1:
        raise ValueError(f"rollout concurrency must be at least 1, got {concurrency!r}")
    gate = asyncio.Semaphore(concurrency)
    failures: list[RolloutFailure] = []

    async def guarded(step: Step, camera_id: str, call) -> None:
        async with gate:
            try:
                await call()
                logger.info("%s %s: done", step, camera_id)
            except ControlError as exc:
                logger.warning("%s %s failed: %s", step, camera_id, exc)
                failures.append(RolloutFailure(camera_id, step, str(exc)))

    await asyncio.gather(*(guarded(Step.REMOVE, i, _remover(control, i)) for i in plan.remove))
    await asyncio.gather(*(guarded(Step.UPDATE, c.id, _updater(control, c)) for c in plan.update))
    await asyncio.gather(*(guarded(Step.ADD, c.id, _adder(control, c)) for c in plan.add))
    return RolloutResult(plan, tuple(sorted(failures, key=lambda f: (f.camera_id, f.step.value))))


def _remover(control: CameraControl, camera_id: str):
    async def remove() -> None:
        try:
            await control.remove_camera(camera_id)
        except CameraNotFound:
            logger.info("remove %s: already gone", camera_id)

    return remove


def _updater(control: CameraControl, config: CameraConfig):
    async def update() -> None:
        try:
            await control.update_camera(config)
        except CameraNotFound:
            logger.info("update %s: it was removed meanwhile; adding it", config.id)
            await control.add_camera(config)

    return update


def _adder(control: CameraControl, config: CameraConfig):
    async def add() -> None:
        try:
            await control.add_camera(config)
        except CameraExists:
            logger.info("add %s: it was added meanwhile; updating it", config.id)
            await control.update_camera(config)

    return add
