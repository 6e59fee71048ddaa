"""Rule filters: detections by class, confidence and size; time windows in local time."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from cluster.config import RuleFilter
from cluster.domain import Box, Detection
from cluster.video.rules import DetectionFilter

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0) -> float:
    """Epoch seconds of 2026-01-{day} hour:minute in Hà Nội (2026-01-05 is a Monday)."""
    return datetime.datetime(2026, 1, day, hour, minute, tzinfo=HANOI).timestamp()


def windows(*specs: dict) -> DetectionFilter:
    return DetectionFilter(RuleFilter.model_validate({"windows": list(specs)}), HANOI)


def test_no_window_means_always_open() -> None:
    assert windows().open_at(at(5, 3)), "a rule without windows is always on"


def test_a_daytime_window() -> None:
    work = windows({"start": "08:00", "end": "17:30"})
    assert work.open_at(at(5, 8)) and work.open_at(at(5, 17, 29)), "start is inside"
    assert not work.open_at(at(5, 17, 30)) and not work.open_at(at(5, 7, 59)), "end is outside"


def test_a_window_over_midnight_belongs_to_the_day_it_opens() -> None:
    friday_night = windows({"start": "22:00", "end": "06:00", "days": ["fri"]})
    assert friday_night.open_at(at(9, 23)), "Friday 23:00"
    assert friday_night.open_at(at(10, 3)), "Saturday 03:00 is still Friday night"
    assert not friday_night.open_at(at(10, 23)), "Saturday 23:00 is another night"
    assert not friday_night.open_at(at(9, 3)), "Friday 03:00 belongs to Thursday night"


def test_several_windows_combine() -> None:
    rush = windows({"start": "07:00", "end": "09:00"}, {"start": "16:30", "end": "18:30", "days": ["mon"]})
    assert rush.open_at(at(6, 8)) and rush.open_at(at(5, 17)), "morning every day, evening on Mondays"
    assert not rush.open_at(at(6, 17)), "Tuesday evening is not in either"


@pytest.mark.parametrize(
    "detection, accepted",
    [
        (Detection(0, "person", 0.9, Box(0.1, 0.1, 0.1, 0.2)), True),
        (Detection(0, "person", 0.2, Box(0.1, 0.1, 0.1, 0.2)), False),  # not confident enough
        (Detection(2, "car", 0.9, Box(0.1, 0.1, 0.1, 0.2)), False),  # another class
        (Detection(0, "person", 0.9, Box(0.1, 0.1, 0.01, 0.01)), False),  # too small
        (Detection(0, "person", 0.9, Box(0.0, 0.0, 0.8, 0.8)), False),  # too big
    ],
)
def test_detections_are_filtered_by_class_confidence_and_area(detection: Detection, accepted: bool) -> None:
    rule_filter = DetectionFilter(
        RuleFilter(classes=["person"], min_confidence=0.5, min_area=0.001, max_area=0.5), HANOI
    )
    assert rule_filter.accepts(detection) is accepted, f"{detection}"
