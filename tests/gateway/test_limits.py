"""Request size limits, enforced by gRPC before any of our code runs (issue 15): a
request message or metadata above `server.limits` is RESOURCE_EXHAUSTED with a message
naming the limit, and the server goes on serving."""

from __future__ import annotations

import grpc
import pytest
from pydantic import ValidationError

from cluster.gateway.server import server_options
from cluster.proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc, types_pb2

from .conftest import metadata, server_config

SMALL_METADATA = 2048  # far below gRPC's own default (8 KiB soft, 16 KiB hard)
SMALL_MESSAGE = 8192


def list_cameras(gateway, extra: tuple = ()) -> list[str]:
    stub = cameras_pb2_grpc.CamerasStub(gateway.channel())
    reply = stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=metadata("admin") + extra, timeout=5)
    return [c.spec.id for c in reply.cameras]


def test_metadata_above_the_configured_limit_is_refused_and_the_server_goes_on(make_gateway) -> None:
    gateway = make_gateway(limits={"max_metadata_bytes": SMALL_METADATA})
    assert list_cameras(gateway, (("x-pad", "p" * (SMALL_METADATA // 2)),)), "metadata within the limit is served"

    with pytest.raises(grpc.RpcError) as err:
        list_cameras(gateway, (("x-pad", "p" * (2 * SMALL_METADATA)),))

    assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, f"{err.value.code()}: {err.value.details()}"
    assert "metadata size" in err.value.details() and str(SMALL_METADATA) in err.value.details(), (
        f"the answer names the metadata limit: {err.value.details()!r}"
    )
    assert list_cameras(gateway) == ["cam-a", "cam-b", "cam-c"], "the server goes on serving"


def test_an_oversized_bearer_token_is_refused_before_it_is_looked_at(make_gateway) -> None:
    gateway = make_gateway(limits={"max_metadata_bytes": SMALL_METADATA})
    stub = cameras_pb2_grpc.CamerasStub(gateway.channel())
    huge = (("authorization", "Bearer " + "t" * (4 * SMALL_METADATA)),)

    with pytest.raises(grpc.RpcError) as err:
        stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=huge, timeout=5)

    assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, (
        f"refused as too large, not judged as a token: {err.value.code()} {err.value.details()}"
    )


def test_a_message_above_the_configured_limit_is_refused_and_the_server_goes_on(make_gateway) -> None:
    gateway = make_gateway(limits={"max_receive_message_bytes": SMALL_MESSAGE})
    stub = cameras_pb2_grpc.CamerasStub(gateway.channel())
    spec = types_pb2.CameraSpec(
        id="cam-x", name="x" * (2 * SMALL_MESSAGE), source=types_pb2.SourceSpec(url="rtsp://h/x")
    )

    with pytest.raises(grpc.RpcError) as err:
        stub.AddCamera(cameras_pb2.AddCameraRequest(camera=spec), metadata=metadata("admin"), timeout=5)

    assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, f"{err.value.code()}: {err.value.details()}"
    assert str(SMALL_MESSAGE) in err.value.details(), f"the answer names the limit: {err.value.details()!r}"
    assert "cam-x" not in gateway.control.cameras, "nothing was added"
    assert list_cameras(gateway) == ["cam-a", "cam-b", "cam-c"], "the server goes on serving"


def test_the_limits_reach_the_server_options() -> None:
    options = dict(
        server_options(server_config(limits={"max_metadata_bytes": 4096, "max_receive_message_bytes": 65536}))
    )

    assert options["grpc.max_metadata_size"] == 4096, options
    assert options["grpc.absolute_max_metadata_size"] == 4096, "the hard limit too, so none is let through by chance"
    assert options["grpc.max_receive_message_length"] == 65536, options


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_metadata_bytes", 100), ("max_metadata_bytes", 1 << 30), ("max_receive_message_bytes", 10)],
)
def test_limits_out_of_bounds_are_refused_by_name(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        server_config(limits={field: value})
