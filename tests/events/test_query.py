"""QueryEvents: filters, order, pages, and cursors that refuse to be misused."""

from __future__ import annotations

import base64
import json

import pytest

from cluster.events import EventFilter, EventStore, InvalidCursor, InvalidQuery, Order

from .factory import T0, db_path, event, ids


@pytest.fixture
def sample(store):
    """Three cameras, a mix of types, severities, classes, rules, dwell and jobs."""
    events = [
        event(0, camera="cam-1", class_name="person", severity="alert", rule="alley"),
        event(
            1, camera="cam-1", class_name="car", severity="info", rule="ramp", type="line_crossing", direction="a_to_b"
        ),
        event(2, camera="cam-2", class_name="person", severity="info", rule="alley", type="zone_leave", dwell_s=12.0),
        event(
            3,
            camera="cam-2",
            class_name="motorbike",
            severity="alert",
            rule="ramp",
            type="line_crossing",
            direction="b_to_a",
        ),
        event(4, camera="cam-3", class_name=None, severity="alert", rule="health", type="tamper_black", track=None),
        event(5, camera="cam-3", class_name="person", severity="info", rule="alley", type="loitering", dwell_s=300.0),
        event(
            6,
            camera="cam-1",
            class_name="car",
            severity="info",
            rule="ramp",
            type="line_crossing",
            direction="b_to_a",
            job="job-1",
        ),
    ]
    store.write(events)
    return events


def found(store, **filter_fields) -> list[str]:
    page = store.query(EventFilter(**filter_fields), order="oldest_first", page_size=1000)
    return ids(page.events)


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"cameras": {"cam-2"}}, [2, 3]),
        ({"cameras": {"cam-1", "cam-3"}}, [0, 1, 4, 5, 6]),
        ({"types": {"line_crossing"}}, [1, 3, 6]),
        ({"severities": {"alert"}}, [0, 3, 4]),
        ({"classes": {"person"}}, [0, 2, 5]),
        ({"classes": {"car", "motorbike"}}, [1, 3, 6]),
        ({"rules": {"ramp"}}, [1, 3, 6]),
        ({"time_from": T0 + 20, "time_to": T0 + 50}, [2, 3, 4]),
        ({"min_dwell_s": 12.0}, [2, 5]),
        ({"job_ids": {"job-1"}}, [6]),
        ({"live_only": True}, [0, 1, 2, 3, 4, 5]),
        ({"cameras": {"cam-1"}, "classes": {"car"}, "live_only": True}, [1]),
    ],
)
def test_each_filter_keeps_the_matching_events(store, sample, fields, expected):
    assert found(store, **fields) == [sample[n].event_id for n in expected], f"filter {fields}"


def test_the_time_range_is_half_open(store, sample):
    assert found(store, time_from=T0 + 20, time_to=T0 + 30) == [sample[2].event_id], (
        "an event at time_from is in, one at time_to is out"
    )


def test_an_empty_set_matches_nothing(store, sample):
    assert found(store, cameras=set()) == [], "a viewer whose scope has no camera sees no event"


def test_the_filter_in_python_agrees_with_the_sql(store, sample):
    for fields in (
        {"cameras": {"cam-2"}},
        {"min_dwell_s": 12.0},
        {"live_only": True},
        {"job_ids": {"job-1"}},
        {"time_from": T0 + 20, "time_to": T0 + 50, "severities": {"alert"}},
    ):
        f = EventFilter(**fields)
        assert found(store, **fields) == [e.event_id for e in sample if f.matches(e)], f"filter {fields}"


def test_newest_first_and_oldest_first_are_reverses(store, sample):
    newest = ids(store.query(order=Order.NEWEST_FIRST).events)
    oldest = ids(store.query(order=Order.OLDEST_FIRST).events)
    assert newest == ids(reversed(sample)) and oldest == list(reversed(newest))


def test_events_with_the_same_start_are_ordered_by_when_they_were_stored(store):
    first = [event(n, start=T0) for n in range(3)]
    store.write(first[:2])
    store.write(first[2:])
    assert ids(store.query(order="oldest_first").events) == ids(first)


def test_pages_follow_each_other_without_gaps(store):
    events = [event(n) for n in range(25)]
    store.write(events)
    seen, cursor = [], None
    for _ in range(10):
        page = store.query(page_size=7, cursor=cursor)
        seen += ids(page.events)
        cursor = page.cursor
        if not page.has_more:
            break
    assert seen == ids(reversed(events)), "every event once, newest first"


@pytest.mark.parametrize("order", list(Order))
def test_pages_over_several_cameras_are_in_order(store, order):
    events = [event(n, camera=f"cam-{n % 4}") for n in range(40)]
    store.write(events)
    scope = EventFilter(cameras={"cam-0", "cam-1", "cam-3"})
    seen, cursor = [], None
    while True:
        page = store.query(scope, order=order, page_size=6, cursor=cursor)
        seen += ids(page.events)
        cursor = page.cursor
        if not page.has_more:
            break
    in_scope = [e.event_id for e in events if e.camera_id != "cam-2"]
    assert seen == (in_scope[::-1] if order is Order.NEWEST_FIRST else in_scope), "the cameras' events in one order"


def test_the_last_page_says_there_is_no_more(store):
    store.write([event(n) for n in range(4)])
    page = store.query(page_size=4)
    assert not page.has_more and page.cursor is not None, "the cursor still marks where the pages stopped"
    after = store.query(page_size=4, cursor=page.cursor)
    assert after.events == () and after.cursor == page.cursor


@pytest.mark.parametrize("page_size", [0, -1, 1001, 2.5, True])
def test_a_page_size_out_of_bounds_is_refused(store, page_size):
    with pytest.raises(InvalidQuery, match="page_size"):
        store.query(page_size=page_size)


def test_an_unknown_order_is_refused(store):
    with pytest.raises(InvalidQuery, match="order: 'sideways'"):
        store.query(order="sideways")


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"time_from": T0 + 10, "time_to": T0}, "time_to"),
        ({"time_from": T0, "time_to": T0}, "time_to"),
        ({"time_from": float("inf")}, "time_from"),
        ({"min_dwell_s": -1}, "min_dwell_s"),
        ({"types": {"zone_entered"}}, "types"),
        ({"severities": {"critical"}}, "severities"),
        ({"cameras": "cam-1"}, "cameras"),
        ({"classes": {""}}, "classes"),
        ({"live_only": True, "job_ids": {"job-1"}}, "live_only"),
    ],
)
def test_a_bad_filter_is_refused_naming_the_field(fields, field):
    with pytest.raises(InvalidQuery) as raised:
        EventFilter(**fields)
    assert raised.value.field == field, str(raised.value)
    assert str(raised.value).startswith(f"{field}: ")


# ---- cursors -----------------------------------------------------------------------------


@pytest.fixture
def cursor(store):
    store.write([event(n) for n in range(10)])
    return store.query(EventFilter(cameras={"cam-1"}), page_size=3).cursor


def resume(store, cursor, **overrides):
    args = {"filter": EventFilter(cameras={"cam-1"}), "page_size": 3, "cursor": cursor, **overrides}
    return store.query(args.pop("filter"), **args)


def test_a_cursor_resumes_its_query(store, cursor):
    assert ids(resume(store, cursor).events) == ids([event(6), event(5), event(4)])


@pytest.mark.parametrize("bad", ["", "garbage", "a.b.c", "!!!.???", "x" * 600])
def test_a_malformed_cursor_is_refused(store, cursor, bad):
    with pytest.raises(InvalidCursor) as raised:
        resume(store, bad)
    assert raised.value.field == "cursor"


def test_an_altered_cursor_is_refused(store, cursor):
    payload, mac = cursor.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["s"] = 1  # jump to another position
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidCursor, match="altered"):
        resume(store, f"{forged}.{mac}")


def test_a_cursor_of_another_store_is_refused(store, cursor, tmp_path):
    with EventStore(db_path(tmp_path / "other")) as other:
        other.write([event(n) for n in range(10)])
        with pytest.raises(InvalidCursor, match="another event store"):
            resume(other, cursor)


def test_a_cursor_made_for_another_filter_is_refused(store, cursor):
    with pytest.raises(InvalidCursor, match="different filter"):
        resume(store, cursor, filter=EventFilter(cameras={"cam-1", "cam-2"}))


def test_a_cursor_made_for_the_other_order_is_refused(store, cursor):
    with pytest.raises(InvalidCursor, match="order"):
        resume(store, cursor, order="oldest_first")


def test_a_refused_cursor_leaves_the_store_working(store, cursor):
    with pytest.raises(InvalidCursor):
        resume(store, "garbage")
    assert len(resume(store, cursor).events) == 3
