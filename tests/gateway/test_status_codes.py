"""Every status code the front door promises, checked against the raw stubs (server-side validation)."""

from __future__ import annotations

import tempfile

import grpc
import pytest

from cluster.proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc, types_pb2

from .conftest import metadata
from .fakes import wait_until

INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
def stub(gateway) -> cameras_pb2_grpc.CamerasStub:
    return cameras_pb2_grpc.CamerasStub(gateway.channel())


def call(method, request, who: str = "admin"):
    return method(request, metadata=metadata(who), timeout=5)


def spec(**fields) -> types_pb2.CameraSpec:
    base = {"id": "cam-new", "source": types_pb2.SourceSpec(url="rtsp://cams.local/new")}
    base.update(fields)
    return types_pb2.CameraSpec(**base)


def expect(code: grpc.StatusCode, fn, *args, field: str | None = None) -> str:
    with pytest.raises(grpc.RpcError) as err:
        result = fn(*args)
        if hasattr(result, "__next__"):
            next(result)
    assert err.value.code() == code, f"expected {code}, got {err.value.code()}: {err.value.details()}"
    if field is not None:
        assert err.value.details().startswith(f"{field}:"), f"the message names {field!r}: {err.value.details()}"
    return err.value.details()


INVALID_ADDS = {
    "bad URL scheme": (spec(source=types_pb2.SourceSpec(url="ftp://cams.local/x")), "camera.source.url"),
    "URL without host": (spec(source=types_pb2.SourceSpec(url="rtsp:///x")), "camera.source.url"),
    "fps out of range": (spec(analysis=types_pb2.AnalysisSpec(fps=500)), "camera.analysis.fps"),
    "empty id": (spec(id=""), "camera.id"),
    "uppercase id": (spec(id="Cam-1"), "camera.id"),
    "oversize name": (spec(name="x" * 201), "camera.name"),
    "oversize URL": (spec(source=types_pb2.SourceSpec(url="rtsp://h/" + "x" * 3000)), "camera.source.url"),
    "missing source": (types_pb2.CameraSpec(id="cam-new"), "camera.source"),
    "id with a trailing newline": (spec(id="cam-new\n"), "camera.id"),
    "file outside the file roots": (spec(source=types_pb2.SourceSpec(url="/root/secret.png")), "camera.source.url"),
    "file URL outside the roots": (spec(source=types_pb2.SourceSpec(url="file:///etc/passwd")), "camera.source.url"),
    "dot-dot out of a file root": (
        spec(source=types_pb2.SourceSpec(url=f"{tempfile.gettempdir()}/../etc/passwd")),
        "camera.source.url",
    ),
    "detector model outside the file roots": (
        spec(analysis=types_pb2.AnalysisSpec(detector=types_pb2.DetectorSpec(model="/root/m.cfg"))),
        "camera.analysis.detector.model",
    ),
    "megabyte id": (spec(id="x" * 1_000_000), "camera.id"),
    "URL with CR/LF": (spec(source=types_pb2.SourceSpec(url="rtsp://h/x\r\nInjected: 1")), "camera.source.url"),
    "host with a space": (spec(source=types_pb2.SourceSpec(url="rtsp://h ost/x")), "camera.source.url"),
    "ten thousand groups": (spec(groups=[f"g{i}" for i in range(10_000)]), "camera.groups"),
    "group of 100,000 characters": (spec(groups=["g" * 100_000]), "camera.groups"),
    "group with a newline": (spec(groups=["ward-1\n"]), "camera.groups"),
    "bad transport": (
        spec(source=types_pb2.SourceSpec(url="rtsp://h/x", rtsp_transport="sctp")),
        "camera.source.rtsp_transport",
    ),
    "zone outside the frame": (
        spec(
            analysis=types_pb2.AnalysisSpec(
                motion=types_pb2.MotionSpec(
                    masks=[types_pb2.Polygon(points=[types_pb2.Point(x=x, y=y) for x, y in ((0, 0), (2, 0), (1, 1))])]
                )
            )
        ),
        "camera.analysis.motion.masks",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID_ADDS))
def test_add_camera_with_malformed_spec_is_invalid_argument_naming_the_field(stub, case) -> None:
    request, field = INVALID_ADDS[case]
    details = expect(INVALID, call, stub.AddCamera, cameras_pb2.AddCameraRequest(camera=request), field=field)
    assert "secret" not in details
    assert len(details) < 400, f"the error quotes client input bounded, got {len(details)} characters"
    assert "\n" not in details and "\r" not in details, f"the error is one line: {details!r}"


def test_add_camera_without_a_camera_is_invalid_argument(stub) -> None:
    expect(INVALID, call, stub.AddCamera, cameras_pb2.AddCameraRequest(), field="camera")


INVALID_REQUESTS = {
    "GetCamera empty id": ("GetCamera", cameras_pb2.GetCameraRequest(camera_id=""), "camera_id"),
    "GetCamera bad id": ("GetCamera", cameras_pb2.GetCameraRequest(camera_id="../etc"), "camera_id"),
    "Remove empty id": ("RemoveCamera", cameras_pb2.RemoveCameraRequest(), "camera_id"),
    "Snapshot quality": ("GetSnapshot", cameras_pb2.GetSnapshotRequest(camera_id="cam-a", quality=5), "quality"),
    "Snapshot width": ("GetSnapshot", cameras_pb2.GetSnapshotRequest(camera_id="cam-a", max_width=-3), "max_width"),
    "Frames fps": ("StreamFrames", cameras_pb2.StreamFramesRequest(camera_id="cam-a", max_fps=500), "max_fps"),
    "Frames fps NaN": (
        "StreamFrames",
        cameras_pb2.StreamFramesRequest(camera_id="cam-a", max_fps=float("nan")),
        "max_fps",
    ),
    "Detections confidence": (
        "StreamDetections",
        cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-a"], min_confidence=1.5),
        "min_confidence",
    ),
    "Detections bad id": (
        "StreamDetections",
        cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-a", ""]),
        "camera_ids[1]",
    ),
    "Detections empty class": (
        "StreamDetections",
        cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-a"], classes=[""]),
        "classes[0]",
    ),
    "Detections resume at 2^63": (
        "StreamDetections",
        cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-a"], resume_after={"cam-a": 2**63}),
        "resume_after[cam-a]",
    ),
    "Detections resume at 2^64-1": (
        "StreamDetections",
        cameras_pb2.StreamDetectionsRequest(resume_after={"cam-a": 2**64 - 1}),
        "resume_after[cam-a]",
    ),
    "GetCamera megabyte id": ("GetCamera", cameras_pb2.GetCameraRequest(camera_id="y" * 1_000_000), "camera_id"),
    "GetCamera id with a newline": ("GetCamera", cameras_pb2.GetCameraRequest(camera_id="cam-a\n"), "camera_id"),
    "Detections resume elsewhere": (
        "StreamDetections",
        cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-a"], resume_after={"cam-b": 3}),
        "resume_after",
    ),
    "Update unknown mask path": (
        "UpdateCamera",
        cameras_pb2.UpdateCameraRequest(camera=spec(id="cam-a"), update_mask={"paths": ["analysis.nope"]}),
        "update_mask",
    ),
    "Update id via mask": (
        "UpdateCamera",
        cameras_pb2.UpdateCameraRequest(camera=spec(id="cam-a"), update_mask={"paths": ["id"]}),
        "update_mask",
    ),
    "Update bad value": (
        "UpdateCamera",
        cameras_pb2.UpdateCameraRequest(
            camera=spec(id="cam-a", analysis=types_pb2.AnalysisSpec(fps=0)), update_mask={"paths": ["analysis.fps"]}
        ),
        "camera.analysis.fps",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID_REQUESTS))
def test_malformed_requests_are_invalid_argument_naming_the_field(stub, case) -> None:
    method, request, field = INVALID_REQUESTS[case]
    details = expect(INVALID, call, getattr(stub, method), request, field=field)
    assert len(details) < 400, f"the error quotes client input bounded, got {len(details)} characters"


def test_unknown_cameras_are_not_found(stub) -> None:
    for method, request in [
        (stub.GetCamera, cameras_pb2.GetCameraRequest(camera_id="ghost")),
        (stub.RemoveCamera, cameras_pb2.RemoveCameraRequest(camera_id="ghost")),
        (stub.UpdateCamera, cameras_pb2.UpdateCameraRequest(camera=spec(id="ghost"))),
        (stub.GetSnapshot, cameras_pb2.GetSnapshotRequest(camera_id="ghost")),
        (stub.StreamFrames, cameras_pb2.StreamFramesRequest(camera_id="ghost")),
        (stub.StreamDetections, cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-a", "ghost"])),
    ]:
        details = expect(grpc.StatusCode.NOT_FOUND, call, method, request)
        assert "ghost" in details


def test_duplicate_camera_id_is_already_exists(stub) -> None:
    details = expect(
        grpc.StatusCode.ALREADY_EXISTS, call, stub.AddCamera, cameras_pb2.AddCameraRequest(camera=spec(id="cam-a"))
    )
    assert "cam-a" in details


def test_snapshot_without_any_frame_is_unavailable(stub) -> None:
    request = cameras_pb2.GetSnapshotRequest(camera_id="cam-a")
    details = expect(grpc.StatusCode.UNAVAILABLE, call, stub.GetSnapshot, request)
    assert "no frame" in details


def test_snapshot_of_a_camera_that_is_not_running_is_unavailable(gateway, stub) -> None:
    gateway.camera("cam-b").unavailable = True
    expect(grpc.StatusCode.UNAVAILABLE, call, stub.GetSnapshot, cameras_pb2.GetSnapshotRequest(camera_id="cam-b"))


def test_snapshot_of_a_frozen_camera_ends_unavailable_within_the_snapshot_timeout(gateway, stub) -> None:
    cam = gateway.camera("cam-a")
    gateway.run(cam.publish_frame())  # a frame is there: only the freeze keeps it from the caller
    cam.frozen_slack_s = 60.0  # the handle alone would wait a minute: the gateway's bound must end the call
    gateway.call(cam.freeze)
    request = cameras_pb2.GetSnapshotRequest(camera_id="cam-a")
    # The client's deadline (5 s) is well past snapshot_timeout_s (0.5 s): UNAVAILABLE, not DEADLINE_EXCEEDED.
    details = expect(grpc.StatusCode.UNAVAILABLE, call, stub.GetSnapshot, request)
    assert "cam-a" in details and "did not answer" in details, details
    gateway.call(cam.thaw)
    assert call(stub.GetSnapshot, request).camera_id == "cam-a", "thawed, the snapshot works again"


def test_unresponsive_and_unavailable_cameras_map_to_unavailable() -> None:
    from cluster.control import CameraUnavailable, CameraUnresponsive, SchedulerUnavailable
    from cluster.gateway.rpc import status_for

    for error in (
        CameraUnresponsive("cam-a", "latest_jpeg", 6.0),
        CameraUnavailable("camera 'cam-a' is starting"),
        SchedulerUnavailable("the scheduler actor did not answer"),
    ):
        code, message = status_for(error)
        assert code is grpc.StatusCode.UNAVAILABLE, f"{type(error).__name__} -> {code}"
        assert message == str(error), f"the client reads why: {message!r}"


def test_removing_a_camera_ends_its_named_streams_with_not_found(gateway, stub) -> None:
    gateway.call(gateway.camera("cam-a").start_producing, 0.05)
    frames = call(stub.StreamFrames, cameras_pb2.StreamFramesRequest(camera_id="cam-a"))
    detections = call(stub.StreamDetections, cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-a"]))
    next(frames), next(detections)
    call(stub.RemoveCamera, cameras_pb2.RemoveCameraRequest(camera_id="cam-a"))
    for stream in (frames, detections):
        with pytest.raises(grpc.RpcError) as err:
            for _ in stream:
                pass
        assert err.value.code() == grpc.StatusCode.NOT_FOUND and "removed" in err.value.details()
    wait_until(lambda: gateway.upstream_loops() == {}, what="the removed camera's loops to stop")


def test_bytes_that_are_not_a_request_message_are_invalid_argument(gateway) -> None:
    add = gateway.channel().unary_unary("/matthan.v1.Cameras/AddCamera")
    for md, code in ((metadata("admin"), INVALID), ((), grpc.StatusCode.UNAUTHENTICATED)):
        with pytest.raises(grpc.RpcError) as err:
            add(b"\xff\xff\xff", metadata=md, timeout=5)
        assert err.value.code() == code, err.value.details()
    assert err.value.details() != "request: not a valid matthan.v1.AddCameraRequest message", "auth comes first"
    with pytest.raises(grpc.RpcError) as err:
        add(b"\xff\xff\xff", metadata=metadata("admin"), timeout=5)
    assert err.value.details() == "request: not a valid matthan.v1.AddCameraRequest message"


def test_drain_node_status_codes(gateway) -> None:
    from cluster.proto.matthan.v1 import cluster_pb2, cluster_pb2_grpc

    stub = cluster_pb2_grpc.ClusterStub(gateway.channel())
    drain = stub.DrainNode
    expect(grpc.StatusCode.NOT_FOUND, call, drain, cluster_pb2.DrainNodeRequest(node_id="node-9"))
    expect(INVALID, call, drain, cluster_pb2.DrainNodeRequest(node_id=" "), field="node_id")

    async def cannot_drain(node_id: str):
        raise NotImplementedError

    gateway.control.drain_node = cannot_drain  # a control plane without a scheduler
    details = expect(grpc.StatusCode.UNIMPLEMENTED, call, drain, cluster_pb2.DrainNodeRequest(node_id="node-1"))
    assert "scheduler" in details


def test_adding_the_same_camera_again_is_a_safe_retry(gateway, stub) -> None:
    existing = gateway.client("admin").get_camera("cam-a").config
    from cluster.contract.convert import camera_config_to_spec

    again = call(stub.AddCamera, cameras_pb2.AddCameraRequest(camera=camera_config_to_spec(existing)))

    assert again.spec.id == "cam-a", "AddCamera is idempotent by id: a retry of the same config succeeds"
