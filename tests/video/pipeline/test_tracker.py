"""Tracker on synthetic detections."""

from __future__ import annotations

from cluster.config import TrackerConfig
from cluster.domain import Box, Detection
from cluster.video.pipeline import Tracker


def car(x: float, y: float = 0.4, size: float = 0.2) -> Detection:
    return Detection(2, "car", 0.8, Box(x, y, size, size))


def person(x: float, y: float = 0.4, size: float = 0.2) -> Detection:
    return Detection(0, "person", 0.8, Box(x, y, size, size))


def ids(detections: tuple[Detection, ...]) -> list[int | None]:
    return [d.track_id for d in detections]


def test_ids_start_at_one_and_follow_input_order() -> None:
    tracker = Tracker(TrackerConfig())
    assert ids(tracker.update([car(0.1), car(0.6)], 0.0)) == [1, 2]


def test_moving_object_keeps_its_id() -> None:
    tracker = Tracker(TrackerConfig())
    seen = [ids(tracker.update([car(0.1 + 0.03 * i)], i * 0.1)) for i in range(10)]
    assert seen == [[1]] * 10, f"a slowly moving car changed id: {seen}"


def test_gap_shorter_than_max_age_is_bridged() -> None:
    tracker = Tracker(TrackerConfig(max_age_s=1.0))
    tracker.update([car(0.1)], 0.0)
    for t in (0.2, 0.4, 0.6, 0.8):
        tracker.update([], t)  # detector missed the car
    assert ids(tracker.update([car(0.12)], 1.0)) == [1], "a 1 s miss with max_age 1 s must keep the id"


def test_track_older_than_max_age_expires_and_its_id_is_not_reused() -> None:
    tracker = Tracker(TrackerConfig(max_age_s=1.0))
    tracker.update([car(0.1)], 0.0)
    tracker.update([car(0.6)], 0.5)  # a second car, id 2
    assert ids(tracker.update([car(0.1)], 1.01)) == [3], "the first car's track should have expired"
    assert [t.track_id for t in tracker.tracks] == [2, 3], "track 1 dropped, 2 still within max age"


def test_per_class_keeps_classes_apart() -> None:
    tracker = Tracker(TrackerConfig(per_class=True))
    tracker.update([car(0.3)], 0.0)
    assert ids(tracker.update([person(0.3)], 0.1)) == [2], "a person on the car's box must not take its id"


def test_without_per_class_a_relabelled_object_keeps_its_id() -> None:
    tracker = Tracker(TrackerConfig(per_class=False))
    tracker.update([car(0.3)], 0.0)
    assert ids(tracker.update([person(0.3)], 0.1)) == [1], "class flicker should not split the track"


def test_box_below_iou_threshold_starts_a_new_track() -> None:
    tracker = Tracker(TrackerConfig(iou_threshold=0.5))
    tracker.update([car(0.1)], 0.0)
    # shifted by 0.1 of 0.2 wide: IoU = 0.1 / 0.3 = 0.33 < 0.5
    assert ids(tracker.update([car(0.2)], 0.1)) == [2]


def test_greedy_gives_each_track_its_best_match() -> None:
    tracker = Tracker(TrackerConfig())
    tracker.update([car(0.10), car(0.25)], 0.0)  # overlapping neighbours, ids 1 and 2
    assert ids(tracker.update([car(0.26), car(0.11)], 0.1)) == [2, 1], "ids swapped between neighbours"


def test_two_detections_never_share_a_track() -> None:
    tracker = Tracker(TrackerConfig())
    tracker.update([car(0.3)], 0.0)
    assert ids(tracker.update([car(0.31), car(0.29)], 0.1)) in ([1, 2], [2, 1])


def test_centroid_method_matches_within_max_distance() -> None:
    tracker = Tracker(TrackerConfig(method="centroid", max_distance=0.1))
    tracker.update([car(0.1, size=0.05)], 0.0)
    # boxes no longer overlap (IoU 0) but the centre moved 0.08 / sqrt(2) = 0.057 of the diagonal
    assert ids(tracker.update([car(0.18, size=0.05)], 0.1)) == [1]
    # a jump of 0.3 / sqrt(2) = 0.21 of the diagonal is another object
    assert ids(tracker.update([car(0.48, size=0.05)], 0.2)) == [2]


def test_track_ages_follow_the_given_timestamps() -> None:
    tracker = Tracker(TrackerConfig(max_age_s=1.0))
    tracker.update([car(0.1)], 0.0)
    assert ids(tracker.update([car(0.1)], 5.0)) == [2], "5 s later in media time the track should be gone"
