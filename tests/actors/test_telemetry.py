"""Cumulative histograms and counters a camera actor keeps for Prometheus."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import pytest

from cluster.actors.telemetry import (
    LATENCY_BUCKETS,
    MAX_CLASSES,
    OTHER_CLASS,
    RECONNECT_REASONS,
    CameraMeters,
    CumulativeHistogram,
    reconnect_reason,
)
from cluster.domain import CameraState


@dataclass
class Det:
    class_name: str


def test_histogram_puts_a_value_equal_to_a_bound_in_that_bucket():
    h = CumulativeHistogram((0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 1.0, 7.0):
        h.observe(value)
    snap = h.snapshot()
    assert snap.counts == (2, 2, 1), f"buckets are le (<=) bounds plus +Inf, got {snap.counts}"
    assert snap.count == 5
    assert snap.total == pytest.approx(8.65)
    assert snap.cumulative() == [(0.1, 2), (1.0, 4), (float("inf"), 5)]


def test_histogram_needs_bounds():
    with pytest.raises(ValueError, match="at least one bucket"):
        CumulativeHistogram(())


def test_observe_analysis_fills_stage_and_latency_histograms_and_class_counts():
    meters = CameraMeters()
    meters.observe_analysis({"motion": 0.002, "tracker": 0.0001}, [Det("person"), Det("person"), Det("car")], 0.3)
    meters.observe_analysis({"motion": 0.003}, [Det("car")], 0.2)
    snap = meters.snapshot()
    assert snap.stage_seconds["motion"].count == 2
    assert snap.stage_seconds["tracker"].count == 1
    assert snap.capture_to_publish_seconds.count == 2
    assert snap.capture_to_publish_seconds.bounds == LATENCY_BUCKETS
    assert snap.detections_by_class == {"person": 2, "car": 2}


def test_classes_beyond_the_cap_are_counted_as_other():
    meters = CameraMeters()
    meters.observe_analysis({}, [Det(f"class-{i}") for i in range(MAX_CLASSES + 5)], 0.1)
    classes = meters.snapshot().detections_by_class
    assert len(classes) == MAX_CLASSES + 1, "the class label must stay bounded"
    assert classes[OTHER_CLASS] == 5


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("unreachable: connection refused; retrying in 0.5 s", "unreachable"),
        ("stalled: no frame for 10.0 s since the last frame from x; retrying in 1.0 s", "stalled"),
        ("read failed: broken pipe; retrying in 2.0 s", "stream_error"),
    ],
)
def test_reconnect_reasons_map_to_a_fixed_set(reason, label):
    assert reconnect_reason(reason) == label


def test_only_entries_into_reconnecting_are_counted():
    meters = CameraMeters()
    assert meters.snapshot().reconnects_by_reason == dict.fromkeys(RECONNECT_REASONS, 0), (
        "every reason must be exported at 0 before the first reconnect"
    )
    meters.on_capture_state(CameraState.CONNECTING, "opening x")
    meters.on_capture_state(CameraState.RECONNECTING, "unreachable: refused; retrying in 0.5 s")
    meters.on_capture_state(CameraState.STALLED, "stalled: no frame")
    meters.on_capture_state(CameraState.RECONNECTING, "stalled: no frame for 10 s; retrying in 1 s")
    meters.on_capture_state(CameraState.RECONNECTING, "unreachable: refused; retrying in 1 s")
    assert meters.snapshot().reconnects_by_reason == {"unreachable": 2, "stalled": 1, "stream_error": 0}


class FakeSource:
    description = "fake"

    def __init__(self, clock):
        self.clock = clock
        self.released = False

    def retrieve(self):
        self.clock.now += 0.004  # decoding takes 4 ms
        return "image"

    def release(self):
        self.released = True


class StepClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_timed_opener_times_each_retrieve_as_decode_and_delegates_the_rest():
    clock = StepClock()
    meters = CameraMeters(clock=clock)
    opened = []

    def opener(config, **kwargs):
        opened.append((config, kwargs))
        return FakeSource(clock)

    source = meters.timed_opener(opener)("config", sleep=None)
    assert opened == [("config", {"sleep": None})], "the opener must get the capture loop's arguments"
    assert source.retrieve() == "image" and source.retrieve() == "image"
    assert source.description == "fake"
    source.release()
    assert source.released
    decode = meters.snapshot().stage_seconds["decode"]
    assert decode.count == 2
    assert decode.total == pytest.approx(0.008)


def test_a_snapshot_is_a_frozen_copy_that_pickles():
    meters = CameraMeters()
    meters.observe_analysis({"motion": 0.001}, [Det("person")], 0.1)
    snap = meters.snapshot()
    meters.observe_analysis({"motion": 0.001}, [Det("person")], 0.1)
    assert snap.detections_by_class == {"person": 1}, "later frames must not change an earlier snapshot"
    assert pickle.loads(pickle.dumps(snap)) == snap, "snapshots cross Ray's process boundary"
