"""The front door's Prometheus metrics, over real gRPC on loopback: RPC counts,
open subscriptions, delivered and dropped messages, and bounded labels.

Metrics are read the way Prometheus reads them: the registry's text exposition,
parsed back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import grpc
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cluster.client import MatthanClient, NotFound, ResourceExhausted
from cluster.gateway.fanout import FanoutSettings
from cluster.gateway.server import GatewayServer
from cluster.metrics.definitions import ALLOWED_LABELS
from cluster.metrics.gateway import GatewayMetrics
from cluster.proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc

from .conftest import TOKENS, Gateway, default_cameras, metadata, server_config
from .fakes import FAKE_JPEG, FakeControl, LoopThread, camera_config, make_detections, wait_until

CAMERAS = "matthan.v1.Cameras"
# A slow client must not absorb the backlog in its own transport buffers (see test_streams.py).
SMALL_WINDOW = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 16384)]


class MeteredGateway(Gateway):
    def __init__(self, loop_thread, control, server, target, registry: CollectorRegistry):
        super().__init__(loop_thread, control, server, target)
        self.registry = registry

    def samples(self) -> list:
        """Every sample of the exposition Prometheus would scrape."""
        text = generate_latest(self.registry).decode()
        return [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(self, name: str, **labels: str) -> float | None:
        """The sample `name` with exactly `labels`, None when the series does not exist."""
        for sample in self.samples():
            if sample.name == name and sample.labels == labels:
                return sample.value
        return None

    def subscribers(self, camera: str, kind: str) -> float | None:
        return self.value("matthan_gateway_subscribers", camera=camera, kind=kind)

    def delivered(self, camera: str, kind: str) -> float | None:
        return self.value("matthan_gateway_messages_delivered_total", camera=camera, kind=kind)

    def dropped(self, camera: str, kind: str, reason: str) -> float | None:
        return self.value("matthan_gateway_messages_dropped_total", camera=camera, kind=kind, reason=reason)

    def closed(self, kind: str, reason: str) -> float | None:
        return self.value("matthan_gateway_subscriptions_closed_total", kind=kind, reason=reason)

    def handled(self, method: str, code: str) -> float | None:
        return self.value("matthan_gateway_rpcs_handled_total", method=f"{CAMERAS}/{method}", code=code)


@pytest.fixture
def make_metered(loop_thread: LoopThread) -> Iterator:
    started: list[MeteredGateway] = []

    def make(cameras: list | None = None, **config_overrides: object) -> MeteredGateway:
        config = server_config(**config_overrides)
        control = loop_thread.call(lambda: FakeControl(default_cameras() if cameras is None else cameras))
        registry = CollectorRegistry()
        settings = FanoutSettings(
            frame_queue_size=config.limits.frame_queue_size,
            detection_queue_size=config.limits.detection_queue_size,
            pull_timeout_s=0.5,
            retry_initial_s=0.05,
            retry_max_s=0.2,
        )

        async def start() -> GatewayServer:
            server = GatewayServer(control, config, metrics=GatewayMetrics(registry), fanout_settings=settings)
            await server.start()
            return server

        server = loop_thread.run(start())
        gw = MeteredGateway(loop_thread, control, server, f"127.0.0.1:{server.port}", registry)
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.close_clients()
        for cam in gw.control.cameras.values():
            gw.call(cam.stop_producing)
        gw.run(gw.server.stop(0))


def test_rpcs_are_counted_by_method_and_status_code(make_metered) -> None:
    gateway = make_metered()
    client = gateway.client("admin")
    client.get_camera("cam-a")
    client.get_camera("cam-b")
    with pytest.raises(NotFound):
        client.get_camera("no-such-camera")
    get = gateway.channel().unary_unary(f"/{CAMERAS}/GetCamera")
    with pytest.raises(grpc.RpcError) as err:
        get(b"\xff\xff\xff", metadata=metadata("admin"), timeout=5)  # not a GetCameraRequest
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    # The interceptor records a refused call just after the status went out: wait for it.
    wait_until(lambda: gateway.handled("GetCamera", "OK") == 2, what="two successful lookups")
    wait_until(lambda: gateway.handled("GetCamera", "NOT_FOUND") == 1, what="the unknown camera as NOT_FOUND")
    wait_until(
        lambda: gateway.handled("GetCamera", "INVALID_ARGUMENT") == 1, what="the malformed request as INVALID_ARGUMENT"
    )
    assert gateway.value("matthan_gateway_rpc_duration_seconds_count", method=f"{CAMERAS}/GetCamera") == 4
    assert gateway.value("matthan_gateway_rpcs_in_flight", method=f"{CAMERAS}/GetCamera") == 0


def test_frame_stream_counts_a_subscriber_while_open_and_every_frame_the_client_received(make_metered) -> None:
    gateway = make_metered()
    cam = gateway.camera("cam-a")
    stream = gateway.client("viewer-a").stream_frames("cam-a")
    frames = iter(stream)
    received = []
    for _ in range(3):  # one frame at a time: nothing is in flight when the client has read it
        gateway.run(cam.publish_frame())
        received.append(next(frames))
    assert gateway.subscribers("cam-a", "frames") == 1, "one open frame stream on cam-a"
    wait_until(
        lambda: gateway.delivered("cam-a", "frames") == len(received),
        what=f"delivered frames to reach the {len(received)} the client received",
    )

    stream.cancel()
    wait_until(lambda: gateway.subscribers("cam-a", "frames") == 0, what="the subscriber gauge to go down")
    wait_until(lambda: gateway.closed("frames", "closed") == 1, what="the cancelled stream to count as closed")
    wait_until(lambda: gateway.handled("StreamFrames", "CANCELLED") == 1, what="the stream RPC to count as CANCELLED")
    assert gateway.dropped("cam-a", "frames", "queue_full") is None, "a client that keeps up drops nothing"


def test_detection_stream_counts_each_camera_it_follows_and_the_batches_delivered(make_metered) -> None:
    gateway = make_metered()
    cam_a, cam_c = gateway.camera("cam-a"), gateway.camera("cam-c")
    gateway.run(cam_a.publish_batch(count=3))
    gateway.run(cam_c.publish_batch(count=2))
    stream = gateway.client("viewer-w1").stream_detections(
        ["cam-a", "cam-c"], resume_after={"cam-a": 0, "cam-c": 0}, auto_resume=False
    )
    events = iter(stream)
    received = [next(events) for _ in range(5)]  # the ring's 3 + 2
    gateway.run(cam_a.publish_batch(count=2))  # and 2 live
    received += [next(events) for _ in range(2)]
    per_camera = {c: sum(e.batch.camera_id == c for e in received) for c in ("cam-a", "cam-c")}
    assert per_camera == {"cam-a": 5, "cam-c": 2}, per_camera

    assert gateway.subscribers("cam-a", "detections") == 1 and gateway.subscribers("cam-c", "detections") == 1, (
        "one open subscription on each camera of the stream"
    )
    wait_until(
        lambda: gateway.delivered("cam-a", "detections") == 5 and gateway.delivered("cam-c", "detections") == 2,
        what=f"delivered batches to match what the client received ({per_camera})",
    )
    stream.cancel()
    wait_until(
        lambda: gateway.subscribers("cam-a", "detections") == gateway.subscribers("cam-c", "detections") == 0,
        what="both cameras' subscriber gauges to go down",
    )
    wait_until(lambda: gateway.closed("detections", "closed") == 2, what="a close per camera the stream followed")


def test_a_slow_frame_client_shows_up_as_dropped_frames(make_metered) -> None:
    gateway = make_metered()
    cam = gateway.camera("cam-a")
    slow = cameras_pb2_grpc.CamerasStub(gateway.channel(SMALL_WINDOW)).StreamFrames(
        cameras_pb2.StreamFramesRequest(camera_id="cam-a"), metadata=metadata("viewer-all")
    )
    big_jpeg = FAKE_JPEG[:-2] + bytes(64 * 1024) + FAKE_JPEG[-2:]  # bigger than the slow client's window
    gateway.call(cam.start_producing, 0.01, True, False, 1, big_jpeg)
    next(slow)  # then stop reading for a while
    wait_until(
        lambda: (gateway.dropped("cam-a", "frames", "queue_full") or 0) > 0,
        timeout=20,
        what="frames replaced in the slow client's queue to be counted",
    )
    # Frames already in the transport were queued before the drops: read on until one tells of them.
    later = next(slow)
    for _ in range(20):
        if later.dropped_slow > 0:
            break
        later = next(slow)
    gateway.call(cam.stop_producing)
    assert later.dropped_slow > 0, "the client was told it missed frames"
    assert gateway.dropped("cam-a", "frames", "queue_full") >= later.dropped_slow, (
        "the metric counts at least the drops the client has been told of"
    )
    slow.cancel()
    wait_until(lambda: gateway.subscribers("cam-a", "frames") == 0, what="the slow stream to unsubscribe")


def test_a_detection_client_cut_off_for_falling_behind_counts_drops_and_the_close_reason(make_metered) -> None:
    gateway = make_metered(cameras=[camera_config("cam-a", ring_size=20000)], limits={"detection_queue_size": 8})
    cam = gateway.camera("cam-a")
    client = MatthanClient(gateway.target, TOKENS["admin"][0], channel=gateway.channel(SMALL_WINDOW))
    events = iter(client.stream_detections(["cam-a"], resume_after={"cam-a": 0}, auto_resume=False))
    gateway.run(cam.publish_batch())
    next(events)  # subscribed; now the client pauses while thousands of batches are published

    async def publish_bursts() -> None:
        for _ in range(30):
            await cam.publish_batch(make_detections(40), count=100)
            await asyncio.sleep(0.01)

    gateway.run(publish_bursts())
    with pytest.raises(ResourceExhausted):
        for _ in events:
            pass
    wait_until(lambda: gateway.closed("detections", "slow_consumer") == 1, what="the cut-off to count as closed")
    assert (gateway.dropped("cam-a", "detections", "slow_consumer") or 0) > 0, "the batches it will not get"
    assert gateway.subscribers("cam-a", "detections") == 0
    wait_until(
        lambda: gateway.handled("StreamDetections", "RESOURCE_EXHAUSTED") == 1,
        what="the stream RPC to finish with RESOURCE_EXHAUSTED",
    )


def test_batches_the_ring_no_longer_holds_count_as_dropped_data_loss(make_metered) -> None:
    gateway = make_metered(cameras=[camera_config("cam-a", ring_size=16)])
    cam = gateway.camera("cam-a")
    gateway.run(cam.publish_batch(count=40))
    stream = gateway.client("admin").stream_detections(["cam-a"], resume_after={"cam-a": 2}, auto_resume=False)
    event = next(iter(stream))
    assert event.data_loss is not None and (event.data_loss.first_missing, event.data_loss.last_missing) == (3, 24)
    wait_until(
        lambda: gateway.dropped("cam-a", "detections", "ring_overwritten") == 22,
        what="batches 3..24 to count as dropped (ring_overwritten)",
    )
    stream.cancel()


def test_a_removed_camera_leaves_no_per_camera_series_behind(make_metered) -> None:
    gateway = make_metered()
    cam = gateway.camera("cam-c")
    gateway.run(cam.publish_batch(count=2))
    events = iter(
        gateway.client("viewer-all").stream_detections(["cam-c"], resume_after={"cam-c": 0}, auto_resume=False)
    )
    next(events)
    next(events)
    wait_until(lambda: gateway.delivered("cam-c", "detections") == 2, what="the two batches to count as delivered")
    gateway.client("operator").remove_camera("cam-c")
    with pytest.raises(NotFound):
        for _ in events:
            pass
    wait_until(lambda: gateway.closed("detections", "camera_removed") == 1, what="the stream to close (removed)")

    def cam_c_series() -> list:
        return [s for s in gateway.samples() if s.labels.get("camera") == "cam-c"]

    wait_until(lambda: cam_c_series() == [], what="cam-c's per-camera series to be forgotten")


def test_refused_streams_and_calls_create_no_series_for_the_names_they_ask_for(make_metered) -> None:
    gateway = make_metered()
    stub = cameras_pb2_grpc.CamerasStub(gateway.channel())
    for camera_id in ("ghost-1", "ghost-2"):
        with pytest.raises(grpc.RpcError) as err:
            next(
                stub.StreamDetections(
                    cameras_pb2.StreamDetectionsRequest(camera_ids=[camera_id]), metadata=metadata("admin"), timeout=5
                )
            )
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError):
        gateway.channel().unary_unary(f"/{CAMERAS}/NoSuchMethod")(b"", metadata=metadata("admin"), timeout=5)
    wait_until(lambda: gateway.handled("StreamDetections", "NOT_FOUND") == 2, what="both refused streams counted")
    samples = [s for s in gateway.samples() if s.name.startswith("matthan_gateway_")]
    cameras = {s.labels["camera"] for s in samples if "camera" in s.labels}
    assert not cameras & {"ghost-1", "ghost-2"}, f"refused camera ids became label values: {cameras}"
    methods = {s.labels["method"] for s in samples if "method" in s.labels}
    assert f"{CAMERAS}/NoSuchMethod" not in methods and "unknown" in methods, methods
    names = {name for s in samples for name in s.labels if name not in ("le",)}
    assert names <= set(ALLOWED_LABELS), f"labels outside the allowed set: {names - set(ALLOWED_LABELS)}"


def test_a_camera_revoked_from_an_all_camera_stream_leaves_only_that_cameras_gauge(make_metered) -> None:
    gateway = make_metered()
    stream = gateway.client("viewer-w1").stream_detections(auto_resume=False)  # all it may see: cam-a, cam-c
    reader = threading.Thread(target=lambda: list(stream), daemon=True)
    reader.start()
    wait_until(
        lambda: gateway.subscribers("cam-a", "detections") == gateway.subscribers("cam-c", "detections") == 1,
        what="the all-camera stream to count on cam-a and cam-c",
    )
    gateway.client("operator").update_camera({"id": "cam-a", "groups": ["ward-2"]}, ["groups"])
    wait_until(lambda: gateway.subscribers("cam-a", "detections") == 0, what="cam-a to drop out of the stream")
    wait_until(
        lambda: gateway.closed("detections", "access_revoked") == 1,
        what="cam-a's leaving to count as closed because access was revoked",
    )
    assert gateway.subscribers("cam-c", "detections") == 1, "the stream goes on with cam-c"
    stream.cancel()
    reader.join(10)
    wait_until(lambda: gateway.subscribers("cam-c", "detections") == 0, what="the cancelled stream to unsubscribe")
