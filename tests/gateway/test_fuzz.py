"""Malformed requests never crash the server or leak internal errors."""

from __future__ import annotations

import logging

import grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster.proto.matthan.v1 import cameras_pb2, types_pb2

from .conftest import metadata

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

UNARY_METHODS = [
    "/matthan.v1.Cameras/ListCameras",
    "/matthan.v1.Cameras/GetCamera",
    "/matthan.v1.Cameras/AddCamera",
    "/matthan.v1.Cameras/UpdateCamera",
    "/matthan.v1.Cameras/RemoveCamera",
    "/matthan.v1.Cameras/GetSnapshot",
    "/matthan.v1.Cluster/GetClusterStatus",
    "/matthan.v1.Cluster/DrainNode",
]
STREAM_METHODS = ["/matthan.v1.Cameras/StreamFrames", "/matthan.v1.Cameras/StreamDetections"]

# Codes a well-behaved server may answer a malformed request with. Never UNKNOWN
# (an unhandled exception) and never INTERNAL from our own code.
ACCEPTABLE = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAVAILABLE,  # snapshot of a camera without frames
    grpc.StatusCode.UNIMPLEMENTED,  # DrainNode
    grpc.StatusCode.DEADLINE_EXCEEDED,  # streams read with a short deadline
}

MASK_PATHS = st.sampled_from(["name", "analysis.fps", "source", "x.y", "", "analysis.motion.masks"])
text = st.text(max_size=80) | st.sampled_from(["", "cam-a", "cam-b", "CAM", "a" * 70, "../x", "cam a", "\x00"])
floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
ints = st.integers(min_value=-(2**31), max_value=2**31 - 1)


def check_server_alive(gateway, caplog) -> None:
    assert gateway.client().health() == "SERVING", "the server still answers health checks"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"unexpected errors logged: {[r.getMessage()[:200] for r in errors]}"


def test_random_bytes_as_requests_never_break_the_server(gateway, caplog) -> None:
    channel = gateway.channel()

    @FUZZ
    @given(method=st.sampled_from(UNARY_METHODS + STREAM_METHODS), payload=st.binary(max_size=300))
    def fuzz(method: str, payload: bytes) -> None:
        try:
            if method in STREAM_METHODS:
                call = channel.unary_stream(method)(payload, metadata=metadata("admin"), timeout=0.3)
                for _ in call:
                    break
                call.cancel()
            else:
                channel.unary_unary(method)(payload, metadata=metadata("admin"), timeout=2)
        except grpc.RpcError as exc:
            if exc.code() is grpc.StatusCode.CANCELLED:
                return
            assert exc.code() in ACCEPTABLE, (exc.code(), exc.details())

    fuzz()
    check_server_alive(gateway, caplog)


source = st.builds(
    types_pb2.SourceSpec,
    url=text | st.sampled_from(["rtsp://h/x", "ftp://h/x", "http://", "rtsp://h:99999/x", "/v/a.mp4"]),
    rtsp_transport=text,
    open_timeout_s=floats,
    stall_timeout_s=floats,
)
analysis = st.builds(
    types_pb2.AnalysisSpec,
    fps=floats,
    width=ints,
    motion=st.builds(
        types_pb2.MotionSpec,
        min_area=floats,
        masks=st.lists(
            st.builds(types_pb2.Polygon, points=st.lists(st.builds(types_pb2.Point, x=floats, y=floats), max_size=5)),
            max_size=2,
        ),
    ),
    detector=st.none() | st.builds(types_pb2.DetectorSpec, model=text, input_size=ints, confidence=floats),
)
camera_spec = st.builds(
    types_pb2.CameraSpec,
    id=text,
    name=text,
    groups=st.lists(text, max_size=3),
    source=st.none() | source,
    analysis=st.none() | analysis,
    output=st.none() | st.builds(types_pb2.OutputSpec, ring_size=ints, jpeg_quality=ints),
)


def test_structured_garbage_gets_deliberate_status_codes(gateway, caplog) -> None:
    channel = gateway.channel()
    add = channel.unary_unary(
        "/matthan.v1.Cameras/AddCamera",
        request_serializer=cameras_pb2.AddCameraRequest.SerializeToString,
        response_deserializer=types_pb2.Camera.FromString,
    )
    update = channel.unary_unary(
        "/matthan.v1.Cameras/UpdateCamera",
        request_serializer=cameras_pb2.UpdateCameraRequest.SerializeToString,
        response_deserializer=types_pb2.Camera.FromString,
    )
    detections = channel.unary_stream(
        "/matthan.v1.Cameras/StreamDetections",
        request_serializer=cameras_pb2.StreamDetectionsRequest.SerializeToString,
        response_deserializer=cameras_pb2.StreamDetectionsResponse.FromString,
    )
    frames = channel.unary_stream(
        "/matthan.v1.Cameras/StreamFrames",
        request_serializer=cameras_pb2.StreamFramesRequest.SerializeToString,
        response_deserializer=types_pb2.Frame.FromString,
    )
    requests = st.one_of(
        st.builds(lambda s: (add, cameras_pb2.AddCameraRequest(camera=s)), camera_spec),
        st.builds(
            lambda s, paths: (update, cameras_pb2.UpdateCameraRequest(camera=s, update_mask={"paths": paths})),
            camera_spec,
            st.lists(MASK_PATHS | text, max_size=3),
        ),
        st.builds(
            lambda ids, classes, conf, resume: (
                detections,
                cameras_pb2.StreamDetectionsRequest(
                    camera_ids=ids, classes=classes, min_confidence=conf, resume_after=resume
                ),
            ),
            st.lists(text, max_size=3),
            st.lists(text, max_size=3),
            st.floats(width=32, allow_nan=True),
            st.dictionaries(text, st.integers(0, 2**64 - 1), max_size=2),
        ),
        st.builds(
            lambda cam, fps, width, quality: (
                frames,
                cameras_pb2.StreamFramesRequest(camera_id=cam, max_fps=fps, max_width=width, quality=quality),
            ),
            text,
            floats,
            ints,
            ints,
        ),
    )

    @FUZZ
    @given(request=requests)
    def fuzz(request) -> None:
        method, message = request
        try:
            if method in (detections, frames):
                call = method(message, metadata=metadata("admin"), timeout=0.3)
                for _ in call:
                    break
                call.cancel()
            else:
                method(message, metadata=metadata("admin"), timeout=2)
        except grpc.RpcError as exc:
            if exc.code() is grpc.StatusCode.CANCELLED:
                return
            assert exc.code() in ACCEPTABLE, (exc.code(), exc.details())
            if exc.code() is grpc.StatusCode.INVALID_ARGUMENT:
                assert ":" in exc.details(), f"the message names a field: {exc.details()}"

    fuzz()
    check_server_alive(gateway, caplog)
