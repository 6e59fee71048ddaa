"""AdaptiveRate: the guarantees written in cluster/video/rate_control.py, on generated
windows (hypothesis), and cameras sharing one short node degrading evenly."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.video.rate_control import (
    MAX_WINDOW_S,
    MIN_DUE,
    WINDOW_S,
    AdaptiveRate,
    windows_to_floor,
    windows_to_full,
)

rates = st.tuples(st.floats(0.5, 30.0), st.floats(0.05, 0.95)).map(lambda t: (t[0], t[0] * t[1]))
# One window: how many frames were due and the share of them the analysis finished.
windows = st.lists(st.tuples(st.integers(0, 200), st.floats(0.0, 1.0)), max_size=60)


class Feed:
    """Drives one controller window by window with cumulative counters, as the camera does;
    the footage advances in real time unless a window says otherwise."""

    def __init__(self, controller: AdaptiveRate, now: float = 100.0) -> None:
        self.controller, self.now, self.due, self.analysed, self.media = controller, now, 0, 0, 0.0
        controller.observe(now, 0, 0, self.media)

    def window(self, due: int, share: float, footage_s: float = WINDOW_S) -> float | None:
        self.now += WINDOW_S
        self.due += due
        self.analysed += round(due * share)
        self.media += footage_s
        return self.controller.observe(self.now, self.due, self.analysed, self.media)

    def at_rate(self, share: float) -> float | None:
        """A window of the frames due at the controller's current rate."""
        return self.window(max(MIN_DUE, round(self.controller.rate * WINDOW_S)), share)


@given(rates, windows)
def test_the_rate_stays_within_the_floor_and_the_full_rate(rate, seen):
    fps, floor = rate
    feed = Feed(AdaptiveRate(fps, floor, 0.0))
    for due, share in seen:
        feed.window(due, share)
        assert floor - 1e-9 <= feed.controller.rate <= fps + 1e-9, (
            f"rate {feed.controller.rate} outside [{floor}, {fps}]"
        )


@given(rates, st.lists(st.integers(MIN_DUE, 200), max_size=40))
def test_a_camera_that_keeps_up_stays_at_its_full_rate(rate, dues):
    fps, floor = rate
    feed = Feed(AdaptiveRate(fps, floor, 0.0))
    for due in dues:
        assert feed.window(due, 1.0) is None, "a camera analysing every due frame changed its rate"
    assert feed.controller.rate == fps and not feed.controller.degraded, "never behind, yet lowered"


@given(rates)
def test_a_camera_always_behind_reaches_its_floor_and_comes_back_when_it_keeps_up(rate):
    fps, floor = rate
    feed = Feed(AdaptiveRate(fps, floor, 0.0))
    for _ in range(windows_to_floor()):
        feed.at_rate(0.3)
    assert feed.controller.rate == pytest.approx(floor), f"{windows_to_floor()} windows behind did not reach the floor"
    for _ in range(windows_to_full()):
        feed.at_rate(1.0)
    assert feed.controller.rate == fps, f"{windows_to_full()} windows kept up did not return to the full rate"


@given(rates, windows)
def test_two_cameras_fed_the_same_windows_have_the_same_level(rate, seen):
    fps, floor = rate
    first, second = Feed(AdaptiveRate(fps, floor, 0.0)), Feed(AdaptiveRate(fps * 2, floor, 0.0))
    for due, share in seen:
        first.window(due, share)
        second.window(due, share)
    assert first.controller.level == second.controller.level, "the same shortage degraded two cameras unevenly"


def test_a_capture_that_falls_behind_real_time_lowers_the_rate_even_when_the_analysis_keeps_up():
    feed = Feed(AdaptiveRate(5.0, 1.0, 0.0))
    assert feed.window(10, 1.0, footage_s=WINDOW_S * 0.5) is not None, "decoding at half real time is behind"
    assert feed.controller.degraded, "a camera whose decoder is starved lowers its analysis to leave it CPU"


def test_footage_ahead_of_real_time_keeps_up():
    feed = Feed(AdaptiveRate(5.0, 1.0, 0.0))
    for _ in range(5):
        assert feed.window(10, 1.0, footage_s=WINDOW_S * 3) is None, "a reconnect's jump or a fast file is not behind"
    assert not feed.controller.degraded


def test_without_a_floor_the_rate_never_moves():
    feed = Feed(AdaptiveRate(5.0, None, 0.0))
    for _ in range(20):
        assert feed.window(10, 0.1) is None, "a camera without min_fps lowered its rate"
    assert feed.controller.rate == 5.0 and not feed.controller.adaptive


def test_a_window_waits_for_enough_due_frames_until_its_longest():
    controller = AdaptiveRate(2.0, 0.2, 0.0)
    controller.observe(0.0, 0, 0)
    assert controller.observe(WINDOW_S + 0.1, MIN_DUE - 1, 0) is None, "decided on too few frames"
    assert controller.observe(MAX_WINDOW_S + 0.1, MIN_DUE - 1, 0) is not None, "no decision by the longest window"


def test_a_window_with_nothing_due_changes_nothing():
    feed = Feed(AdaptiveRate(5.0, 1.0, 0.0))
    for _ in range(10):
        feed.now += MAX_WINDOW_S
        assert feed.controller.observe(feed.now, 0, 0) is None, "a stalled source was taken for a starved one"
    assert feed.controller.rate == 5.0


def test_restarted_counters_open_a_new_window_instead_of_a_negative_one():
    controller = AdaptiveRate(5.0, 1.0, 0.0)
    controller.observe(0.0, 100, 100)
    assert controller.observe(5.0, 3, 0) is None, "counters that went back were read as a window"
    assert controller.rate == 5.0


def test_fps_must_be_positive():
    with pytest.raises(ValueError, match="fps > 0"):
        AdaptiveRate(0.0, None, 0.0)


@dataclass
class SimulatedCamera:
    """A camera on the simulated node: CPU per second to decode, CPU per analysed frame."""

    feed: Feed
    decode_cores: float
    seconds_per_frame: float

    def demand(self) -> float:
        return self.decode_cores + self.feed.controller.rate * self.seconds_per_frame


def simulate(cameras: list[SimulatedCamera], cores: float, windows: int) -> list[float]:
    """Each window the node gives every camera the same share of what it demands (an
    overloaded scheduler), and a camera analyses that share of its due frames; returns
    the node's total demand per window."""
    totals = []
    for _ in range(windows):
        total = sum(camera.demand() for camera in cameras)
        share = min(1.0, cores / total)
        for camera in cameras:
            camera.feed.at_rate(share)
        totals.append(total)
    return totals


@given(st.lists(st.tuples(st.floats(0.002, 0.02), st.floats(0.01, 0.1)), min_size=4, max_size=96))
def test_cameras_on_a_short_node_degrade_evenly_and_fit_it(profiles):
    cameras = [SimulatedCamera(Feed(AdaptiveRate(10.0, 1.0, 0.0)), decode, per_frame) for decode, per_frame in profiles]
    floors = sum(decode + 1.0 * per_frame for decode, per_frame in profiles)
    full = sum(decode + 10.0 * per_frame for decode, per_frame in profiles)
    cores = floors + (full - floors) * 0.4  # the floors fit, the full rates do not
    totals = simulate(cameras, cores, 80)
    levels = {round(camera.feed.controller.level, 9) for camera in cameras}
    assert len(levels) == 1, f"cameras on one node ended at different levels {sorted(levels)}"
    recent = totals[-30:]
    assert sum(recent) / len(recent) <= cores * 1.1, f"the node stays over: mean demand {recent} of {cores:.3f} cores"
    assert max(recent) >= cores * 0.6, f"the cameras gave up far more than the shortage asked: {recent} of {cores:.3f}"
