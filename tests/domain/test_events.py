"""The Event domain type: deterministic ids, validation naming the field, pickling."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from cluster.domain import Box, Direction, Event, EventType, Severity, event_id

IDENTITY = {
    "camera_id": "cam-1",
    "rule": "ramp",
    "track_id": 7,
    "start_pts": 12.5,
    "type": "line_crossing",
    "job_id": None,
}


def test_the_same_identity_gives_the_same_id():
    assert event_id(**IDENTITY) == event_id(**IDENTITY), "a replay must get the same id"
    assert len(event_id(**IDENTITY)) == 32, "32 hex characters"


@pytest.mark.parametrize(
    "field, other",
    [
        ("camera_id", "cam-2"),
        ("rule", "alley"),
        ("track_id", 8),
        ("track_id", None),
        ("start_pts", 12.6),
        ("type", "zone_enter"),
        ("job_id", "job-1"),
    ],
)
def test_each_identifying_field_changes_the_id(field, other):
    assert event_id(**{**IDENTITY, field: other}) != event_id(**IDENTITY), f"{field} must be part of the id"


def test_equal_media_times_written_differently_give_one_id():
    assert event_id(**{**IDENTITY, "start_pts": 12}) == event_id(**{**IDENTITY, "start_pts": 12.0}), (
        "12 and 12.0 are the same frame time"
    )
    assert event_id(**{**IDENTITY, "start_pts": -0.0}) == event_id(**{**IDENTITY, "start_pts": 0.0})


def test_fields_that_run_together_do_not_collide():
    assert event_id("cam-1", "a:b", None, 0.0, "zone_enter") != event_id("cam-1:a", "b", None, 0.0, "zone_enter"), (
        "the encoding keeps field boundaries"
    )


def test_new_computes_the_id_from_its_fields():
    e = Event.new(
        "cam-1",
        "line_crossing",
        "info",
        "ramp",
        start_time=100.0,
        start_pts=12.5,
        track_id=7,
        direction="a_to_b",
        class_name="motorbike",
    )
    assert e.event_id == event_id(**IDENTITY)
    assert (e.type, e.severity, e.direction) == (EventType.LINE_CROSSING, Severity.INFO, Direction.A_TO_B), (
        "strings become the enums"
    )
    assert e.revision == 0 and e.ongoing, "a new event is revision 0 and goes on until it has an end"


def test_an_update_keeps_the_id():
    e = Event.new("cam-1", "loitering", "alert", "alley", start_time=100.0, start_pts=1.0, track_id=3)
    later = dataclasses.replace(e, revision=1, dwell_s=42.0, end_time=142.0)
    assert later.event_id == e.event_id and not later.ongoing


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"type": "zone_entered"}, "type"),
        ({"severity": "critical"}, "severity"),
        ({"direction": "up"}, "direction"),
        ({"camera_id": ""}, "camera_id"),
        ({"rule": ""}, "rule"),
        ({"start_time": float("nan")}, "start_time"),
        ({"end_time": 50.0}, "end_time"),
        ({"dwell_s": -1.0}, "dwell_s"),
        ({"peak_confidence": 1.5}, "peak_confidence"),
        ({"count": -2}, "count"),
        ({"revision": -1}, "revision"),
        ({"thumbnail": "not bytes"}, "thumbnail"),
    ],
)
def test_bad_values_are_refused_naming_the_field(changes, field):
    base = {
        "event_id": "x" * 32,
        "camera_id": "cam-1",
        "type": "zone_enter",
        "severity": "info",
        "rule": "alley",
        "start_time": 100.0,
        "start_pts": 0.0,
    }
    with pytest.raises(ValueError, match=f"Event.{field}"):
        Event(**{**base, **changes})


def test_an_event_pickles_as_itself():
    e = Event.new(
        "cam-1",
        "zone_leave",
        "info",
        "alley",
        start_time=100.0,
        start_pts=1.0,
        track_id=3,
        class_name="car",
        dwell_s=12.0,
        peak_box=Box(0.1, 0.2, 0.3, 0.4),
        thumbnail=b"\xff\xd8jpeg",
    )
    assert pickle.loads(pickle.dumps(e)) == e, "events cross Ray as values"
