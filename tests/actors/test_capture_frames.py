"""CaptureLoop hands frames on by media time: due frames to the analysis, requested
ones to readers, every decoded frame through the frame hook."""

from __future__ import annotations

import pytest

from cluster.domain import CameraState
from tests.actors.conftest import wait_until


def test_frames_are_due_by_media_time_not_by_how_fast_they_arrive(make_loop, car_clip):
    # Unpaced: the whole 30 s clip is grabbed in well under a second of wall time.
    loop, log = make_loop(car_clip, realtime=False, loop=False, retrieve_fps=5)

    log.wait_for(CameraState.STOPPED, 30)

    footage_s = 376 / 12.5  # pts of the last of the 377 frames
    decoded = loop.stats().frames_decoded
    assert abs(decoded - 5 * footage_s) <= 2, f"{decoded} frames due in {footage_s} s of footage at 5 fps"


def test_decoded_frames_carry_the_media_time_of_the_file(make_loop, car_clip):
    loop, _log = make_loop(car_clip, realtime=False, loop=False, retrieve_fps=None)
    frames = []
    while len(frames) < 5:
        frame = loop.wait_frame(frames[-1].sequence if frames else 0, timeout=10)
        assert frame is not None, f"frames stopped coming; state {loop.state()}"
        frames.append(frame)

    for frame in frames:
        # Frame n (from 1) of a 12.5 fps file is at (n - 1) * 0.08 s of footage.
        assert frame.pts == pytest.approx((frame.sequence - 1) * 0.08), f"frame {frame.sequence} at pts {frame.pts}"


def test_requested_frames_reach_readers_but_not_the_due_slot(make_loop, car_clip):
    loop, _log = make_loop(car_clip, realtime=True, loop=True, retrieve_fps=0)
    wait_until(lambda: loop.stats().frames_received >= 3, 10, "no frames")

    loop.request_frame()
    requested = loop.wait_frame(0, timeout=10)

    assert requested is not None, f"no frame after request_frame(); state {loop.state()}"
    assert loop.wait_due(0, timeout=0.5) is None, "with nothing due, the analysis must get no frame"


def test_due_frames_reach_the_due_slot(make_loop, car_clip):
    loop, _log = make_loop(car_clip, realtime=True, loop=True, retrieve_fps=5)

    first = loop.wait_due(0, timeout=10)
    second = loop.wait_due(first.sequence if first else 0, timeout=10)

    assert first is not None and second is not None, f"no due frames; state {loop.state()}"
    assert second.pts > first.pts, f"due frames must move forward in media time: {first.pts}, {second.pts}"


class Paint:
    """A frame hook that paints the whole image one grey level, in place."""

    def __init__(self, level: int) -> None:
        self.level = level

    def apply(self, frame):
        frame.image[:] = self.level
        return frame


def test_the_frame_hook_is_applied_to_every_decoded_frame(make_loop, car_clip):
    loop, _log = make_loop(car_clip, realtime=True, loop=True, retrieve_fps=5, frame_hook=Paint(7))

    due = loop.wait_due(0, timeout=10)
    loop.request_frame()
    requested = loop.wait_frame(due.sequence if due else 0, timeout=10)

    assert due is not None and requested is not None, f"no frames; state {loop.state()}"
    assert (due.image == 7).all() and (requested.image == 7).all(), "a consumer saw an unhooked image"
    assert not requested.image.flags.writeable, "a hooked frame is shared: it must be read-only"


def test_a_new_frame_hook_applies_from_the_next_frame(make_loop, car_clip):
    loop, _log = make_loop(car_clip, realtime=True, loop=True, retrieve_fps=5, frame_hook=Paint(7))
    before = loop.wait_due(0, timeout=10)
    assert before is not None and (before.image == 7).all(), "the first hook was not applied"

    loop.set_frame_hook(Paint(200))
    after = wait_until(
        lambda: (
            (frame := loop.wait_due(before.sequence, timeout=1)) is not None and frame.image[0, 0, 0] == 200 and frame
        ),
        10,
        "no frame with the new hook",
    )

    assert (after.image == 200).all(), "the new hook must apply to the whole frame"
