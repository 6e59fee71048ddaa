"""The pass clock: wall times from the stream's clock anchored to the earliest arrival."""

from __future__ import annotations

import pytest

from cluster.recordings.clock import MAX_DRIFT_S, PassClock

T = 1_795_210_800.0


def test_a_late_burst_at_the_start_does_not_move_the_pictures_later() -> None:
    clock = PassClock.for_rate(10.0)
    # FFmpeg hands over the first second of stream at once, 1.2 s after it was sent ...
    first = [clock.place(i / 10, T + 1.2 + i * 0.001) for i in range(10)]
    # ... then pictures arrive as they are taken, 0.05 s after.
    later = [clock.place(1.0 + i / 10, T + 1.05 + i / 10) for i in range(10)]
    assert later[0] == pytest.approx(T + 1.05), "on time pictures are placed at their arrival"
    assert clock.anchor == pytest.approx(T + 0.05), "the anchor is the earliest arrival minus stream time"
    assert first[0] == pytest.approx(T + 1.2), "before the clock knew better, the burst was placed late"


def test_segment_bounds_use_the_final_anchor_so_length_is_playing_time() -> None:
    clock = PassClock.for_rate(10.0)
    clock.place(0.0, T + 1.0)  # late: anchor T + 1.0
    clock.written(0.0)
    for i in range(1, 30):
        clock.place(i / 10, T + 0.2 + i / 10)  # on time from now: the anchor drops to T + 0.2
        clock.written(i / 10)
    start, end = clock.segment_bounds(T + 1.0, None, T + 99)
    assert (start - T, end - T) == pytest.approx((0.2, 3.2)), "first picture at 0.2, a period after the last"
    assert end - start == pytest.approx(3.0), "the recorded length is the 30 pictures' playing time"


def test_a_segment_cut_for_its_length_hands_its_end_to_the_next() -> None:
    clock = PassClock.for_rate(10.0)
    clock.place(0.0, T)
    clock.written(0.0)
    clock.segment_finished(T + 2.0)
    clock.segment_started()
    clock.place(2.0, T + 1.99)  # jitter: the anchor moves a little earlier
    clock.written(2.0)
    start, _ = clock.segment_bounds(T + 2.0, None, T + 9)
    assert start == T + 2.0, "the next segment starts exactly where the previous ended"


def test_clocks_that_part_too_far_have_drifted() -> None:
    clock = PassClock.for_rate(10.0)
    clock.place(5.0, T)
    assert not clock.drifted(6.0, T + 1.0 + MAX_DRIFT_S - 0.1), "a late packet within the limit"
    assert clock.drifted(6.0, T + 1.0 + MAX_DRIFT_S + 0.1), "the camera's clock runs slow"
    assert clock.drifted(100.0, T + 1.0), "the stream's timestamps jumped"
    clock.place(100.0, T + 1.0)
    assert clock.place(100.1, T + 1.1) == pytest.approx(T + 1.1), "a new anchor after a jump"
