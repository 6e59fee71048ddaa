"""Event revisions: ids from the identity, revisions counting up, pictures only where new,
and the media-time origin of a run."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cluster.domain import EventType, Frame, Severity, event_id
from cluster.video.emitter import EventEmitter, Thumbnailer


def frame(pts: float) -> Frame:
    return Frame(1, 1000.0 + pts, np.full((270, 480, 3), 120, np.uint8), pts=pts)


def test_a_start_gets_its_id_from_the_identity_and_revision_zero() -> None:
    emitter = EventEmitter("cam-1", job_id="job-1")
    event = emitter.start(EventType.LOITERING, "alert", "yard", start_pts=2.5, start_time=1002.5, track_id=4)
    assert event.event_id == event_id("cam-1", "yard", 4, 2.5, EventType.LOITERING, "job-1")
    assert (event.revision, event.severity, event.ongoing) == (0, Severity.ALERT, True)


def test_updates_and_the_end_count_revisions_up_and_keep_the_identity() -> None:
    emitter = EventEmitter("cam-1")
    start = emitter.start(EventType.OCCUPANCY, "info", "yard", start_pts=1.0, start_time=1001.0, count=3)
    update = emitter.update(start, count=4)
    end = emitter.end(update, end_pts=9.0, end_time=1009.0)
    assert [e.revision for e in (start, update, end)] == [0, 1, 2]
    assert {e.event_id for e in (start, update, end)} == {start.event_id}
    assert (end.count, end.end_pts, end.ongoing) == (4, 9.0, False)
    assert emitter.drain() == (start, update, end) and emitter.drain() == (), "drained once, in order"


def test_a_closing_revision_is_the_end_revision_without_joining_the_runs_revisions() -> None:
    emitter = EventEmitter("cam-1", pts_origin=100.0)
    start = emitter.start(EventType.OCCUPANCY, "info", "yard", start_pts=1.0, start_time=1001.0, count=3)
    emitter.drain()
    closed = emitter.closing(start, end_pts=4.0, end_time=1004.0)
    assert (closed.event_id, closed.revision, closed.count) == (start.event_id, 1, 3), "the next revision of it"
    assert (closed.end_pts, closed.end_time, closed.ongoing) == (104.0, 1004.0, False), "ended at the frame's time"
    assert emitter.drain() == (), "not queued: the run's own revisions go on as they were"
    assert emitter.end(start, end_pts=4.0, end_time=1004.0) == closed, "the very revision end() makes"


def test_an_instant_event_ends_where_it_starts() -> None:
    event = EventEmitter("cam").start(EventType.LINE_CROSSING, "info", "l", start_pts=3.0, start_time=5.0, instant=True)
    assert (event.end_pts, event.end_time) == (3.0, 5.0)


def test_the_run_origin_is_added_to_media_times() -> None:
    emitter = EventEmitter("cam", pts_origin=1_767_203_600.0)
    start = emitter.start(EventType.TAMPER_BLACK, "alert", "tamper", start_pts=2.0, start_time=1_767_203_602.0)
    end = emitter.end(start, end_pts=7.0, end_time=1_767_203_607.0)
    assert (start.start_pts, end.end_pts) == (1_767_203_602.0, 1_767_203_607.0)
    other_run = EventEmitter("cam", pts_origin=1_767_290_000.0)
    again = other_run.start(EventType.TAMPER_BLACK, "alert", "tamper", start_pts=2.0, start_time=1_767_290_002.0)
    assert again.event_id != start.event_id, "two runs of one camera never share an id"


def test_thumbnails_are_small_jpegs_of_the_frame_only_where_asked_for() -> None:
    emitter = EventEmitter("cam", thumbnails=Thumbnailer(320, 70))
    picture = frame(1.0)
    start = emitter.start(EventType.ZONE_ENTER, "info", "z", start_pts=1.0, start_time=1001.0, thumbnail_of=picture)
    update = emitter.update(start, dwell_s=2.0)
    assert start.thumbnail is not None and update.thumbnail is None, "updates without a new picture carry none"
    image = cv2.imdecode(np.frombuffer(start.thumbnail, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (180, 320), "320 px wide, aspect kept"
    assert float(image.mean()) == pytest.approx(120, abs=3)


def test_one_frame_is_encoded_once_for_all_its_events() -> None:
    thumbnails = Thumbnailer(320, 70)
    emitter = EventEmitter("cam", thumbnails=thumbnails)
    picture = frame(1.0)
    for rule in ("a", "b", "c"):
        emitter.start(EventType.ZONE_ENTER, "info", rule, start_pts=1.0, start_time=1001.0, thumbnail_of=picture)
    assert thumbnails.encodes == 1
