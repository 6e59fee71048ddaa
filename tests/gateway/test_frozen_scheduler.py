"""A frozen scheduler (issue 15, item 3): reads come from the last known view with its age,
writes fail fast with UNAVAILABLE and change nothing, a retried AddCamera is safe."""

from __future__ import annotations

import grpc
import pytest

from cluster.gateway.rpc import VIEW_AGE_TRAILER
from cluster.proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc, types_pb2

from .conftest import metadata

READ_DEADLINE_S = 0.5


@pytest.fixture
def gateway(make_gateway):
    return make_gateway(control_read_deadline_s=READ_DEADLINE_S)


@pytest.fixture
def stub(gateway) -> cameras_pb2_grpc.CamerasStub:
    return cameras_pb2_grpc.CamerasStub(gateway.channel())


def freeze(gateway, frozen: bool = True) -> None:
    gateway.call(lambda: setattr(gateway.control, "scheduler_frozen", frozen))


def trailer(call) -> dict[str, str]:
    return dict(call.trailing_metadata() or ())


def test_a_fresh_answer_carries_no_age(gateway, stub) -> None:
    _, call = stub.ListCameras.with_call(cameras_pb2.ListCamerasRequest(), metadata=metadata("admin"), timeout=5)

    assert VIEW_AGE_TRAILER not in trailer(call), trailer(call)


def test_list_cameras_of_a_frozen_scheduler_is_the_last_view_with_its_age(gateway, stub) -> None:
    fresh = stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=metadata("admin"), timeout=5)
    freeze(gateway)

    stale, call = stub.ListCameras.with_call(cameras_pb2.ListCamerasRequest(), metadata=metadata("admin"), timeout=10)

    assert [c.spec.id for c in stale.cameras] == [c.spec.id for c in fresh.cameras], "the last known cameras"
    assert float(trailer(call)[VIEW_AGE_TRAILER]) >= READ_DEADLINE_S, f"its age is said: {trailer(call)}"


def test_get_camera_of_a_frozen_scheduler_is_the_last_view(gateway, stub) -> None:
    stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=metadata("admin"), timeout=5)
    freeze(gateway)

    view, call = stub.GetCamera.with_call(
        cameras_pb2.GetCameraRequest(camera_id="cam-a"), metadata=metadata("viewer-a"), timeout=10
    )

    assert view.spec.id == "cam-a" and VIEW_AGE_TRAILER in trailer(call), trailer(call)


def test_scoping_holds_on_the_last_known_view(gateway, stub) -> None:
    stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=metadata("admin"), timeout=5)
    freeze(gateway)

    seen = stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=metadata("viewer-a"), timeout=10)

    assert [c.spec.id for c in seen.cameras] == ["cam-a"], "a viewer's scope applies to stale views too"


def test_a_write_to_a_frozen_scheduler_fails_fast_and_changes_nothing(gateway, stub) -> None:
    freeze(gateway)
    spec = types_pb2.CameraSpec(id="cam-new", source=types_pb2.SourceSpec(url="rtsp://cams.local/new"))

    with pytest.raises(grpc.RpcError) as err:
        stub.AddCamera(cameras_pb2.AddCameraRequest(camera=spec), metadata=metadata("admin"), timeout=10)
    freeze(gateway, False)

    assert err.value.code() == grpc.StatusCode.UNAVAILABLE, err.value.details()
    assert "nothing was changed" in err.value.details() and "retry" in err.value.details(), err.value.details()
    assert "cam-new" not in gateway.call(lambda: set(gateway.control.cameras)), "the refused write was not applied"


def test_the_retry_after_the_scheduler_is_back_adds_the_camera_once(gateway, stub) -> None:
    spec = types_pb2.CameraSpec(id="cam-new", source=types_pb2.SourceSpec(url="rtsp://cams.local/new"))
    request = cameras_pb2.AddCameraRequest(camera=spec)
    first = stub.AddCamera(request, metadata=metadata("admin"), timeout=5)

    again = stub.AddCamera(cameras_pb2.AddCameraRequest(camera=first.spec), metadata=metadata("admin"), timeout=5)

    assert again.spec == first.spec, "the retry answers with the camera, not ALREADY_EXISTS"
    assert len([c for c in gateway.call(lambda: list(gateway.control.cameras)) if c == "cam-new"]) == 1


def test_without_any_earlier_view_a_read_is_unavailable_within_the_read_deadline(gateway, stub) -> None:
    freeze(gateway)

    with pytest.raises(grpc.RpcError) as err:
        stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=metadata("admin"), timeout=10)
    freeze(gateway, False)

    assert err.value.code() == grpc.StatusCode.UNAVAILABLE, err.value.details()


def test_a_camera_removed_while_reachable_is_not_resurrected_by_a_stale_view(gateway, stub) -> None:
    stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=metadata("admin"), timeout=5)
    stub.RemoveCamera(cameras_pb2.RemoveCameraRequest(camera_id="cam-b"), metadata=metadata("admin"), timeout=5)
    freeze(gateway)

    seen = stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=metadata("admin"), timeout=10)

    assert "cam-b" not in [c.spec.id for c in seen.cameras], "the removed camera stays removed"
