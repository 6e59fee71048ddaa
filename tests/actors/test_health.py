"""Stream health events from capture state changes, on a clock the test turns."""

from __future__ import annotations

import pytest

from cluster.actors.health import STREAM_RULE, StreamHealth
from cluster.config import HealthConfig
from cluster.domain import CameraState, Event, EventType
from cluster.video.emitter import EventEmitter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def watch():
    clock, published = Clock(), []
    pts = {"value": 0.0}

    def make(after_s: float = 10.0) -> StreamHealth:
        return StreamHealth(
            HealthConfig(stream_lost_after_s=after_s),
            EventEmitter("cam", pts_origin=1_000_000.0),
            publish=published.extend,
            last_pts=lambda: pts["value"],
            clock=clock,
            wall_clock=lambda: clock.now + 1_700_000_000.0,
        )

    make.clock, make.published, make.pts = clock, published, pts
    return make


def live_then_lost(health: StreamHealth, watch, lost_reason: str = "unreachable: connection refused") -> None:
    health.on_state(CameraState.CONNECTING, "opening")
    health.on_state(CameraState.LIVE, "receiving frames")
    watch.pts["value"] = 42.0
    health.on_state(CameraState.RECONNECTING, lost_reason)


def test_an_outage_longer_than_the_threshold_is_one_event_ending_when_live_again(watch) -> None:
    health = watch(after_s=10.0)
    live_then_lost(health, watch)
    watch.clock.now += 9.0
    health.tick()
    assert watch.published == [], "not yet: 9 s of a 10 s threshold"
    watch.clock.now += 2.0
    health.tick()
    health.tick()
    watch.clock.now += 30.0
    health.on_state(CameraState.LIVE, "receiving frames")

    start, end = watch.published
    assert (start.type, start.rule, start.revision, start.ongoing) == (EventType.STREAM_LOST, STREAM_RULE, 0, True)
    assert start.start_pts == 1_000_042.0, "dated at the last frame before the outage, on the run's time axis"
    assert start.start_time == pytest.approx(1_700_000_100.0), "when the stream went away, not when reported"
    assert (end.event_id, end.revision, end.ongoing) == (start.event_id, 1, False)
    assert end.end_time == pytest.approx(1_700_000_141.0), "ends when the camera is live again"


def test_a_short_outage_makes_no_event(watch) -> None:
    health = watch(after_s=10.0)
    live_then_lost(health, watch)
    watch.clock.now += 3.0
    health.on_state(CameraState.LIVE, "receiving frames")
    watch.clock.now += 60.0
    health.tick()
    assert watch.published == []


def test_an_outage_that_began_with_a_stall_is_a_stalled_stream(watch) -> None:
    health = watch(after_s=1.0)
    health.on_state(CameraState.LIVE, "receiving frames")
    health.on_state(CameraState.STALLED, "stalled: no frame for 5.0 s")
    health.on_state(CameraState.RECONNECTING, "stalled: no frame for 5.0 s; retrying in 0.5 s")
    health.on_state(CameraState.RECONNECTING, "unreachable: refused; retrying in 1.0 s")
    watch.clock.now += 2.0
    health.tick()
    assert [e.type for e in watch.published] == [EventType.STREAM_STALLED], "how the outage began decides"


def test_a_camera_that_never_goes_live_is_reported(watch) -> None:
    health = watch(after_s=5.0)
    health.on_state(CameraState.CONNECTING, "opening")
    health.on_state(CameraState.RECONNECTING, "unreachable: no route to host")
    watch.clock.now += 6.0
    health.tick()
    assert [(e.type, e.start_pts) for e in watch.published] == [(EventType.STREAM_LOST, 1_000_000.0)]


def test_stopping_on_purpose_ends_the_open_event_and_starts_none(watch) -> None:
    health = watch(after_s=1.0)
    live_then_lost(health, watch)
    watch.clock.now += 2.0
    health.tick()
    health.stop()
    watch.clock.now += 60.0
    health.tick()
    events: list[Event] = watch.published
    assert [(e.revision, e.ongoing) for e in events] == [(0, True), (1, False)]
