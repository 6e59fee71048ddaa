"""The change feed behind StreamEvents: every insert and update, in order, resumable without loss."""

from __future__ import annotations

import pytest

from cluster.domain import Severity
from cluster.events import EventFilter, EventStore, InvalidQuery, RetentionPolicy

from .factory import T0, db_path, event, ids, revised


def follow(store, position: int, limit: int = 100, **kwargs):
    """Every change after `position`, page by page; (events seen, last position)."""
    seen = []
    while True:
        page = store.changes_after(position, limit, **kwargs)
        seen += [c.event for c in page.changes]
        assert page.position >= position, "the position never goes back"
        if page.position == position:
            return seen, position
        position = page.position


def test_inserts_and_updates_come_in_the_order_they_were_written(store):
    a, b = event(1), event(2)
    store.write([a])
    store.write([b, revised(a, 1, dwell_s=3.0)])
    changes = store.changes_after(0).changes
    assert [(c.event.event_id, c.event.revision) for c in changes] == [(b.event_id, 0), (a.event_id, 1)], (
        "an update moves the event to the end of the feed, with its new revision"
    )
    assert [c.change_seq for c in changes] == sorted(c.change_seq for c in changes)


def test_resuming_from_a_position_loses_nothing(store):
    store.write([event(n) for n in range(3)])
    _, position = follow(store, 0, limit=2)
    store.write([event(n) for n in range(3, 6)] + [revised(event(0), 1)])
    more, _ = follow(store, position, limit=2)
    assert ids(more) == ids([event(3), event(4), event(5), event(0)]), "only what changed since, all of it"


def test_a_stream_started_now_begins_at_the_newest_position(store):
    store.write([event(n) for n in range(3)])
    position = store.last_change_seq()
    assert store.changes_after(position).changes == ()
    store.write([event(9)])
    assert ids(c.event for c in store.changes_after(position).changes) == [event(9).event_id]


def test_a_filtered_feed_moves_past_what_it_skips(store):
    store.write([event(n, camera="cam-2") for n in range(5)] + [event(5, camera="cam-1")])
    page = store.changes_after(0, 10, filter=EventFilter(cameras={"cam-1"}))
    assert ids(c.event for c in page.changes) == [event(5, camera="cam-1").event_id]
    assert page.position == store.last_change_seq(), "the skipped changes are not read again"


def test_the_position_never_goes_back_after_the_newest_events_are_deleted(tmp_path):
    path = db_path(tmp_path)
    policy = RetentionPolicy({Severity.INFO: 3600.0})
    with EventStore(path, retention=policy) as store:
        store.write([event(n, severity="info") for n in range(3)])
        position = store.last_change_seq()
        store.enforce_retention(now=T0 + 10 * 3600)  # deletes every event
        assert store.changes_after(0).changes == ()
    with EventStore(path, retention=policy) as store:
        store.write([event(7, severity="info")])
        change = store.changes_after(position).changes
        assert ids(c.event for c in change) == [event(7, severity="info").event_id], (
            "a change after a restart is after every position handed out before"
        )


@pytest.mark.parametrize("position", [-1, 1.5, True, "3"])
def test_a_bad_position_is_refused(store, position):
    with pytest.raises(InvalidQuery, match="change_seq"):
        store.changes_after(position)


def test_a_bad_limit_is_refused(store):
    with pytest.raises(InvalidQuery, match="limit"):
        store.changes_after(0, 0)
