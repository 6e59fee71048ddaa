"""Fan-out hubs without gRPC: one upstream loop per camera, bounded queues, resume and loss."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from cluster.gateway.fanout import (
    CloseKind,
    DetectionFilter,
    Fanout,
    FanoutSettings,
    FrameKey,
    LossReason,
    StreamClosed,
)

from .fakes import FakeControl, camera_config, make_detections

SETTINGS = FanoutSettings(
    frame_queue_size=2, detection_queue_size=16, pull_timeout_s=0.2, retry_initial_s=0.01, retry_max_s=0.05
)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 20))


def setup(settings: FanoutSettings = SETTINGS, ring_size: int = 1024, clock=None) -> tuple[FakeControl, Fanout]:
    control = FakeControl([camera_config("cam-a", ring_size=ring_size), camera_config("cam-b")])
    return control, Fanout(control, settings, **({"monotonic": clock} if clock else {}))


async def eventually(predicate: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def hub_caught_up(fanout: Fanout, key: FrameKey, cam) -> None:
    def seen() -> bool:
        last = fanout._frame_hubs[key].last_frame
        return last is not None and last.frame_sequence == cam.frame_sequence

    await eventually(seen, f"the frame hub to see frame {cam.frame_sequence}")


async def take(sub, n: int, timeout: float = 5.0) -> list:
    return [await asyncio.wait_for(sub.next(), timeout) for _ in range(n)]


def test_many_subscribers_share_one_upstream_loop_per_camera_and_it_stops_after_the_last() -> None:
    async def test() -> None:
        control, fanout = setup()
        cam = control.cameras["cam-a"]
        subs = [fanout.subscribe_detections(["cam-a"]) for _ in range(20)]
        frame_subs = [fanout.subscribe_frames(FrameKey("cam-a")) for _ in range(20)]
        await eventually(lambda: cam.long_polls_in_flight == 2, "the frame and detection long-polls")
        await cam.publish_batch(count=3)
        await cam.publish_frame()
        for sub in subs:
            assert [i.batch.sequence for i in await take(sub, 3)] == [1, 2, 3], "every subscriber gets every batch"
        for sub in frame_subs:
            assert (await take(sub, 1))[0].frame.frame_sequence == cam.frame_sequence
        assert fanout.upstream_loops == {"cam-a": 2}, "one detection loop and one frame loop, not one per subscriber"
        polls = cam.max_long_polls_in_flight
        assert polls <= 2, f"at most 2 concurrent upstream polls, saw {polls}"
        for sub in [*subs, *frame_subs[:-1]]:
            sub.close()
        assert fanout.upstream_loops == {"cam-a": 1}, "the frame loop still has a subscriber"
        frame_subs[-1].close()
        await fanout.wait_idle()
        assert fanout.upstream_loops == {}, "loops stop when their last subscriber leaves"
        await eventually(lambda: cam.long_polls_in_flight == 0, "upstream polls to end")

    run(test)


def test_frames_newest_wins_and_drops_are_counted() -> None:
    async def test() -> None:
        control, fanout = setup()
        cam = control.cameras["cam-a"]
        sub = fanout.subscribe_frames(FrameKey("cam-a"))
        await eventually(lambda: cam.long_polls_in_flight == 1, "the frame loop to poll")
        for _ in range(10):
            await cam.publish_frame()
            await hub_caught_up(fanout, sub.key, cam)
        assert len(sub._queue) == 2, "the queue never holds more than frame_queue_size"
        items = await take(sub, 2)
        assert [i.frame.frame_sequence for i in items] == [9, 10], "the newest frames are kept"
        assert items[-1].dropped_slow == 8, "the 8 replaced frames are counted"
        fanout.subscribe_frames(FrameKey("cam-a")).close()  # joining and leaving does not disturb others
        await cam.publish_frame()
        assert (await take(sub, 1))[0].frame.frame_sequence == 11
        await fanout.close()

    run(test)


def test_frame_max_fps_skips_frames_by_the_injected_clock() -> None:
    async def test() -> None:
        now = [100.0]
        control, fanout = setup(clock=lambda: now[0])
        cam = control.cameras["cam-a"]
        sub = fanout.subscribe_frames(FrameKey("cam-a"), max_fps=2.0)  # one frame per 0.5 s
        eager = fanout.subscribe_frames(FrameKey("cam-a"))  # unlimited: the hub pulls every frame
        await eventually(lambda: cam.long_polls_in_flight == 1, "the frame loop to poll")
        got = []
        for _ in range(10):  # 10 frames over 1 s of fake time
            await cam.publish_frame()
            await hub_caught_up(fanout, sub.key, cam)
            while sub._queue:
                got.append(await sub.next())
            while eager._queue:
                await eager.next()
            now[0] += 0.1
        assert [i.frame.frame_sequence for i in got] == [1, 6], "2 fps of a 10 fps camera"
        assert got[-1].skipped_rate == 4 and got[-1].dropped_slow == 0
        await fanout.close()

    run(test)


def test_frame_hub_pulls_no_faster_than_its_subscribers_accept() -> None:
    async def test() -> None:
        now = [100.0]
        control, fanout = setup(clock=lambda: now[0])
        cam = control.cameras["cam-a"]
        key = FrameKey("cam-a")
        sub = fanout.subscribe_frames(key, max_fps=2.0)  # one frame per 0.5 s
        await cam.publish_frame()
        await hub_caught_up(fanout, key, cam)
        assert (await sub.next()).frame.frame_sequence == 1
        for _ in range(4):  # frames 2..5 within the subscriber's 0.5 s
            now[0] += 0.1
            await cam.publish_frame()
        await asyncio.sleep(0.6)  # real time: the hub re-checks the clock meanwhile
        assert fanout._frame_hubs[key].last_frame.frame_sequence == 1, (
            "the hub pulled frames no subscriber would accept (each costs the camera a JPEG encode)"
        )
        now[0] += 0.1
        await cam.publish_frame()
        item = await asyncio.wait_for(sub.next(), 5)
        assert item.frame.frame_sequence == 6, "once due, the subscriber gets the newest frame"
        await fanout.close()

    run(test)


def test_a_newcomer_gets_the_current_frame_at_once() -> None:
    async def test() -> None:
        control, fanout = setup()
        cam = control.cameras["cam-a"]
        first = fanout.subscribe_frames(FrameKey("cam-a"))
        await cam.publish_frame()
        await take(first, 1)
        late = fanout.subscribe_frames(FrameKey("cam-a"))
        assert (await take(late, 1))[0].frame.frame_sequence == 1
        await fanout.close()

    run(test)


def test_slow_detection_subscriber_is_cut_off_while_a_fast_one_gets_everything() -> None:
    async def test() -> None:
        control, fanout = setup()
        cam = control.cameras["cam-a"]
        fast = fanout.subscribe_detections(["cam-a"])
        slow = fanout.subscribe_detections(["cam-a"])
        await eventually(lambda: cam.long_polls_in_flight == 1, "the detection loop to poll")
        received = []
        for _ in range(10):  # 40 batches; the slow one never reads, its queue holds 16
            await cam.publish_batch(count=4)
            received += [i.batch.sequence for i in await take(fast, 4)]
        assert received == list(range(1, 41)), "the fast subscriber misses nothing"
        with pytest.raises(StreamClosed) as closed:
            await slow.next()
        assert closed.value.kind is CloseKind.SLOW_CONSUMER
        assert "resume_after" in closed.value.message, "the message says how to resume"
        assert len(slow._queue) <= 16, "a cut-off subscriber's memory stays bounded"
        assert slow not in fanout._detection_hubs["cam-a"].subscribers, "cut-off subscribers leave the hub"
        await fanout.close()

    run(test)


def test_resume_reads_the_ring_then_continues_live_without_gaps() -> None:
    async def test() -> None:
        control, fanout = setup()
        cam = control.cameras["cam-a"]
        await cam.publish_batch(count=40)
        sub = fanout.subscribe_detections(["cam-a"], resume_after={"cam-a": 5})
        first = await take(sub, 35)  # more than the queue holds: read in pieces
        assert [i.batch.sequence for i in first] == list(range(6, 41))
        assert all(i.data_loss is None for i in first), "nothing was lost"
        await cam.publish_batch(count=3)
        assert [i.batch.sequence for i in await take(sub, 3)] == [41, 42, 43], "then live"
        await fanout.close()

    run(test)


def test_resume_older_than_the_ring_reports_the_lost_range() -> None:
    async def test() -> None:
        control, fanout = setup(ring_size=16)
        cam = control.cameras["cam-a"]
        await cam.publish_batch(count=30)  # ring holds 15..30
        sub = fanout.subscribe_detections(["cam-a"], resume_after={"cam-a": 3})
        items = await take(sub, 16)
        assert items[0].batch.sequence == 15
        loss = items[0].data_loss
        assert loss is not None and loss.reason is LossReason.RING_OVERWRITTEN
        assert (loss.first_missing, loss.last_missing) == (4, 14), "batches 4..14 are gone"
        assert all(i.data_loss is None for i in items[1:])
        await fanout.close()

    run(test)


def test_camera_restart_is_reported_and_the_stream_follows_the_new_numbering() -> None:
    async def test() -> None:
        control, fanout = setup()
        cam = control.cameras["cam-a"]
        sub = fanout.subscribe_detections(["cam-a"])
        await eventually(lambda: cam.long_polls_in_flight == 1, "the detection loop to poll")
        await cam.publish_batch(count=5)
        await take(sub, 5)
        await cam.restart()
        await cam.publish_batch(count=2)
        items = await take(sub, 2)
        assert [i.batch.sequence for i in items] == [1, 2]
        loss = items[0].data_loss
        assert loss is not None and loss.reason is LossReason.CAMERA_RESTARTED and loss.first_missing == 6
        await fanout.close()

    run(test)


def test_a_restarted_camera_whose_new_ring_already_passed_the_old_position_is_still_a_restart() -> None:
    """A short-lived actor (a crash loop) is replaced by one that publishes past the old
    position before the hub's long-poll returns: the new ring's epoch tells it apart, so
    the new batches are delivered from 1 with the loss reported, not read as the old ones."""

    async def test() -> None:
        control, fanout = setup()
        cam = control.cameras["cam-a"]
        sub = fanout.subscribe_detections(["cam-a"])
        await eventually(lambda: cam.long_polls_in_flight == 1, "the detection loop to poll")
        await cam.publish_batch(count=2)
        await take(sub, 2)
        await eventually(lambda: cam.long_polls_in_flight == 1, "the hub to wait for batch 3")
        await cam.restart()
        await cam.publish_batch(count=5)  # the new actor's 1..5, past the old position 2
        items = await take(sub, 5)
        assert [i.batch.sequence for i in items] == [1, 2, 3, 4, 5], "the new ring from its first batch"
        loss = items[0].data_loss
        assert loss is not None and loss.reason is LossReason.CAMERA_RESTARTED, f"the restart is reported: {loss}"
        assert loss.first_missing == 3, f"after the last batch delivered: {loss}"
        assert all(i.data_loss is None for i in items[1:]), "reported once"
        await fanout.close()

    run(test)


def test_filter_keeps_matching_detections_and_skips_empty_batches() -> None:
    async def test() -> None:
        control, fanout = setup()
        cam = control.cameras["cam-a"]
        people = fanout.subscribe_detections(["cam-a"], DetectionFilter(frozenset({"person"}), min_confidence=0.5))
        everything = fanout.subscribe_detections(["cam-a"], DetectionFilter(include_empty=True))
        await eventually(lambda: cam.long_polls_in_flight == 1, "the detection loop to poll")
        await cam.publish_batch(make_detections(1, "car", 0.9))
        await cam.publish_batch(make_detections(2, "person", 0.3) + make_detections(1, "person", 0.8))
        await cam.publish_batch(())
        item = (await take(people, 1))[0]
        assert item.batch.sequence == 2 and [d.confidence for d in item.batch.detections] == [pytest.approx(0.8)]
        assert [i.batch.sequence for i in await take(everything, 3)] == [1, 2, 3], "include_empty keeps all"
        assert not people._queue, "batches without matches are not queued"
        await fanout.close()

    run(test)


def test_removed_camera_ends_named_streams_but_not_all_camera_streams() -> None:
    async def test() -> None:
        control, fanout = setup()
        frames = fanout.subscribe_frames(FrameKey("cam-a"))
        named = fanout.subscribe_detections(["cam-a"])
        everything = fanout.subscribe_detections(["cam-a", "cam-b"], follow_all=True)
        await eventually(lambda: control.cameras["cam-a"].long_polls_in_flight == 2, "polls")
        await control.remove_camera("cam-a")
        for sub in (frames, named):
            with pytest.raises(StreamClosed) as closed:
                await asyncio.wait_for(sub.next(), 5)
            assert closed.value.kind is CloseKind.CAMERA_REMOVED and "cam-a" in closed.value.message
        await eventually(lambda: everything.cameras == ("cam-b",), "cam-a to drop out of the all-camera stream")
        await control.cameras["cam-b"].publish_batch()
        assert (await take(everything, 1))[0].batch.camera_id == "cam-b"
        await fanout.close()

    run(test)


def test_unavailable_camera_is_retried_until_it_comes_back() -> None:
    async def test() -> None:
        control, fanout = setup()
        cam = control.cameras["cam-a"]
        cam.unavailable = True
        sub = fanout.subscribe_detections(["cam-a"])
        await asyncio.sleep(0.1)
        assert fanout.upstream_loops == {"cam-a": 1}, "the loop keeps trying"
        cam.unavailable = False
        await eventually(lambda: cam.long_polls_in_flight == 1, "the loop to reach the camera")
        await cam.publish_batch()
        assert (await take(sub, 1))[0].batch.sequence == 1
        await fanout.close()

    run(test)


def test_close_ends_every_subscription_with_shutdown_and_refuses_new_ones() -> None:
    async def test() -> None:
        _, fanout = setup()
        subs = [fanout.subscribe_frames(FrameKey("cam-a")), fanout.subscribe_detections(["cam-a", "cam-b"])]
        waiters = [asyncio.ensure_future(s.next()) for s in subs]
        await asyncio.sleep(0.05)
        await fanout.close("bye")
        for waiter in waiters:
            with pytest.raises(StreamClosed) as closed:
                await waiter
            assert closed.value.kind is CloseKind.SHUTDOWN
        assert fanout.upstream_loops == {}
        with pytest.raises(StreamClosed):
            fanout.subscribe_detections(["cam-a"])

    run(test)


def test_cancelling_a_waiting_consumer_and_closing_releases_the_hub() -> None:
    async def test() -> None:
        control, fanout = setup()
        sub = fanout.subscribe_detections(["cam-a"])

        async def consume() -> None:
            try:
                while True:
                    await sub.next()
            finally:
                sub.close()

        task = asyncio.ensure_future(consume())
        await eventually(lambda: control.cameras["cam-a"].long_polls_in_flight == 1, "polls")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await fanout.wait_idle()
        assert fanout.upstream_loops == {} and fanout.subscription_count == 0
        await eventually(lambda: control.long_polls_in_flight() == 0, "the upstream poll to be cancelled")

    run(test)


def test_a_frozen_camera_stalls_only_its_own_hubs_which_retry_until_it_thaws() -> None:
    async def test() -> None:
        control, fanout = setup()
        frozen, other = control.cameras["cam-a"], control.cameras["cam-b"]
        frozen_frames = fanout.subscribe_frames(FrameKey("cam-a"))
        other_frames = fanout.subscribe_frames(FrameKey("cam-b"))
        frozen_detections = fanout.subscribe_detections(["cam-a"])
        other_detections = fanout.subscribe_detections(["cam-b"])
        await eventually(lambda: frozen.long_polls_in_flight == 2 and other.long_polls_in_flight == 2, "all polls")
        frozen.freeze()
        await eventually(lambda: frozen.frozen_calls >= 4, "the frozen camera's hubs to time out and call again")
        for _ in range(3):
            await other.publish_batch()
            await other.publish_frame()
            await hub_caught_up(fanout, other_frames.key, other)
        assert [i.batch.sequence for i in await take(other_detections, 3)] == [1, 2, 3], "cam-b detections flow"
        newest = (await take(other_frames, 2))[-1].frame  # the queue keeps the newest two
        assert newest.frame_sequence == other.frame_sequence, "cam-b frames flow"
        assert frozen_frames.closed is None and frozen_detections.closed is None, "frozen streams stay open"
        frozen.thaw()
        await frozen.publish_batch()
        await frozen.publish_frame()
        assert (await take(frozen_detections, 1))[0].batch.sequence == 1, "cam-a detections flow after the thaw"
        assert (await take(frozen_frames, 1))[0].frame.frame_sequence == frozen.frame_sequence, "and its frames"
        await fanout.close()

    run(test)
