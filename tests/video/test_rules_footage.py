"""Rules on real footage, through the file driver (the same video core the live camera runs).

Counted by hand once (frames saved with OpenCV and looked at), `car-detection.mp4`
(overhead road, 30 s): four cars pass the middle of the view, two driving up the
picture (a white car at 4-9 s, a red one at 15-19 s) and two driving down (a
silver car at 15-18 s, a white one at 25-28 s). The exposure jumps while the
first white car comes in (5-6 s: the motion stage sees the whole frame move for
about a second), which is why the test allows one miss per direction.

`person-bicycle-car-detection.gif` (parking lot, 3.3 s) with Yolo-Fastest-xl at
416: a person walks out of view at the top during the first second; a car drives
up into the parking bays and is still there when the clip ends; a cyclist rides
at the top right.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.config import CameraConfig
from cluster.domain import Direction, Event, EventType
from cluster.video.file_driver import analyse_camera_file

pytestmark = pytest.mark.slow

HAND_COUNT = {Direction.A_TO_B: 2, Direction.B_TO_A: 2}  # down the picture, up the picture
TOLERANCE = 1  # per direction: the exposure jump can hide one car from the motion stage


def events_of(run) -> list[Event]:
    return [event for _, result in run for event in result.events]


def test_a_line_across_the_road_counts_the_cars_in_each_direction(car_clip: Path) -> None:
    camera = CameraConfig.model_validate(
        {
            "id": "road",
            "source": {"url": str(car_clip)},
            "rules": {"lines": [{"name": "middle", "start": [0.0, 0.5], "end": [1.0, 0.5]}]},
        }
    )
    crossings = [e for e in events_of(analyse_camera_file(camera)) if e.type is EventType.LINE_CROSSING]

    counted = {direction: sum(e.direction is direction for e in crossings) for direction in Direction}
    for direction, expected in HAND_COUNT.items():
        assert abs(counted[direction] - expected) <= TOLERANCE, (
            f"{direction.value}: counted {counted[direction]}, {expected} by hand (+/- {TOLERANCE}); "
            f"crossings at {[(round(e.start_pts, 1), e.direction) for e in crossings]}"
        )
    assert all(e.class_name == "motion" and e.track_id is not None for e in crossings), "motion-region tracks"
    assert len({e.event_id for e in crossings}) == len(crossings), "each crossing is its own event"


@pytest.fixture(scope="module")
def parking_camera(parking_lot_clip: Path, models: Path) -> CameraConfig:
    return CameraConfig.model_validate(
        {
            "id": "parking",
            "source": {"url": str(parking_lot_clip)},
            "analysis": {
                "fps": 12.5,
                "motion": {"gate_detector": False},
                "detector": {"model": str(models / "yolo-fastest-1.1-xl.cfg"), "input_size": 416, "max_fps": 12.5},
                "tracker": {"max_age_s": 1.0},
            },
            "rules": {
                "zones": [
                    {
                        "name": "bays",
                        # The painted bays across the top of the view and the lane below them.
                        "polygon": [[0.0, 0.0], [1.0, 0.0], [1.0, 0.45], [0.0, 0.7]],
                        "inertia": 2,
                        "loitering_s": 1.0,
                        "filters": {"classes": ["car", "person"]},
                    }
                ]
            },
        }
    )


def test_a_zone_around_the_parking_bays_gives_enter_leave_pairs_and_loitering(parking_camera) -> None:
    events = events_of(analyse_camera_file(parking_camera))

    def pairs(cls: str) -> list[tuple[Event, Event]]:
        enters = {e.track_id: e for e in events if e.type is EventType.ZONE_ENTER and e.class_name == cls}
        leaves = {e.track_id: e for e in events if e.type is EventType.ZONE_LEAVE and e.class_name == cls}
        return [(enters[t], leaves[t]) for t in enters if t in leaves]

    for cls in ("car", "person"):
        assert pairs(cls), f"an enter and a leave of one {cls} track: {[(e.type, e.class_name) for e in events]}"
        for enter, leave in pairs(cls):
            assert leave.start_pts >= enter.start_pts and leave.dwell_s is not None and leave.dwell_s > 0
    loitering = [e for e in events if e.type is EventType.LOITERING]
    assert {e.class_name for e in loitering} == {"car"}, "the car stays past 1 s; the person walks away sooner"
    assert len({e.event_id for e in loitering}) == 1, "one loitering event for the car's stay"
    assert not loitering[-1].ongoing and loitering[0].thumbnail is not None, "ended (footage over), with a picture"
    (_person_enter, person_leave), *_ = pairs("person")
    assert person_leave.dwell_s is not None and person_leave.dwell_s < 1.0, "the walker did not stay"


def test_the_same_footage_gives_the_same_events_at_full_speed_and_in_real_time(parking_camera) -> None:
    def identity(events: list[Event]) -> list[tuple]:
        return [(e.event_id, e.type, e.revision, e.start_pts, e.end_pts, e.track_id, e.dwell_s) for e in events]

    fast = identity(events_of(analyse_camera_file(parking_camera)))
    paced = identity(events_of(analyse_camera_file(parking_camera, realtime=True)))

    assert fast and fast == paced, "events (ids, revisions, media times, dwell) must not depend on playback speed"


def test_a_batch_job_gets_its_own_event_ids_and_the_footage_times(parking_camera) -> None:
    live_like = events_of(analyse_camera_file(parking_camera))
    job = events_of(analyse_camera_file(parking_camera, job_id="job-7", footage_start=1_767_203_600.0))

    assert [e.start_pts for e in job] == [e.start_pts for e in live_like], "same events"
    assert not {e.event_id for e in job} & {e.event_id for e in live_like}, "a job's events never collide"
    assert all(e.job_id == "job-7" for e in job)
    assert all(e.start_time == pytest.approx(1_767_203_600.0 + e.start_pts) for e in job), "footage wall time"
