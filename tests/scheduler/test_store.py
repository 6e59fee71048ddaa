"""The scheduler's persisted state (`store.py`): the desired set is the truth, placements a hint."""

from __future__ import annotations

import json

import pytest

from cluster.config import CameraConfig, ConfigError
from cluster.scheduler.cost import LearntCosts
from cluster.scheduler.store import PersistedState, Placement, SchedulerStateStore


def cam(camera_id: str) -> CameraConfig:
    return CameraConfig(id=camera_id, source={"url": f"rtsp://cams.local/{camera_id}"})


def test_round_trip(tmp_path):
    store = SchedulerStateStore(tmp_path)
    state = PersistedState([cam("a"), cam("b")], {"a": Placement("n1", 0.25)}, {"n2"}, {"b": 3})
    store.save(state)
    loaded = store.load()
    assert [c.id for c in loaded.cameras] == ["a", "b"]
    assert loaded.placements == {"a": Placement("n1", 0.25)} and loaded.draining == {"n2"}
    assert loaded.restarts == {"b": 3}


def test_nothing_saved_yet_is_none(tmp_path):
    assert SchedulerStateStore(tmp_path / "new").load() is None


def test_an_unreadable_placement_file_is_ignored_but_the_cameras_load(tmp_path):
    store = SchedulerStateStore(tmp_path)
    store.save(PersistedState([cam("a")], {"a": Placement("n1", 0.25)}))
    store.placement_path.write_text("{not json")
    loaded = store.load()
    assert [c.id for c in loaded.cameras] == ["a"] and loaded.placements == {}


def test_an_unreadable_desired_set_is_an_error_naming_the_file(tmp_path):
    store = SchedulerStateStore(tmp_path)
    store.desired.path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"cameras.json"):
        store.load()


def test_what_the_cost_model_learnt_beyond_single_cameras_round_trips(tmp_path):
    store = SchedulerStateStore(tmp_path)
    learnt = LearntCosts(
        shapes={"src=160x96@4 ...": 0.012},
        settings={"src=unknown ...": 0.05},
        calibration={"2-cpu": 1.4},
        sources={"/clips/tiny.mp4": (160, 96, 4.0)},
    )
    store.save(PersistedState([cam("a")], learnt=learnt))
    assert store.load().learnt == learnt, "shape and settings costs, calibration and source sizes come back"


def test_a_placement_file_from_before_issue_9_loads_with_nothing_learnt_beyond_cameras(tmp_path):
    store = SchedulerStateStore(tmp_path)
    store.save(PersistedState([cam("a")], costs={"a": 0.2}))
    raw = json.loads(store.placement_path.read_text())
    for key in ("shape_costs", "settings_costs", "calibration", "sources"):
        del raw[key]
    store.placement_path.write_text(json.dumps(raw))
    loaded = store.load()
    assert loaded.costs == {"a": 0.2} and loaded.learnt == LearntCosts({}, {}, {}, {})
