"""Zone rules on made-up tracks: inertia, enter/leave with dwell, loitering, occupancy,
filters, and tracks the tracker drops."""

from __future__ import annotations

import pytest

from cluster.domain import Direction, EventType, Severity, event_id

from .scene import EPOCH, Scene, feet_at

BOX = [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]  # a square zone in the middle
INSIDE, OUTSIDE = (0.5, 0.5), (0.5, 0.95)


def zone(**fields) -> dict:
    return {"zones": [{"name": "yard", "polygon": BOX} | fields]}


def test_an_object_walking_in_and_out_makes_one_enter_and_one_leave_with_its_dwell() -> None:
    scene = Scene(zone(inertia=2))
    scene.frames(3, [feet_at(*OUTSIDE)])
    scene.frames(10, [feet_at(*INSIDE)])  # in from pts 0.6 to 2.4
    scene.frames(3, [feet_at(*OUTSIDE)])

    enters, leaves = scene.of(EventType.ZONE_ENTER), scene.of(EventType.ZONE_LEAVE)
    assert len(enters) == 1 and len(leaves) == 1, f"one pair: {scene.events}"
    enter, leave = enters[0], leaves[0]
    assert enter.start_pts == pytest.approx(0.6), "the entry is dated at the first frame inside, not when confirmed"
    assert enter.start_time == pytest.approx(EPOCH + 0.6) and enter.end_pts == enter.start_pts, "an instant"
    assert leave.start_pts == pytest.approx(2.6), "the leave is dated at the first frame outside"
    assert leave.dwell_s == pytest.approx(1.8), "dwell: first to last frame seen inside"
    assert (enter.track_id, enter.class_name, enter.rule) == (1, "person", "yard")
    assert enter.severity is Severity.INFO and enter.thumbnail is not None, "the entry comes with a picture"
    assert enter.event_id == event_id("cam", "yard", 1, 0.6, EventType.ZONE_ENTER), "ids come from the identity"


def test_jitter_at_the_edge_shorter_than_the_inertia_makes_no_events() -> None:
    scene = Scene(zone(inertia=3))
    edge_in, edge_out = (0.5, 0.79), (0.5, 0.81)
    for _ in range(10):  # in for 2 frames, out for 2: never 3 in a row
        scene.frames(2, [feet_at(*edge_in)])
        scene.frames(2, [feet_at(*edge_out)])
    assert scene.events == [], f"box jitter must not make enter/leave pairs: {scene.events}"


def test_jitter_after_entering_does_not_make_it_leave() -> None:
    scene = Scene(zone(inertia=3))
    scene.frames(5, [feet_at(0.5, 0.7)])
    for _ in range(5):
        scene.frames(2, [feet_at(0.5, 0.81)])
        scene.frames(1, [feet_at(0.5, 0.79)])
    assert [e.type for e in scene.events] == [EventType.ZONE_ENTER], f"{scene.events}"


def test_missed_or_filtered_frames_leave_the_presence_as_it_was() -> None:
    scene = Scene(zone(inertia=2, filters={"min_confidence": 0.5}))
    scene.frames(3, [feet_at(*INSIDE)])
    scene.frames(3, [], live=[1])  # detector missed it, the tracker still has it
    scene.frames(3, [feet_at(*OUTSIDE, confidence=0.3)])  # seen outside, but below the rule's confidence
    scene.frames(3, [feet_at(*INSIDE)])
    assert [e.type for e in scene.events] == [EventType.ZONE_ENTER], f"{scene.events}"


def test_a_track_the_tracker_drops_leaves_at_its_last_sighting() -> None:
    scene = Scene(zone(inertia=1))
    scene.frames(5, [feet_at(*INSIDE, track=7)])  # pts 0.0 .. 0.8
    scene.frames(2, [], live=[7])
    scene.frame([], live=[])

    (leave,) = scene.of(EventType.ZONE_LEAVE)
    assert leave.track_id == 7 and leave.start_pts == pytest.approx(0.8), "dated at the last frame it was seen in"
    assert leave.dwell_s == pytest.approx(0.8)


def test_loitering_is_one_event_updated_while_the_object_stays_and_ended_when_it_leaves() -> None:
    scene = Scene({"update_interval_s": 1.0} | zone(inertia=1, loitering_s=2.0, severity="alert"))
    scene.frames(26, [feet_at(*INSIDE, confidence=0.6)])  # pts 0 .. 5.0
    scene.frames(1, [feet_at(*INSIDE, confidence=0.9)])  # a better look at 5.2
    scene.frames(6, [feet_at(*INSIDE, confidence=0.6)])
    scene.frames(2, [feet_at(*OUTSIDE)])

    loitering = scene.of(EventType.LOITERING)
    ids = {e.event_id for e in loitering}
    assert len(ids) == 1, f"one loitering event for the stay, got {len(ids)}"
    assert [e.revision for e in loitering] == list(range(len(loitering))), "revisions count up from 0"
    start, *updates, end = loitering
    assert start.start_pts == 0.0 and start.dwell_s == pytest.approx(2.0), "starts at the entry, once over 2 s"
    assert start.severity is Severity.ALERT and start.end_time is None and start.thumbnail is not None
    assert len(updates) >= 3, f"updated about every second of footage: {[u.dwell_s for u in updates]}"
    dwell = [e.dwell_s for e in loitering]
    assert dwell == sorted(dwell), "dwell only grows"
    pictures = [u for u in updates if u.thumbnail is not None]
    assert len(pictures) == 1 and pictures[0].peak_confidence == pytest.approx(0.9), "a new picture for a better look"
    assert end.end_pts == pytest.approx(6.4) and end.dwell_s == pytest.approx(6.4), "ends at the last frame inside"


def test_loitering_waits_for_the_threshold() -> None:
    scene = Scene(zone(inertia=1, loitering_s=5.0))
    scene.frames(20, [feet_at(*INSIDE)])  # 3.8 s of dwell
    scene.frames(1, [feet_at(*OUTSIDE)])
    assert not scene.of(EventType.LOITERING), "3.8 s is not loitering at a 5 s threshold"


def test_occupancy_starts_above_the_limit_follows_the_peak_and_ends_below_it() -> None:
    scene = Scene(zone(inertia=1, occupancy_max=1, report_enter_leave=False))
    one, two, three = (feet_at(0.3 + 0.1 * i, 0.5, track=i + 1) for i in range(3))
    scene.frames(2, [one])
    scene.frames(2, [one, two])  # 2 > 1: starts
    scene.frames(2, [one, two, three])  # a new peak
    scene.frames(2, [one, two])
    scene.frames(2, [one])  # back at the limit: ends

    occupancy = scene.of(EventType.OCCUPANCY)
    assert [(e.revision, e.count, e.ongoing) for e in occupancy] == [(0, 2, True), (1, 3, True), (2, 3, False)], (
        f"start, peak update, end: {occupancy}"
    )
    assert occupancy[0].start_pts == pytest.approx(0.4) and occupancy[-1].end_pts == pytest.approx(1.6)
    assert occupancy[0].track_id is None, "occupancy is about the zone, not one object"
    assert not scene.of(EventType.ZONE_ENTER), "report_enter_leave off"


def test_filters_pick_classes_and_box_sizes() -> None:
    scene = Scene(zone(inertia=1, filters={"classes": ["car"], "max_area": 0.05}))
    scene.frames(2, [feet_at(*INSIDE, track=1, cls="person")])
    scene.frames(2, [feet_at(*INSIDE, track=2, cls="car")])  # 0.1 x 0.2 = 0.02 of the frame
    assert [(e.type, e.track_id) for e in scene.events] == [(EventType.ZONE_ENTER, 2)], f"{scene.events}"


def test_time_windows_gate_the_start_of_events_in_the_cameras_time_zone() -> None:
    # EPOCH is 17:53:20 UTC, 00:53:20 in Hà Nội (UTC+7).
    night = {"windows": [{"start": "22:00", "end": "06:00"}]}
    in_hanoi = Scene(zone(inertia=1, filters=night), timezone="Asia/Ho_Chi_Minh")
    in_utc = Scene(zone(inertia=1, filters=night), timezone="UTC")
    for scene in (in_hanoi, in_utc):
        scene.frames(2, [feet_at(*INSIDE)])
    assert [e.type for e in in_hanoi.events] == [EventType.ZONE_ENTER], "00:53 local is inside 22:00-06:00"
    assert in_utc.events == [], "17:53 is outside the window"


def test_events_begun_in_a_window_end_normally_after_it_closes() -> None:
    until = {"windows": [{"start": "00:00", "end": "00:54"}]}  # closes at 00:54 Hà Nội time
    scene = Scene(zone(inertia=1, filters=until), timezone="Asia/Ho_Chi_Minh", fps=0.1)
    scene.frames(1, [feet_at(*INSIDE)])  # 00:53:20: enters inside the window
    scene.frames(10, [feet_at(*INSIDE)])  # the window closes at 00:54
    scene.frames(1, [feet_at(*OUTSIDE)])
    assert [e.type for e in scene.events] == [EventType.ZONE_ENTER, EventType.ZONE_LEAVE], f"{scene.events}"


def test_a_leave_is_reported_only_for_an_entry_that_was() -> None:
    after = {"windows": [{"start": "00:54", "end": "06:00"}]}  # opens at 00:54 Hà Nội time
    scene = Scene(zone(inertia=1, filters=after), timezone="Asia/Ho_Chi_Minh", fps=0.1)
    scene.frames(1, [feet_at(*INSIDE, track=1)])  # 00:53:20: enters before the window opens
    scene.frames(10, [feet_at(*INSIDE, track=1)])
    scene.frames(1, [feet_at(*OUTSIDE, track=1), feet_at(*INSIDE, track=2)])  # 00:55:10, in the window
    assert [(e.type, e.track_id) for e in scene.events] == [(EventType.ZONE_ENTER, 2)], (
        f"no leave for an entry that was not reported: {scene.events}"
    )


def test_loitering_may_start_when_a_window_opens_on_an_object_already_there() -> None:
    after = {"windows": [{"start": "00:54", "end": "06:00"}]}
    scene = Scene(zone(inertia=1, loitering_s=30.0, filters=after), timezone="Asia/Ho_Chi_Minh", fps=0.1)
    scene.frames(12, [feet_at(*INSIDE)])  # from 00:53:20 to 00:55:10
    loitering, *_ = scene.of(EventType.LOITERING)
    assert loitering.revision == 0 and loitering.start_pts == 0.0, (
        "the stay began before the window; the loitering is reported in it"
    )
    assert loitering.dwell_s == pytest.approx(40.0), "first frame after 00:54 with over 30 s of dwell"


def test_finish_ends_the_stay_and_the_loitering_of_objects_still_inside() -> None:
    scene = Scene(zone(inertia=1, loitering_s=1.0))
    scene.frames(10, [feet_at(*INSIDE)])
    final = scene.finish()
    assert [(e.type, e.ongoing) for e in final] == [(EventType.LOITERING, False), (EventType.ZONE_LEAVE, False)]


def test_directions_are_not_part_of_zone_events() -> None:
    scene = Scene(zone(inertia=1))
    scene.frames(2, [feet_at(*INSIDE)])
    assert all(e.direction is None for e in scene.events) and Direction.A_TO_B.value == "a_to_b"
