"""The file driver over part of a file (what a batch segment runs): `start_pts` and `stop()`."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.config import CameraConfig
from cluster.video.file_driver import analyse_camera_file
from cluster.video.media_time import MediaTimeline
from cluster.video.sampler import FrameSampler

pytestmark = pytest.mark.slow

KEYFRAME_S = 9.6  # the third keyframe of car-detection.mp4 (one every 4.8 s)
RULES = {
    "lines": [{"name": "middle", "start": [0.0, 0.5], "end": [1.0, 0.5]}],
    # Loitering events stay open while the object is in view: some are open at the stop.
    "zones": [{"name": "view", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]], "inertia": 1, "loitering_s": 0.5}],
}


def road(car_clip: Path) -> CameraConfig:
    return CameraConfig.model_validate({"id": "road", "source": {"url": str(car_clip)}, "rules": RULES})


def test_a_run_from_a_keyframe_analyses_the_frames_a_whole_run_analyses_with_their_pts(car_clip: Path) -> None:
    whole = [frame.pts for frame, _ in analyse_camera_file(road(car_clip))]
    part = [frame.pts for frame, _ in analyse_camera_file(road(car_clip), start_pts=KEYFRAME_S)]

    assert part[0] == pytest.approx(KEYFRAME_S, abs=1e-6), "the first frame is the keyframe's, at its own pts"
    expected = [pts for pts in whole if pts >= KEYFRAME_S - 1e-6]
    assert part == pytest.approx(expected, abs=1e-6), "the same frames are due, at the same media time"


def test_stop_ends_the_run_after_the_next_frame_with_every_open_event_ended(car_clip: Path) -> None:
    run = analyse_camera_file(road(car_clip))
    seen = []
    for frame, result in run:
        seen.append((frame.pts, result))
        if frame.pts >= 16.0:  # a car is crossing the middle 15-19 s in
            run.stop()
    last_pts = seen[-1][0]

    assert 16.0 <= last_pts <= 16.0 + 2 / 5.0, f"the run ended at the next analysed frame, not at {last_pts}"
    before_last = {e.event_id: e for _, result in seen[:-1] for e in result.events}
    latest = {**before_last, **{e.event_id: e for e in seen[-1][1].events}}
    assert any(e.ongoing for e in before_last.values()), "events were open before the stop"
    assert all(not e.ongoing for e in latest.values()), "the last result ended what was open"


def test_a_timeline_can_start_part_way_and_a_sampler_resume_on_the_grid() -> None:
    timeline = MediaTimeline(start=9.6)
    assert timeline.advance(9.6, frame_period=0.08, now=0.0) == 9.6, "the first frame keeps its own time"
    assert timeline.advance(9.68, frame_period=0.08, now=0.0) == pytest.approx(9.68), "then the stream's steps"
    sampler = FrameSampler(5.0)
    sampler.resume_at(9.68)
    assert not sampler.due(9.76), "9.76 is before the next multiple of 0.2 after 9.68"
    assert sampler.due(9.84), "9.84 is the first frame at or after 9.8, as in a run from 0"
    with pytest.raises(ValueError, match="finite pts >= 0"):
        MediaTimeline(start=-1.0)
