"""Writes are idempotent: replays and old revisions change nothing, updates replace the row."""

from __future__ import annotations

import sqlite3

import pytest

from cluster.domain import Box
from cluster.events import ALL_EVENTS, EventNotFound, EventStore, StoreClosed

from .factory import JPEG, T0, db_path, event, ids, revised


def all_events(store):
    return store.query(ALL_EVENTS, order="oldest_first", page_size=1000, with_thumbnails=True).events


def row_count(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def test_a_batch_written_twice_is_stored_once(store):
    batch = [event(n, thumbnail=JPEG) for n in range(20)]
    first = store.write(batch)
    before = all_events(store)
    again = store.write(batch)
    assert (first.inserted, again.inserted, again.ignored) == (20, 0, 20), "the replay inserts nothing"
    assert all_events(store) == before, "the replay changes no row"
    assert row_count(store.path) == 20


def test_a_replay_does_not_advance_the_change_feed(store):
    batch = [event(n) for n in range(5)]
    store.write(batch)
    position = store.last_change_seq()
    assert store.write(batch).last_change_seq == position, "nothing changed, so no change is recorded"
    assert store.changes_after(position).changes == ()


def test_a_higher_revision_replaces_the_row(store):
    start = event(1, type="loitering", dwell_s=30.0)
    store.write([start])
    update = revised(
        start,
        1,
        dwell_s=95.0,
        end_time=start.start_time + 95.0,
        end_pts=96.0,
        peak_confidence=0.97,
        peak_box=Box(0.5, 0.5, 0.1, 0.2),
        severity="info",
        class_name="car",
    )
    result = store.write([update])
    assert (result.inserted, result.updated) == (0, 1)
    assert store.get(start.event_id) == update, "every mutable field comes from the new revision"
    assert row_count(store.path) == 1


def test_an_older_or_equal_revision_is_ignored(store):
    e = event(1)
    newest = revised(e, 3, dwell_s=50.0)
    store.write([newest])
    result = store.write([revised(e, 2, dwell_s=40.0), revised(e, 3, dwell_s=99.0), e])
    assert (result.updated, result.ignored) == (0, 3), "revisions 2, 3 (again) and 0 do not go back"
    assert store.get(e.event_id) == newest


def test_revisions_arriving_out_of_order_end_at_the_highest(store):
    e = event(1)
    revisions = [revised(e, r, dwell_s=float(r)) for r in range(6)]
    for r in (3, 1, 5, 0, 4, 2):
        store.write([revisions[r]])
    assert store.get(e.event_id).revision == 5 and store.get(e.event_id).dwell_s == 5.0


def test_several_revisions_in_one_batch_apply_in_revision_order(store):
    e = event(1)
    result = store.write([revised(e, 2, dwell_s=2.0), e, revised(e, 1, dwell_s=1.0), revised(e, 4, dwell_s=4.0)])
    assert result.inserted == 1, "one event, one row"
    assert store.get(e.event_id).revision == 4


def test_an_update_does_not_move_the_event_in_time(store):
    e = event(1)
    store.write([e])
    store.write([revised(e, 1, start_time=e.start_time + 500.0, start_pts=99.0)])
    stored = store.get(e.event_id)
    assert (stored.start_time, stored.start_pts) == (e.start_time, e.start_pts), (
        "start time and media time identify the event and fix its place in the order"
    )


def test_an_update_without_a_thumbnail_keeps_the_stored_one(store):
    e = event(1, thumbnail=JPEG)
    store.write([e])
    store.write([revised(e, 1, thumbnail=None, dwell_s=5.0)])
    assert store.get(e.event_id).thumbnail == JPEG


def test_an_update_with_a_thumbnail_replaces_it(store):
    e = event(1, thumbnail=JPEG)
    store.write([e])
    store.write([revised(e, 1, thumbnail=b"\xff\xd8better\xff\xd9")])
    assert store.get(e.event_id).thumbnail == b"\xff\xd8better\xff\xd9"


def test_a_thumbnail_of_an_earlier_revision_in_the_batch_is_kept(store):
    e = event(1, thumbnail=JPEG)
    store.write([e, revised(e, 1, thumbnail=None)])
    assert store.get(e.event_id).thumbnail == JPEG, "the newest revision had none, so the first one's stays"


def test_a_thumbnail_is_returned_only_when_asked(store):
    e = event(1, thumbnail=JPEG)
    store.write([e])
    assert store.get(e.event_id, with_thumbnail=False).thumbnail is None
    assert store.query().events[0].thumbnail is None, "queries leave thumbnails out by default"
    assert store.query(with_thumbnails=True).events[0].thumbnail == JPEG


def test_an_event_reads_back_equal(store):
    e = event(
        3,
        type="line_crossing",
        direction="b_to_a",
        class_name="motorbike",
        job="job-9",
        thumbnail=JPEG,
        end_time=T0 + 31.0,
        end_pts=4.0,
        dwell_s=1.5,
        count=None,
        peak_confidence=0.66,
    )
    store.write([e])
    assert store.get(e.event_id) == e


def test_an_unknown_id_is_not_found(store):
    with pytest.raises(EventNotFound, match="no-such-id"):
        store.get("no-such-id")


def test_write_takes_events_only(store):
    with pytest.raises(TypeError, match="Event"):
        store.write([{"event_id": "x"}])
    assert store.query().events == (), "nothing of the refused batch was stored"


def test_a_closed_store_refuses_writes(tmp_path):
    store = EventStore(db_path(tmp_path))
    store.close()
    with pytest.raises(StoreClosed):
        store.write([event(1)])


def test_events_are_counted_once_when_first_stored(store, registry):
    e = event(1, class_name="car")
    health = event(2, type="tamper_black", class_name=None, track=None)
    store.write([e, health])
    store.write([revised(e, 1), e])
    get = registry.get_sample_value
    assert get("matthan_events_total", {"camera": "cam-1", "class": "car"}) == 1, "updates are not new events"
    assert get("matthan_events_by_type_total", {"camera": "cam-1", "type": "tamper_black"}) == 1
    assert get("matthan_event_store_batches_total") == 2
    assert get("matthan_event_store_batch_events_total") == 4, "batch sizes add up"
    assert get("matthan_event_store_write_duration_seconds_count") == 2


def test_a_failed_write_stores_nothing_of_its_batch(store, registry):
    store.write([event(1)])
    # Another connection holds the write lock past the busy timeout: the batch fails as a whole.
    blocker = sqlite3.connect(store.path, timeout=0.1, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    store._writer.execute("PRAGMA busy_timeout = 100")
    try:
        with pytest.raises(Exception, match="write failed"):
            store.write([event(2), event(3)])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert ids(all_events(store)) == [event(1).event_id], "no partial batch"
    assert registry.get_sample_value("matthan_event_store_errors_total", {"operation": "write"}) == 1
    assert store.write([event(2), event(3)]).inserted == 2, "the same batch succeeds when retried"
