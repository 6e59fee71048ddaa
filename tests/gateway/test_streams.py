"""Frame and detection streams over real gRPC: fan-out, slow clients, resume, cancellation."""

from __future__ import annotations

import asyncio
import threading

import grpc
import pytest

from cluster.client import MatthanClient, ResourceExhausted
from cluster.gateway.fanout import FrameSubscription, LossReason
from cluster.proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc

from .conftest import TOKENS, metadata
from .fakes import FAKE_JPEG, camera_config, make_detections, wait_until

# A slow client must not absorb the backlog in its own transport buffers for the
# cut-off to be observable: no BDP-driven window growth, a small stream window.
SMALL_WINDOW = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 16384)]


def read_in_thread(iterable, count: int, results: list, errors: list) -> threading.Thread:
    def run() -> None:
        try:
            for item in iterable:
                results.append(item)
                if len(results) >= count:
                    break
        except Exception as exc:  # noqa: BLE001 - however the stream ended, the assertion looks at it
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_many_subscribers_at_once_share_one_upstream_pull_per_camera(gateway) -> None:
    cam = gateway.camera("cam-a")
    gateway.call(cam.start_producing, 0.02)
    client = gateway.client("viewer-all")
    streams = [client.stream_detections(["cam-a"], auto_resume=False) for _ in range(8)]
    streams += [client.stream_frames("cam-a") for _ in range(8)]
    results = [[] for _ in streams]
    errors: list = []
    threads = [read_in_thread(s, 5, r, errors) for s, r in zip(streams, results, strict=True)]
    for t in threads:
        t.join(20)
    assert not errors, f"streams failed: {errors}"
    assert all(len(r) == 5 for r in results), f"every subscriber got 5 messages: {[len(r) for r in results]}"
    wait_until(lambda: gateway.subscriptions() == 0, what="finished streams to unsubscribe")
    assert cam.max_long_polls_in_flight <= 2, (
        f"one frame and one detection pull per camera, saw {cam.max_long_polls_in_flight} concurrent"
    )
    wait_until(lambda: gateway.upstream_loops() == {}, what="upstream loops to stop after the last subscriber")


def test_slow_detection_client_is_cut_off_while_a_fast_one_gets_every_batch(make_gateway) -> None:
    gateway = make_gateway(
        cameras=[camera_config("cam-a", ("ward-1",), ring_size=20000)], limits={"detection_queue_size": 64}
    )
    cam = gateway.camera("cam-a")
    slow_stub = cameras_pb2_grpc.CamerasStub(gateway.channel(SMALL_WINDOW))
    slow = slow_stub.StreamDetections(
        cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-a"]), metadata=metadata("viewer-all")
    )
    fast = iter(gateway.client("viewer-all").stream_detections(["cam-a"], auto_resume=False))
    gateway.call(cam.start_producing, 0.005, False, True, 40)  # ~1.2 KB batches at up to 200/s
    slow_first = next(slow).batch.sequence  # then the slow client stops reading
    received = [next(fast).batch.sequence for _ in range(400)]
    gateway.call(cam.stop_producing)
    assert received == list(range(received[0], received[0] + 400)), "the fast client misses nothing"
    slow_seen = [slow_first]
    with pytest.raises(grpc.RpcError) as err:
        for msg in slow:  # the stream raises part-way: every message before that counts
            slow_seen.append(msg.batch.sequence)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.value.details()
    assert "resume_after" in err.value.details() and "last sequences sent: cam-a=" in err.value.details()
    assert len(slow_seen) < len(received), f"the stuck client got {len(slow_seen)}, the fast one {len(received)}"
    assert slow_seen == list(range(slow_first, slow_first + len(slow_seen))), "no silent gaps before the cut-off"
    # Resume from the last received sequence: the rest comes from the ring, nothing lost.
    resumed = iter(gateway.client("viewer-all").stream_detections(["cam-a"], resume_after={"cam-a": slow_seen[-1]}))
    event = next(resumed)
    assert event.batch.sequence == slow_seen[-1] + 1 and event.data_loss is None


def test_slow_frame_client_loses_old_frames_not_the_fast_clients_rate(make_gateway) -> None:
    gateway = make_gateway()
    cam = gateway.camera("cam-a")
    slow = iter(
        cameras_pb2_grpc.CamerasStub(gateway.channel(SMALL_WINDOW)).StreamFrames(
            cameras_pb2.StreamFramesRequest(camera_id="cam-a"), metadata=metadata("viewer-all")
        )
    )
    fast = iter(gateway.client("viewer-all").stream_frames("cam-a"))
    big_jpeg = FAKE_JPEG[:-2] + bytes(64 * 1024) + FAKE_JPEG[-2:]  # bigger than the slow client's window
    gateway.call(cam.start_producing, 0.01, True, False, 1, big_jpeg)
    first_slow = next(slow)
    fast_events = [next(fast) for _ in range(100)]
    fast_sequences = [e.frame.frame_sequence for e in fast_events]
    assert fast_sequences == sorted(set(fast_sequences)), "frames arrive in order, no repeats"
    later = [next(slow) for _ in range(4)]
    gateway.call(cam.stop_producing)
    assert later[-1].frame_sequence - first_slow.frame_sequence > len(later), "the slow client skipped ahead"
    assert later[-1].dropped_slow > 0, "and was told how many frames it missed"
    assert fast_events[-1].dropped_slow < later[-1].dropped_slow, (
        f"the fast client dropped {fast_events[-1].dropped_slow}, the stuck one {later[-1].dropped_slow}"
    )
    queues = gateway.call(
        lambda: [len(s._queue) for s in gateway.server.fanout._subscriptions if isinstance(s, FrameSubscription)]
    )
    assert all(n <= 2 for n in queues), f"server-side frame queues stay bounded: {queues}"


def test_frame_stream_honours_max_fps_and_reports_skips(gateway) -> None:
    cam = gateway.camera("cam-a")
    gateway.call(cam.start_producing, 0.01, True, False)
    eager = gateway.client("viewer-a").stream_frames("cam-a")  # unlimited: the hub fetches every frame
    stream = gateway.client("viewer-a").stream_frames("cam-a", max_fps=5)
    with eager, stream:
        eager_events = iter(eager)  # kept: a dropped iterator ends its stream
        next(eager_events)
        events = [e for _, e in zip(range(3), stream, strict=False)]
    assert events[-1].skipped_rate > 0, "frames above 5 fps are skipped and counted"
    gaps = events[-1].frame.frame_sequence - events[0].frame.frame_sequence - 2
    assert gaps >= events[-1].skipped_rate - events[0].skipped_rate, "skips show up as sequence gaps"


def test_a_lone_rate_limited_stream_is_not_fed_frames_it_would_skip(gateway) -> None:
    cam = gateway.camera("cam-a")
    gateway.call(cam.start_producing, 0.01, True, False)  # about 100 fps
    stream = gateway.client("viewer-a").stream_frames("cam-a", max_fps=5)
    with stream:
        events = [e for _, e in zip(range(3), stream, strict=False)]
    gaps = events[-1].frame.frame_sequence - events[0].frame.frame_sequence - 2
    assert gaps > 0, "frames above 5 fps must not be delivered"
    assert events[-1].skipped_rate == 0, "the hub paces its fetches, so nothing is fetched only to be skipped"


def test_resume_after_disconnect_continues_exactly_where_the_client_left(gateway) -> None:
    cam = gateway.camera("cam-a")
    client = gateway.client("viewer-a")
    stream = client.stream_detections(["cam-a"])
    events = iter(stream)
    gateway.call(cam.start_producing, 0.01, False, True)
    first = [next(events) for _ in range(5)]
    stream.cancel()  # disconnect
    wait_until(lambda: gateway.subscriptions() == 0, what="the cancelled stream to unsubscribe")
    wait_until(lambda: cam.next_sequence > first[-1].batch.sequence + 20, what="batches while disconnected")
    again = iter(client.stream_detections(["cam-a"], resume_after=stream.last_sequences))
    resumed = [next(again) for _ in range(20)]
    gateway.call(cam.stop_producing)
    last_seen = first[-1].batch.sequence
    assert [e.batch.sequence for e in resumed] == list(range(last_seen + 1, last_seen + 21))
    assert all(e.data_loss is None for e in resumed)


def test_resume_from_a_sequence_the_ring_dropped_reports_data_loss(make_gateway) -> None:
    gateway = make_gateway(cameras=[camera_config("cam-a", ring_size=16)])
    cam = gateway.camera("cam-a")
    gateway.run(cam.publish_batch(count=40))
    events = iter(gateway.client("admin").stream_detections(["cam-a"], resume_after={"cam-a": 2}))
    event = next(events)
    assert event.batch.sequence == 25, "the oldest batch the ring still has"
    assert event.data_loss is not None and event.data_loss.reason is LossReason.RING_OVERWRITTEN
    assert (event.data_loss.first_missing, event.data_loss.last_missing) == (3, 24)


def _backlogged_stream(gateway, auto_resume: bool):
    """A detection stream whose client pauses while 3000 batches are published live."""
    cam = gateway.camera("cam-a")
    client = MatthanClient(gateway.target, TOKENS["admin"][0], channel=gateway.channel(SMALL_WINDOW))
    stream = client.stream_detections(["cam-a"], resume_after={"cam-a": 0}, auto_resume=auto_resume)
    events = iter(stream)
    gateway.run(cam.publish_batch())
    first = next(events)

    async def publish_bursts() -> None:
        for _ in range(30):
            await cam.publish_batch(make_detections(40), count=100)
            await asyncio.sleep(0.01)

    gateway.run(publish_bursts())
    return stream, events, first


def test_client_auto_resume_hides_a_cut_off_without_losing_batches(make_gateway) -> None:
    gateway = make_gateway(cameras=[camera_config("cam-a", ring_size=20000)], limits={"detection_queue_size": 8})
    stream, events, first = _backlogged_stream(gateway, auto_resume=True)
    sequences = [first.batch.sequence] + [next(events).batch.sequence for _ in range(3000)]
    stream.cancel()
    assert sequences == list(range(1, 3002)), "every batch exactly once, in order"
    assert stream.resumes >= 1, "the paused client was cut off and resumed"
    assert stream.data_losses == 0


def test_resource_exhausted_without_auto_resume_reaches_the_caller(make_gateway) -> None:
    gateway = make_gateway(cameras=[camera_config("cam-a", ring_size=20000)], limits={"detection_queue_size": 8})
    _, events, _ = _backlogged_stream(gateway, auto_resume=False)
    with pytest.raises(ResourceExhausted) as err:
        for _ in events:
            pass
    assert "fell behind" in err.value.details


def test_cancel_and_deadline_release_server_resources(gateway) -> None:
    client = gateway.client("admin")
    gateway.call(gateway.camera("cam-b").start_producing, 0.02)
    stream = client.stream_frames("cam-b")
    frames = iter(stream)
    next(frames)
    assert gateway.subscriptions() == 1
    stream.cancel()
    wait_until(lambda: gateway.subscriptions() == 0, what="a cancelled stream to unsubscribe")
    stub = cameras_pb2_grpc.CamerasStub(gateway.channel())
    with pytest.raises(grpc.RpcError) as err:
        for _ in stub.StreamDetections(
            cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-b"]), metadata=metadata("admin"), timeout=0.5
        ):
            pass
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    wait_until(lambda: gateway.subscriptions() == 0, what="a stream past its deadline to unsubscribe")
    wait_until(lambda: gateway.upstream_loops() == {}, what="upstream loops to stop")


def test_all_camera_stream_picks_up_cameras_added_later(gateway) -> None:
    results: list = []
    errors: list = []
    reader = read_in_thread(gateway.client("viewer-all").stream_detections(), 1, results, errors)
    wait_until(lambda: gateway.subscriptions() == 1, what="the all-camera stream to start")
    gateway.client("operator").add_camera(camera_config("cam-new"))
    wait_until(lambda: "cam-new" in gateway.upstream_loops(), what="the stream to follow the new camera")
    gateway.run(gateway.camera("cam-new").publish_batch())
    reader.join(10)
    assert not errors and [e.batch.camera_id for e in results] == ["cam-new"], (results, errors)


def test_a_client_that_accepts_no_data_is_ended_after_the_stuck_timeout(make_gateway, caplog) -> None:
    gateway = make_gateway(limits={"stuck_write_timeout_s": 0.5})
    cam = gateway.camera("cam-a")
    stuck = cameras_pb2_grpc.CamerasStub(gateway.channel(SMALL_WINDOW)).StreamFrames(
        cameras_pb2.StreamFramesRequest(camera_id="cam-a"), metadata=metadata("admin")
    )
    big_jpeg = FAKE_JPEG[:-2] + bytes(256 * 1024) + FAKE_JPEG[-2:]
    gateway.call(cam.start_producing, 0.02, True, False, 1, big_jpeg)
    next(stuck)  # then never read again
    wait_until(lambda: gateway.subscriptions() == 0, what="the server to give up on the stuck client")
    assert gateway.client().health() == "SERVING"
    with pytest.raises(grpc.RpcError) as err:
        for _ in stuck:
            pass
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "accepted no data" in err.value.details()


def test_nearby_frame_sizes_share_one_rendition_and_renditions_per_camera_are_capped(gateway) -> None:
    client = gateway.client("viewer-all")
    gateway.call(gateway.camera("cam-a").start_producing, 0.02, True, False)
    streams = [client.stream_frames("cam-a", max_width=w, quality=q) for w, q in ((700, 82), (650, 84), (0, 0))]
    open_streams = [iter(s) for s in streams]  # keep the iterators: dropping one ends its call
    for frames in open_streams:
        next(frames)
    keys = gateway.call(lambda: sorted((k.max_width, k.quality) for k in gateway.server.fanout._frame_hubs))
    assert keys == [(0, 0), (640, 80)], "700/82 and 650/84 both get the 640 px, quality 80 rendition"
    for width in (320, 480):
        streams.append(client.stream_frames("cam-a", max_width=width))
        open_streams.append(iter(streams[-1]))
        next(open_streams[-1])
    with pytest.raises(ResourceExhausted, match="already streams 4 frame sizes"):
        next(iter(client.stream_frames("cam-a", max_width=960)))
    for stream in streams:
        stream.cancel()
