"""Server plumbing: health, reflection, graceful shutdown, binding, limits."""

from __future__ import annotations

import asyncio
import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from cluster.gateway.server import GatewayServer, server_options
from cluster.proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc, types_pb2

from .conftest import metadata, server_config
from .fakes import FakeControl, wait_until


def test_health_reports_serving_for_the_server_and_each_service(gateway) -> None:
    stub = health_pb2_grpc.HealthStub(gateway.channel())
    for service in ("", "matthan.v1.Cameras", "matthan.v1.Cluster", "matthan.v1.Events"):
        status = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
        assert status == health_pb2.HealthCheckResponse.SERVING, f"{service or 'server'}: {status}"


def test_reflection_lists_the_services(gateway) -> None:
    services = set(ProtoReflectionDescriptorDatabase(gateway.channel()).get_services())
    assert {"matthan.v1.Cameras", "matthan.v1.Cluster", "matthan.v1.Events", "grpc.health.v1.Health"} <= services


def test_shutdown_turns_health_not_serving_before_streams_end_with_unavailable(make_gateway) -> None:
    gateway = make_gateway(shutdown_drain_s=0.3)
    gateway.call(gateway.camera("cam-a").start_producing, 0.02)
    events: list[tuple[str, object]] = []
    lock = threading.Lock()

    def watch_health() -> None:
        stub = health_pb2_grpc.HealthStub(gateway.channel())
        try:
            for response in stub.Watch(health_pb2.HealthCheckRequest(service="matthan.v1.Cameras")):
                with lock:
                    events.append(("health", response.status))
        except grpc.RpcError:
            pass

    def read_stream() -> None:
        stub = cameras_pb2_grpc.CamerasStub(gateway.channel())
        request = cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-a"])
        call = stub.StreamDetections(request, metadata=metadata("admin"))
        try:
            for _ in call:
                with lock:
                    if not events or events[-1] != ("batch", None):
                        events.append(("batch", None))
        except grpc.RpcError as exc:
            with lock:
                events.append(("stream_end", (exc.code(), exc.details())))

    threads = [threading.Thread(target=f, daemon=True) for f in (watch_health, read_stream)]
    for t in threads:
        t.start()
    wait_until(
        lambda: ("batch", None) in events and ("health", health_pb2.HealthCheckResponse.SERVING) in events,
        what="a live stream and a health watch",
    )
    gateway.run(gateway.server.stop(grace=1.0))
    for t in threads:
        t.join(10)
    kinds = [e for e in events if e[0] != "batch"]
    not_serving = kinds.index(("health", health_pb2.HealthCheckResponse.NOT_SERVING))
    ends = [i for i, e in enumerate(kinds) if e[0] == "stream_end"]
    assert ends and not_serving < ends[0], f"health must turn NOT_SERVING first: {kinds}"
    code, details = kinds[ends[0]][1]
    assert code == grpc.StatusCode.UNAVAILABLE and "shutting down" in details, (code, details)


def test_a_taken_port_fails_loudly(gateway) -> None:
    config = server_config(port=gateway.server.port)

    async def start_second() -> None:
        server = GatewayServer(FakeControl(), config)
        try:
            await server.start()
        finally:
            await server.stop(0)

    with pytest.raises(RuntimeError, match=r"cannot listen on 127\.0\.0\.1"):
        gateway.run(start_second())


def test_oversize_request_is_refused_and_the_server_keeps_serving(gateway) -> None:
    stub = cameras_pb2_grpc.CamerasStub(gateway.channel([("grpc.max_send_message_length", 8 << 20)]))
    huge = types_pb2.CameraSpec(id="cam-x", name="x" * (2 << 20), source=types_pb2.SourceSpec(url="rtsp://h/x"))
    with pytest.raises(grpc.RpcError) as err:
        stub.AddCamera(cameras_pb2.AddCameraRequest(camera=huge), metadata=metadata("admin"), timeout=5)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.value.details()
    assert gateway.client().health() == "SERVING"


def test_server_options_carry_limits_and_keepalive_deliberately() -> None:
    options = dict(server_options(server_config(keepalive={"time_s": 20, "max_connection_idle_s": 600})))
    assert options["grpc.max_receive_message_length"] == 1 << 20
    assert options["grpc.max_send_message_length"] == 8 << 20
    assert options["grpc.keepalive_time_ms"] == 20_000
    assert options["grpc.keepalive_timeout_ms"] == 10_000
    assert options["grpc.http2.min_ping_interval_without_data_ms"] == 10_000
    assert options["grpc.max_connection_idle_ms"] == 600_000
    assert options["grpc.so_reuseport"] == 0, "a second server must not share the port silently"


def test_unary_calls_in_flight_finish_within_the_grace_period(make_gateway) -> None:
    gateway = make_gateway()
    stub = cameras_pb2_grpc.CamerasStub(gateway.channel())
    # A snapshot waits for a frame: it is in flight when stop() begins, and a frame arrives during the grace.
    request = cameras_pb2.GetSnapshotRequest(camera_id="cam-a")
    future = stub.GetSnapshot.future(request, metadata=metadata("admin"), timeout=5)
    wait_until(lambda: gateway.camera("cam-a").long_polls_in_flight == 1, what="the snapshot to wait for a frame")

    async def stop_while_a_frame_arrives() -> None:
        stopping = asyncio.ensure_future(gateway.server.stop(grace=2.0))
        await asyncio.sleep(0.1)
        await gateway.camera("cam-a").publish_frame()
        await stopping

    gateway.run(stop_while_a_frame_arrives())
    assert future.result(timeout=5).frame_sequence == 1, "the in-flight call completed"
