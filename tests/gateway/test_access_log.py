"""The access log answers "who watched camera X, when" and never contains a token."""

from __future__ import annotations

import contextlib
import json
import logging

import pytest

from cluster.client import ClientError
from cluster.gateway.access_log import ACCESS_LOGGER

from .conftest import TOKENS
from .fakes import camera_config, wait_until


@pytest.fixture
def access(caplog):
    caplog.set_level(logging.DEBUG)  # everything, to prove tokens are absent at every level

    def records(event: str | None = None) -> list[dict]:
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]
        return [r for r in lines if event is None or r["event"] == event]

    return records


def test_stream_start_and_end_are_logged_with_who_what_when(gateway, access) -> None:
    gateway.call(gateway.camera("cam-a").start_producing, 0.02)
    stream = gateway.client("viewer-a").stream_frames("cam-a", max_fps=10)
    with stream:
        frames = [e for _, e in zip(range(3), stream, strict=False)]
    assert len(frames) == 3
    wait_until(lambda: access("stream_end"), what="the stream_end record")
    (start,) = access("stream_start")
    (end,) = access("stream_end")
    assert start["who"] == "viewer-a" and start["role"] == "viewer"
    assert start["method"] == "StreamFrames" and start["cameras"] == ["cam-a"]
    assert start["peer"].startswith("ipv4:127.0.0.1:"), start["peer"]
    assert start["max_fps"] == 10
    assert end["stream_id"] == start["stream_id"] and end["start"] == start["start"]
    assert end["messages"] >= 3 and end["status"] == "CANCELLED"
    assert end["end"] >= end["start"] and "dropped_slow" in end


def test_refused_and_failed_calls_are_logged(gateway, access) -> None:
    with pytest.raises(ClientError):
        gateway.client("viewer-a").get_camera("cam-b")
    with pytest.raises(ClientError):
        gateway.client("not-a-token").list_cameras()
    gateway.client("operator").add_camera(camera_config("cam-z"))
    denied = access("denied")
    assert [(d["who"], d["method"], d["status"]) for d in denied] == [
        ("viewer-a", "GetCamera", "PERMISSION_DENIED"),
        (None, "ListCameras", "UNAUTHENTICATED"),
    ]
    assert [(c["who"], c["method"], c["cameras"], c["status"]) for c in access("call")] == [
        ("operator", "AddCamera", ["cam-z"], "OK")
    ]


def test_who_watched_camera_x_can_be_answered_from_the_log(gateway, access) -> None:
    gateway.call(gateway.camera("cam-c").start_producing, 0.02)
    for who in ("viewer-w1", "operator"):
        with gateway.client(who).stream_detections(["cam-c"]) as stream:
            next(iter(stream))
    gateway.client("viewer-all").stream_detections(["cam-a"])  # never started: not a watcher
    wait_until(lambda: len(access("stream_end")) == 2, what="both streams to end")
    watchers = {r["who"] for r in access("stream_start") if "cam-c" in r["cameras"]}
    assert watchers == {"viewer-w1", "operator"}


def test_tokens_never_reach_any_log(gateway, access, caplog) -> None:
    for who in TOKENS:
        client = gateway.client(who)
        client.list_cameras()
        with contextlib.suppress(ClientError):
            client.remove_camera("cam-b")
    with pytest.raises(ClientError):
        gateway.client("a-wrong-token-xyz").list_cameras()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert access(), "there are access records to check"
    for token, _ in [*TOKENS.values(), ("a-wrong-token-xyz", None)]:
        assert token not in text, "a token leaked into the logs"


def test_a_snapshot_the_client_gave_up_on_is_still_logged(gateway, access) -> None:
    import time

    from cluster.proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc

    from .conftest import metadata

    gateway.call(gateway.camera("cam-a").freeze)  # the snapshot waits for the camera
    stub = cameras_pb2_grpc.CamerasStub(gateway.channel())
    pending = stub.GetSnapshot.future(
        cameras_pb2.GetSnapshotRequest(camera_id="cam-a"), metadata=metadata("viewer-a"), timeout=30
    )
    time.sleep(0.2)
    pending.cancel()
    gateway.call(gateway.camera("cam-a").thaw)

    assert pending.cancelled(), "the client gave up"
    wait_until(lambda: access("call"), what="the cancelled call's record")
    assert [(c["who"], c["method"], c["cameras"], c["status"]) for c in access("call")] == [
        ("viewer-a", "GetSnapshot", ["cam-a"], "CANCELLED")
    ]
