"""The writer's ring cursors: stored in the batch's own transaction, migrated into old files,
and the change feed's stream cursors (see cluster/events/store.py and cursor.py)."""

from __future__ import annotations

import sqlite3

import pytest

from cluster.events import SCHEMA_VERSION, EventReader, EventStore, InvalidCursor, RingCursor, StoreFailure

from .factory import db_path, event, revised


def test_a_batch_and_its_cursors_are_stored_together(store):
    store.write([event(1), event(2)], cursors=[RingCursor("cam-1", "ring-a", 2)])
    assert store.ring_cursors() == {"cam-1": RingCursor("cam-1", "ring-a", 2)}
    assert len(store.query().events) == 2


def test_a_later_cursor_replaces_the_stored_one(store):
    store.write([event(1)], cursors=[RingCursor("cam-1", "ring-a", 1)])
    store.write([event(2)], cursors=[RingCursor("cam-1", "ring-b", 7), RingCursor("cam-2", "ring-c", 3)])
    assert store.ring_cursors() == {
        "cam-1": RingCursor("cam-1", "ring-b", 7),
        "cam-2": RingCursor("cam-2", "ring-c", 3),
    }, "one cursor per camera, the newest"


def test_cursors_alone_are_stored_without_touching_the_change_feed(store):
    store.write([event(1)])
    before = store.last_change_seq()
    result = store.write([], cursors=[RingCursor("cam-1", "ring-new", 0)])
    assert store.ring_cursors()["cam-1"].epoch == "ring-new", "a new ring's cursor is stored even with no events"
    assert result.last_change_seq == before == store.last_change_seq(), "no change was made to any event"


def test_a_failed_batch_stores_neither_its_events_nor_its_cursors(tmp_path):
    path = db_path(tmp_path)
    with EventStore(path) as store:
        store.write([event(0)], cursors=[RingCursor("cam-1", "ring-a", 1)])
        # A disk that fills up: SQLite may not grow the file any further.
        pages = store._writer.execute("PRAGMA page_count").fetchone()[0]
        store._writer.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreFailure, match="write failed"):
            store.write(
                [event(n, thumbnail=b"\xff\xd8" + b"x" * 20_000) for n in range(1, 50)],
                cursors=[RingCursor("cam-1", "ring-a", 50)],
            )
        assert store.ring_cursors() == {"cam-1": RingCursor("cam-1", "ring-a", 1)}, "the cursor did not move"
        assert len(store.query().events) == 1, "no event of the failed batch is stored"


def test_a_replayed_batch_with_its_cursor_changes_nothing(store):
    batch = [event(1), revised(event(1), 1, dwell_s=4.0)]
    store.write(batch, cursors=[RingCursor("cam-1", "ring-a", 2)])
    changes = store.last_change_seq()
    result = store.write(batch, cursors=[RingCursor("cam-1", "ring-a", 2)])
    assert (result.inserted, result.updated, result.ignored) == (0, 0, 2), "the replay is ignored"
    assert store.last_change_seq() == changes


def test_bad_cursors_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="sequence must be an integer >= 0"):
        RingCursor("cam-1", "ring-a", -1)
    with pytest.raises(ValueError, match="epoch must be a non-empty string"):
        RingCursor("cam-1", "", 0)


def test_a_version_2_file_gets_the_cursor_table_and_keeps_its_events(tmp_path):
    path = db_path(tmp_path)
    with EventStore(path) as store:
        store.write([event(1)])
    with sqlite3.connect(path) as conn:  # back to what version 2 of the code left
        conn.execute("DROP TABLE ring_cursors")
        conn.execute("DROP TABLE acks")  # version 4's
        conn.execute("PRAGMA user_version = 2")
    with EventStore(path) as store:
        assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert store.ring_cursors() == {}, "no cursor yet: every ring is read from its start"
        assert [e.event_id for e in store.query().events] == [event(1).event_id]
        store.write([event(2)], cursors=[RingCursor("cam-1", "ring-a", 1)])
        assert store.ring_cursors()["cam-1"].sequence == 1


def test_a_stream_cursor_round_trips_and_names_its_store(tmp_path, store):
    store.write([event(1)])
    cursor = store.feed_cursor(store.last_change_seq())
    assert store.feed_position(cursor) == store.last_change_seq()
    with EventReader(store.path) as reader:
        assert reader.feed_id == store.feed_id, "readers of the same file share the feed"
        assert reader.feed_position(cursor) == store.last_change_seq()
    other_path = tmp_path / "other" / "events.sqlite3"
    with EventStore(other_path) as other, pytest.raises(InvalidCursor, match="another event store"):
        other.feed_position(cursor)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "expected the cursor"),
        ("f1.!!!", "malformed"),
        ("f1.eyJmIjoxfQ", "malformed"),  # {"f":1}
        ("nonsense", "malformed"),
        ("x" * 600, "too long"),
    ],
)
def test_a_malformed_stream_cursor_says_what_is_wrong(store, text, reason):
    with pytest.raises(InvalidCursor, match=reason) as caught:
        store.feed_position(text)
    assert caught.value.field == "cursor"


def test_a_query_cursor_is_not_a_stream_cursor(store):
    store.write([event(1), event(2)])
    page = store.query(page_size=1)
    with pytest.raises(InvalidCursor, match="a query cursor"):
        store.feed_position(page.cursor)
