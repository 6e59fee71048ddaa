"""The rollout plan (pure) and its application through a CameraControl.

The fake control is an in-memory desired set (a boundary we own); the real one is
tested in test_deploy_ray.py."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
from cluster.control import CameraExists, CameraNotFound, CameraView, ControlError
from cluster.deploy.rollout import Step, apply_rollout, plan_rollout


def camera(camera_id: str, fps: float = 1.0) -> CameraConfig:
    return CameraConfig(id=camera_id, source=SourceConfig(url="rtsp://10.0.0.1/s"), analysis=AnalysisConfig(fps=fps))


class DesiredSet:
    """A CameraControl's admin half over a dict; `fail` makes one camera's calls fail."""

    def __init__(self, configs=(), fail: str | None = None):
        self.configs = {c.id: c for c in configs}
        self.fail = fail
        self.calls: list[tuple[str, str]] = []

    def _check(self, camera_id: str) -> None:
        if camera_id == self.fail:
            raise ControlError(f"camera {camera_id} cannot be placed")

    async def list_cameras(self):
        return [CameraView(config=c, status=None, node_id=None) for c in self.configs.values()]

    async def add_camera(self, config):
        self.calls.append(("add", config.id))
        self._check(config.id)
        if config.id in self.configs:
            raise CameraExists(config.id)
        self.configs[config.id] = config

    async def update_camera(self, config):
        self.calls.append(("update", config.id))
        self._check(config.id)
        if config.id not in self.configs:
            raise CameraNotFound(config.id)
        self.configs[config.id] = config

    async def remove_camera(self, camera_id):
        self.calls.append(("remove", camera_id))
        self._check(camera_id)
        if camera_id not in self.configs:
            raise CameraNotFound(camera_id)
        del self.configs[camera_id]


def test_plan_sorts_cameras_into_add_update_remove_and_unchanged():
    plan = plan_rollout([camera("a"), camera("b"), camera("c")], [camera("b", fps=2.0), camera("a"), camera("d")])
    assert [c.id for c in plan.add] == ["d"], "a camera only in the config is added"
    assert [c.id for c in plan.update] == ["b"], "a camera with another config is updated"
    assert plan.remove == ("c",), "a running camera the config does not list is removed"
    assert plan.unchanged == ("a",), "an equal camera is left alone"
    assert plan.changes == 3, "three changes"


def test_plan_without_pruning_keeps_unlisted_cameras():
    plan = plan_rollout([camera("a"), camera("z")], [camera("a")], prune=False)
    assert plan.remove == () and plan.kept == ("z",), f"nothing is removed without pruning: {plan}"


def test_plan_rejects_two_desired_cameras_with_one_id():
    with pytest.raises(ValueError, match="two desired cameras have the id 'a'"):
        plan_rollout([], [camera("a"), camera("a", fps=2.0)])


ids = st.lists(st.sampled_from("abcdefgh"), unique=True, max_size=8)


@given(running=ids, wanted=ids, fps=st.sampled_from([1.0, 2.0]))
def test_applying_a_plan_reaches_the_desired_set_and_a_second_plan_is_empty(running, wanted, fps):
    control = DesiredSet([camera(i) for i in running])
    desired = [camera(i, fps=fps) for i in wanted]
    plan = plan_rollout([v.config for v in asyncio.run(control.list_cameras())], desired)
    result = asyncio.run(apply_rollout(control, plan, concurrency=3))
    assert result.ok, f"no failures: {result.failures}"
    assert control.configs == {c.id: c for c in desired}, "the desired set is the config's"
    again = plan_rollout(list(control.configs.values()), desired)
    assert again.changes == 0, f"a second plan changes nothing: {again}"


def test_removes_run_before_updates_before_adds():
    control = DesiredSet([camera("old"), camera("b")])
    plan = plan_rollout(list(control.configs.values()), [camera("b", fps=2.0), camera("new")])
    asyncio.run(apply_rollout(control, plan))
    assert [step for step, _ in control.calls] == ["remove", "update", "add"], f"order: {control.calls}"


def test_one_failing_camera_is_reported_and_the_others_still_roll_out():
    control = DesiredSet([], fail="bad")
    plan = plan_rollout([], [camera("bad"), camera("good")])
    result = asyncio.run(apply_rollout(control, plan))
    assert not result.ok, "the rollout reports the failure"
    assert [(f.camera_id, f.step) for f in result.failures] == [("bad", Step.ADD)], f"{result.failures}"
    assert "cannot be placed" in result.failures[0].error, "with the scheduler's reason"
    assert "good" in control.configs, "the other camera was still added"


def test_a_concurrent_operator_does_not_break_convergence():
    control = DesiredSet([camera("x")])
    plan = plan_rollout([], [camera("x", fps=2.0)])  # planned from a stale read: "x" looked absent
    asyncio.run(apply_rollout(control, plan))
    assert control.configs["x"].analysis.fps == 2.0, "an add that finds the camera updates it"
    stale = plan_rollout([camera("gone")], [])
    result = asyncio.run(apply_rollout(control, stale))
    assert result.ok, "removing a camera that is already gone is done, not a failure"


def test_concurrency_below_one_is_an_error():
    with pytest.raises(ValueError, match="at least 1"):
        asyncio.run(apply_rollout(DesiredSet(), plan_rollout([], []), concurrency=0))
