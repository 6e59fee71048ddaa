"""The scheduler's persisted state (`store.py`): the desired set is the truth, placements a hint."""

from __future__ import annotations

import pytest

from cluster.config import CameraConfig, ConfigError
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
