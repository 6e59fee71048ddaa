"""FrameSampler / RateSchedule: which frames are due, by media time."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.video.sampler import FrameSampler, RateSchedule


def due_times(sampler: FrameSampler, times: list[float]) -> list[float]:
    return [t for t in times if sampler.due(t)]


def test_every_frame_is_due_without_a_rate() -> None:
    times = [i * 0.04 for i in range(10)]
    assert due_times(FrameSampler(None), times) == times


def test_a_lower_rate_keeps_its_average_without_drift() -> None:
    times = [i * 0.08 for i in range(12_500)]  # 1000 s of a 12.5 fps stream
    due = due_times(FrameSampler(5.0), times)
    assert abs(len(due) - 5.0 * times[-1]) <= 1, f"{len(due)} due in {times[-1]:.0f} s at 5 fps"


def test_frames_exactly_on_the_schedule_are_due() -> None:
    times = [i * 0.1 for i in range(20)]
    assert due_times(FrameSampler(2.0), times) == pytest.approx([0.0, 0.5, 1.0, 1.5]), "every 5th frame at 2 fps"


def test_no_burst_after_a_gap() -> None:
    sampler = FrameSampler(5.0)
    due_times(sampler, [i * 0.04 for i in range(25)])  # 1 s of frames
    after_gap = [10.0 + i * 0.04 for i in range(25)]  # 9 s of nothing, then 1 s more
    due = due_times(sampler, after_gap)
    assert len(due) <= 6, f"after a gap the schedule must not catch up in a burst: {due}"
    gaps = [b - a for a, b in itertools.pairwise(due)]
    assert min(gaps) >= 0.1 - 1e-9, f"due frames at most half an interval early: {due}"


def test_the_same_times_give_the_same_choice() -> None:
    times = [i * 0.083 for i in range(300)]
    assert due_times(FrameSampler(3.0), times) == due_times(FrameSampler(3.0), times)


@pytest.mark.parametrize("fps", [0.0, -1.0, float("nan")])
def test_a_rate_must_be_positive(fps: float) -> None:
    with pytest.raises(ValueError, match="fps > 0"):
        RateSchedule(fps)


@settings(max_examples=150, deadline=None)
@given(
    fps=st.floats(0.5, 30.0),
    steps=st.lists(st.floats(0.001, 2.0), min_size=1, max_size=200),
)
def test_never_more_than_the_rate_over_any_stretch(fps: float, steps: list[float]) -> None:
    times, now = [], 0.0
    for step in steps:
        now += step
        times.append(now)
    due = due_times(FrameSampler(fps), times)
    interval = 1.0 / fps
    # Any window of length L holds at most L / interval + 2 due frames (half-interval catch-up).
    for i, start in enumerate(due):
        for j in range(i, len(due)):
            span = due[j] - start
            assert j - i + 1 <= span / interval + 2, f"{j - i + 1} due within {span:.3f} s at {fps} fps"
