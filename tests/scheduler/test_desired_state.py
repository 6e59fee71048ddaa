"""The desired camera set survives restarts, atomically."""

from __future__ import annotations

import json

import pytest

from cluster.config import CameraConfig, ConfigError, SourceConfig
from cluster.scheduler.desired_state import DesiredStateStore


def camera(cid: str) -> CameraConfig:
    return CameraConfig(id=cid, name=f"Camera {cid}", source=SourceConfig(url=f"rtsp://cam.local/{cid}"))


def test_nothing_persisted_yet_is_none(tmp_path):
    assert DesiredStateStore(tmp_path / "cameras.json").load() is None


def test_round_trip_keeps_every_field(tmp_path):
    store = DesiredStateStore(tmp_path / "state" / "cameras.json")
    cams = [camera("a"), camera("b")]
    store.save(cams)
    assert store.load() == cams


def test_save_leaves_no_temporary_files(tmp_path):
    store = DesiredStateStore(tmp_path / "cameras.json")
    store.save([camera("a")])
    assert [p.name for p in tmp_path.iterdir()] == ["cameras.json"]


def test_corrupt_state_is_a_clear_error(tmp_path):
    path = tmp_path / "cameras.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read persisted camera set"):
        DesiredStateStore(path).load()


def test_invalid_camera_in_state_names_the_field(tmp_path):
    path = tmp_path / "cameras.json"
    path.write_text(json.dumps({"version": 1, "cameras": [{"id": "a", "source": {"url": "ftp://x"}}]}))
    with pytest.raises(ConfigError, match=r"cameras\.0\.source\.url"):
        DesiredStateStore(path).load()
