"""The typed client helpers the CLI builds on, against a live server."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from cluster.client import AlreadyExists, InvalidArgument, MatthanClient, NotFound, PermissionDenied
from cluster.config import CameraConfig
from cluster.domain import CameraState

from .fakes import camera_config, wait_until


def test_camera_admin_round_trip_takes_effect_live(gateway) -> None:
    client = gateway.client("operator")
    added = client.add_camera({"id": "cam-new", "name": "Hẻm 12", "source": {"url": "rtsp://cams.local/new"}})
    assert added.config.id == "cam-new" and added.config.analysis.fps == 5.0, "defaults filled in"
    assert "cam-new" in [c.config.id for c in client.list_cameras()]
    assert "cam-new" in gateway.control.cameras, "the control plane has it"
    client.remove_camera("cam-new")
    assert "cam-new" not in [c.config.id for c in client.list_cameras()]
    with pytest.raises(NotFound):
        client.get_camera("cam-new")


def test_get_camera_returns_desired_and_observed_state(gateway) -> None:
    view = gateway.client("viewer-a").get_camera("cam-a")
    assert isinstance(view.config, CameraConfig) and view.config.groups == ["ward-1"]
    assert view.status is not None and view.status.state is CameraState.LIVE and view.node_id == "node-1"
    assert view.status.stage_seconds == {"motion": pytest.approx(0.002)}
    gateway.camera("cam-b").unavailable = True
    stopped = gateway.client("admin").get_camera("cam-b")
    assert stopped.status is None and stopped.node_id is None, "no observed state while not running"


def test_update_with_fields_changes_only_those(gateway) -> None:
    client = gateway.client("operator")
    changes = {"id": "cam-a", "name": "Chợ", "analysis": {"fps": 2}}
    updated = client.update_camera(changes, fields=["name", "analysis.fps"])
    assert (updated.config.name, updated.config.analysis.fps) == ("Chợ", 2.0)
    assert updated.config.source.url == "rtsp://user:secret@cams.local/cam-a", "unlisted fields are kept"
    assert gateway.control.cameras["cam-a"].config.name == "Chợ"


def test_update_with_a_listed_but_unset_field_restores_its_default(gateway) -> None:
    client = gateway.client("operator")
    client.update_camera({"id": "cam-a", "analysis": {"fps": 9}}, fields=["analysis.fps"])
    restored = client.update_camera({"id": "cam-a"}, fields=["analysis.fps"])
    assert restored.config.analysis.fps == 5.0


def test_update_without_fields_replaces_the_desired_state(gateway) -> None:
    client = gateway.client("operator")
    replacement = camera_config("cam-a").model_copy(update={"name": "", "groups": []})
    assert client.update_camera(replacement).config == replacement


def test_typed_errors(gateway) -> None:
    operator = gateway.client("operator")
    with pytest.raises(AlreadyExists):
        operator.add_camera(camera_config("cam-a"))
    with pytest.raises(InvalidArgument, match=r"camera\.source\.url: unsupported URL scheme"):
        operator.add_camera({"id": "cam-x", "source": {"url": "ftp://x/y"}})
    with pytest.raises(InvalidArgument, match="update_mask"):
        operator.update_camera({"id": "cam-a"}, fields=["nope"])
    with pytest.raises(PermissionDenied):
        gateway.client("viewer-a").remove_camera("cam-a")


def test_snapshot_returns_the_latest_jpeg(gateway) -> None:
    gateway.run(gateway.camera("cam-a").publish_frame(b"\xff\xd8jpeg\xff\xd9"))
    frame = gateway.client("viewer-a").snapshot("cam-a", max_width=320, quality=70)
    assert frame.jpeg == b"\xff\xd8jpeg\xff\xd9" and frame.camera_id == "cam-a" and frame.frame_sequence == 1


def test_stream_frames_yields_frames_with_counters(gateway) -> None:
    gateway.call(gateway.camera("cam-a").start_producing, 0.1, True, False)
    with gateway.client("viewer-a").stream_frames("cam-a") as stream:
        events = [e for _, e in zip(range(3), stream, strict=False)]
    sequences = [e.frame.frame_sequence for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    # A reader keeping up with 10 frames a second at the default rate loses nothing; the
    # counters' non-zero values are shown by the slow-client and max_fps tests.
    assert [(e.dropped_slow, e.skipped_rate) for e in events] == [(0, 0)] * 3, events
    wait_until(lambda: gateway.subscriptions() == 0, what="leaving the with-block to end the stream")


def test_stream_detections_tracks_last_sequences_for_resume(gateway) -> None:
    for camera_id in ("cam-a", "cam-b", "cam-c"):  # cam-b is ward-2's: outside viewer-w1's scope
        gateway.call(gateway.camera(camera_id).start_producing, 0.01, False, True)
    with gateway.client("viewer-w1").stream_detections(classes=["person"], min_confidence=0.5) as stream:
        events = [e for _, e in zip(range(40), stream, strict=False)]
    produced_b = gateway.call(lambda: len(gateway.camera("cam-b").ring))
    assert produced_b > 0, "cam-b produced while the stream ran"
    assert {e.batch.camera_id for e in events} == {"cam-a", "cam-c"}, "every camera the viewer sees, and only those"
    newest = {c: max(e.batch.sequence for e in events if e.batch.camera_id == c) for c in ("cam-a", "cam-c")}
    assert stream.last_sequences == newest, (stream.last_sequences, newest)
    assert all(d.class_name == "person" for e in events for d in e.batch.detections)


def test_cluster_status(gateway) -> None:
    status = gateway.client("operator").cluster_status()
    assert status.cameras_configured == 3 and status.nodes[0].cameras == ("cam-a", "cam-b", "cam-c")
    assert status.nodes[0].labels == {"zone": "a"} and status.nodes[0].cpus == 2.0


def test_client_from_env_reads_address_and_token(gateway) -> None:
    from .conftest import TOKENS

    env = {"MATTHAN_ADDRESS": gateway.target, "MATTHAN_TOKEN": TOKENS["viewer-a"][0]}
    with MatthanClient.from_env(env) as client:
        assert [c.config.id for c in client.list_cameras()] == ["cam-a"]
    with MatthanClient.from_env(env, token=TOKENS["operator"][0]) as client:
        assert len(client.list_cameras()) == 3, "keyword arguments override the environment"


def test_the_client_uses_the_contract_and_never_the_gateway() -> None:
    code = "import sys, cluster.client; print(sorted(m for m in sys.modules if m.startswith(('cluster.', 'ray'))))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    loaded = set(ast.literal_eval(result.stdout.strip()))
    assert "cluster.contract.convert" in loaded, f"the client converts through cluster.contract: {sorted(loaded)}"
    assert not {m for m in loaded if m.startswith(("cluster.gateway", "cluster.scheduler", "cluster.actors", "ray"))}, (
        f"the client imports neither the server side nor Ray: {sorted(loaded)}"
    )
