"""Who may do what: the auth matrix over real gRPC, and camera scoping of viewers."""

from __future__ import annotations

import itertools

import grpc
import pytest

from cluster.client import ClientError, MatthanClient
from cluster.gateway.auth import Authenticator, AuthError, hash_token
from cluster.proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc, cluster_pb2, cluster_pb2_grpc

from .conftest import TOKENS, server_config
from .fakes import camera_config

OK = "OK"
UNAUTH = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND

_new_ids = (f"new-{i}" for i in itertools.count())


def first_of(stream):
    """Open a stream and read until it either yields or fails (streams report errors on read)."""
    with stream:
        for item in stream:
            return item


ACTIONS = {
    "list": lambda c, gw: c.list_cameras(),
    "get cam-a": lambda c, gw: c.get_camera("cam-a"),
    "get cam-b": lambda c, gw: c.get_camera("cam-b"),
    "get unknown": lambda c, gw: c.get_camera("nope"),
    "add": lambda c, gw: c.add_camera(camera_config(next(_new_ids))),
    "remove cam-c": lambda c, gw: c.remove_camera("cam-c"),
    "cluster status": lambda c, gw: c.cluster_status(),
    "snapshot cam-b": lambda c, gw: c.snapshot("cam-b"),
    "frames cam-b": lambda c, gw: first_of(c.stream_frames("cam-b")),
    "detections cam-b": lambda c, gw: first_of(c.stream_detections(["cam-b"], auto_resume=False)),
}

# (who, action, expected). who: a TOKENS name, None (no token) or "bogus" (unknown token).
MATRIX = [
    (None, "list", UNAUTH),
    ("bogus", "list", UNAUTH),
    (None, "detections cam-b", UNAUTH),
    ("bogus", "frames cam-b", UNAUTH),
    ("viewer-a", "list", OK),
    ("viewer-a", "get cam-a", OK),
    ("viewer-a", "get cam-b", DENIED),
    ("viewer-a", "get unknown", DENIED),  # a scoped token cannot tell unknown from forbidden
    ("viewer-a", "snapshot cam-b", DENIED),
    ("viewer-a", "frames cam-b", DENIED),
    ("viewer-a", "detections cam-b", DENIED),
    ("viewer-a", "add", DENIED),
    ("viewer-a", "remove cam-c", DENIED),
    ("viewer-a", "cluster status", DENIED),
    ("viewer-w1", "get cam-a", OK),  # cam-a is in ward-1
    ("viewer-w1", "get cam-b", DENIED),
    ("viewer-all", "get cam-b", OK),
    ("viewer-all", "get unknown", NOT_FOUND),
    ("viewer-all", "add", DENIED),
    ("operator", "get cam-b", OK),
    ("operator", "get unknown", NOT_FOUND),
    ("operator", "add", OK),
    ("operator", "remove cam-c", OK),
    ("operator", "cluster status", OK),
    ("admin", "add", OK),
    ("admin", "remove cam-c", OK),
    ("admin", "cluster status", OK),
]


@pytest.mark.parametrize(("who", "action", "expected"), MATRIX, ids=[f"{w}-{a}" for w, a, _ in MATRIX])
def test_auth_matrix(gateway, who, action, expected) -> None:
    client = gateway.client(who) if who != "bogus" else gateway.client("not-a-configured-token")
    if who is None:
        client = MatthanClient(gateway.target)
    try:
        ACTIONS[action](client, gateway)
        outcome = OK
    except ClientError as exc:
        outcome = exc.code
    finally:
        if who is None:
            client.close()
    assert outcome == expected, f"{who} {action}: expected {expected}, got {outcome}"


def test_drain_node_needs_admin(gateway) -> None:
    stub = cluster_pb2_grpc.ClusterStub(gateway.channel())
    with pytest.raises(grpc.RpcError) as err:
        stub.DrainNode(cluster_pb2.DrainNodeRequest(node_id="node-1"), metadata=_md("operator"), timeout=5)
    assert err.value.code() == DENIED, err.value.details()
    drained = gateway.client("admin").drain_node("node-1")
    assert drained.moved_camera_ids == ("cam-a", "cam-b", "cam-c") and drained.stranded_camera_ids == ()


def _md(who: str) -> tuple:
    return (("authorization", f"Bearer {TOKENS[who][0]}"),)


@pytest.mark.parametrize(
    "metadata",
    [
        (("authorization", "Basic YWRtaW46YWRtaW4="),),
        (("authorization", "Bearer "),),
        (("authorization", "admin-secret-0001"),),
        (("authorization", f"Bearer {TOKENS['admin'][0]}"), ("authorization", f"Bearer {TOKENS['admin'][0]}")),
    ],
    ids=["basic-scheme", "empty-bearer", "no-scheme", "two-headers"],
)
def test_malformed_authorization_is_unauthenticated(gateway, metadata) -> None:
    stub = cameras_pb2_grpc.CamerasStub(gateway.channel())
    with pytest.raises(grpc.RpcError) as err:
        stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=metadata, timeout=5)
    assert err.value.code() == UNAUTH
    assert TOKENS["admin"][0] not in err.value.details(), "the token is never echoed"


def test_list_cameras_shows_viewers_only_their_cameras(gateway) -> None:
    seen = {who: [c.config.id for c in gateway.client(who).list_cameras()] for who in TOKENS}
    assert seen["viewer-a"] == ["cam-a"]
    assert seen["viewer-w1"] == ["cam-a", "cam-c"], "group scope: ward-1 cameras"
    assert seen["viewer-all"] == seen["operator"] == seen["admin"] == ["cam-a", "cam-b", "cam-c"]


def test_list_cameras_filters_by_group(gateway) -> None:
    assert [c.config.id for c in gateway.client("admin").list_cameras(groups=["ward-2"])] == ["cam-b"]


def test_viewers_get_source_urls_without_passwords(gateway) -> None:
    viewer_url = gateway.client("viewer-a").get_camera("cam-a").config.source.url
    operator_url = gateway.client("operator").get_camera("cam-a").config.source.url
    assert "secret" not in viewer_url and "***" in viewer_url
    assert operator_url == "rtsp://user:secret@cams.local/cam-a", "operators need the real URL to edit it"


def test_viewer_loses_a_running_stream_when_the_camera_leaves_its_groups(gateway) -> None:
    gateway.call(gateway.camera("cam-c").start_producing, 0.05)
    events = iter(gateway.client("viewer-w1").stream_detections(["cam-c"], auto_resume=False))
    assert next(events).batch.camera_id == "cam-c"
    operator = gateway.client("operator")
    operator.update_camera({"id": "cam-c", "groups": ["ward-2"]}, fields=["groups"])
    with pytest.raises(ClientError) as err:
        for _ in events:
            pass
    assert err.value.code == DENIED and "revoked" in err.value.details, err.value.details


def test_authenticator_without_tokens_needs_explicit_loopback_opt_in() -> None:
    config = server_config(tokens=[], allow_unauthenticated=True, unauthenticated_role="viewer")
    principal = Authenticator(config).authenticate([])
    assert principal.name == "anonymous" and str(principal.role) == "viewer"
    with pytest.raises(AuthError) as err:
        Authenticator(config).authenticate([("authorization", "Bearer wrong")])
    assert err.value.code == UNAUTH, "a wrong token is still refused when anonymous access is allowed"


def test_token_hash_is_sha256_hex() -> None:
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


CREDENTIAL_FORMS = {
    "cam-pass": "rtsp://admin:hunter2-pass@cams.local/pass",
    "cam-user-only": "rtsp://hunter2-token@cams.local/user-only",
    "cam-query": "http://cams.local/cgi-bin/mjpg?user=admin&password=hunter2-query&channel=1",
    "cam-query-token": "https://cams.local/live.mjpg?token=hunter2-token2",
}


def test_viewers_see_no_credential_in_any_url_form(gateway) -> None:
    admin = gateway.client("admin")
    for camera_id, url in CREDENTIAL_FORMS.items():
        admin.add_camera({"id": camera_id, "source": {"url": url}})
    for camera in gateway.client("viewer-all").list_cameras():
        assert "hunter2" not in camera.config.source.url, f"a viewer sees a credential: {camera.config.source.url}"
    admin_urls = {c.config.id: c.config.source.url for c in admin.list_cameras()}
    assert admin_urls["cam-query"] == CREDENTIAL_FORMS["cam-query"], "admins keep the real URL to edit it"
