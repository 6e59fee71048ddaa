"""MediaTimeline: the rule that makes Frame.pts continuous (fed readings, no source)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.video.media_time import MIN_STEP_S, MediaTimeline

PERIOD = 0.08  # a 12.5 fps file


def feed(
    timeline: MediaTimeline,
    raws: list[float | None],
    *,
    period: float | None = PERIOD,
    arrivals: list[float] | None = None,
) -> list[float]:
    arrivals = arrivals if arrivals is not None else [0.0] * len(raws)
    return [timeline.advance(raw, frame_period=period, now=now) for raw, now in zip(raws, arrivals, strict=True)]


def test_first_frame_is_at_zero_whatever_the_stream_says() -> None:
    assert feed(MediaTimeline(), [3600.0]) == [0.0], "media time starts with the first frame seen"


def test_stream_timestamps_are_followed_exactly() -> None:
    pts = feed(MediaTimeline(), [10.0, 10.08, 10.17, 10.25])
    assert pts == pytest.approx([0.0, 0.08, 0.17, 0.25]), f"the footage's own timing must be kept: {pts}"


def test_a_loop_continues_one_frame_period_after_the_last_frame() -> None:
    timeline = MediaTimeline()
    first_pass = feed(timeline, [0.0, 0.08, 0.16])
    timeline.new_pass()
    second_pass = feed(timeline, [0.0, 0.08])
    assert second_pass == pytest.approx([first_pass[-1] + PERIOD, first_pass[-1] + 2 * PERIOD]), (
        f"after a loop pts must go on, not restart: {first_pass} then {second_pass}"
    )


def test_a_reconnect_of_a_network_source_moves_on_by_the_time_away() -> None:
    timeline = MediaTimeline()
    feed(timeline, [5.0, 5.1], period=None, arrivals=[100.0, 100.1])
    timeline.new_pass()
    [after] = feed(timeline, [0.0], period=None, arrivals=[112.1])
    assert after == pytest.approx(0.1 + 12.0), f"12 s away should move media time 12 s on, got {after}"


def test_a_timestamp_that_stands_still_or_goes_back_falls_back_to_the_step() -> None:
    pts = feed(MediaTimeline(), [1.0, 1.0, 0.5, 0.6])
    assert pts == pytest.approx([0.0, PERIOD, 2 * PERIOD, 2 * PERIOD + 0.1]), f"got {pts}"


def test_no_timestamps_at_all_give_frame_count_over_fps_for_a_file() -> None:
    pts = feed(MediaTimeline(), [None, None, None])
    assert pts == pytest.approx([0.0, PERIOD, 2 * PERIOD]), f"got {pts}"


def test_no_timestamps_from_a_network_source_give_the_arrival_time() -> None:
    pts = feed(MediaTimeline(), [None, None, None], period=None, arrivals=[50.0, 50.1, 50.3])
    assert pts == pytest.approx([0.0, 0.1, 0.3]), f"got {pts}"


def test_frames_arriving_together_still_get_increasing_timestamps() -> None:
    pts = feed(MediaTimeline(), [None, None], period=None, arrivals=[7.0, 7.0])
    assert pts[1] - pts[0] == pytest.approx(MIN_STEP_S), f"got {pts}"


@pytest.mark.parametrize("raw", [float("nan"), float("inf"), -1.0])
def test_unusable_readings_are_ignored(raw: float) -> None:
    pts = feed(MediaTimeline(), [0.0, raw, 0.16])
    assert pts == pytest.approx([0.0, PERIOD, 2 * PERIOD]), f"reading {raw} gave {pts}"


reading = st.one_of(st.none(), st.floats(-10.0, 1e6), st.sampled_from([float("nan"), float("inf")]))


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.tuples(reading, st.floats(0.0, 5.0), st.booleans()), max_size=60),
    network=st.booleans(),
)
def test_media_time_never_goes_back(steps: list[tuple[float | None, float, bool]], network: bool) -> None:
    timeline = MediaTimeline()
    now, previous = 0.0, None
    for raw, waited, new_pass in steps:
        if new_pass:
            timeline.new_pass()
        now += waited
        pts = timeline.advance(raw, frame_period=None if network else PERIOD, now=now)
        assert previous is None or pts > previous, f"pts {pts} after {previous}"
        previous = pts
