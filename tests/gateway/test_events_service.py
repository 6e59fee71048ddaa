"""matthan.v1.Events over a real gRPC server and a real SQLite event store.

The store is read through `StoreQueries` (the writer actor's role in this process);
`tests/gateway/test_events_serve_path.py` runs the same calls through the writer actor.
Cameras (configured in the fake control plane): cam-a and cam-c in ward-1, cam-b in ward-2.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from cluster.client import EventSelection, InvalidArgument, NotFound, PermissionDenied, Unavailable
from cluster.events import EventFilter, EventStore
from cluster.gateway.access_log import ACCESS_LOGGER
from cluster.gateway.event_feed import EventFeedSettings
from cluster.proto.matthan.v1 import events_pb2, events_pb2_grpc
from tests.events.factory import JPEG, T0, event, revised

from .conftest import metadata
from .event_store_fake import StoreQueries
from .fakes import wait_until

FEED = EventFeedSettings(queue_size=64, pull_limit=50, pull_timeout_s=0.5, retry_initial_s=0.05, retry_max_s=0.2)


@pytest.fixture
def store(tmp_path):
    s = EventStore(tmp_path / "events.sqlite3")
    yield s
    s.close()


@pytest.fixture
def events(store) -> StoreQueries:
    return StoreQueries(store)


@pytest.fixture
def gw(make_gateway, events):
    return make_gateway(events=events, event_feed_settings=FEED)


def three_cameras(events: StoreQueries, per_camera: int = 3) -> dict[str, list]:
    """`per_camera` events on each of cam-a, cam-b, cam-c (interleaved start times)."""
    made: dict[str, list] = {"cam-a": [], "cam-b": [], "cam-c": []}
    n = 0
    for i in range(per_camera):
        for camera, made_here in made.items():
            made_here.append(event(n, camera=camera, track=i, thumbnail=JPEG))
            n += 1
    events.write(itertools.chain(*made.values()))
    return made


def ids(evs) -> list[str]:
    return [e.event_id for e in evs]


# ------------------------------------------------------------------------------- query


def test_query_returns_matching_events_newest_first_without_thumbnails(gw, events) -> None:
    made = three_cameras(events)
    page = gw.client("admin").events.search(EventSelection(camera_ids=["cam-a"]))
    assert ids(page.events) == ids(reversed(made["cam-a"])), "cam-a's events, newest first"
    assert all(e.thumbnail is None for e in page.events), "QueryEvents carries no thumbnails"
    assert not page.has_more, "one page holds them all"


def test_query_filters_by_type_class_and_time_range(gw, events) -> None:
    events.write(
        [
            event(0, type="zone_enter", class_name="person"),
            event(1, type="line_crossing", class_name="car", direction="a_to_b"),
            event(2, type="line_crossing", class_name="motorbike", direction="b_to_a"),
            event(3, type="line_crossing", class_name="car", direction="b_to_a"),
        ]
    )
    client = gw.client("operator")
    crossings = client.events.search(EventSelection(types=["line_crossing"], classes=["car"]), order="oldest_first")
    assert [e.start_pts for e in crossings.events] == [1.0, 3.0], "car crossings only, oldest first"
    window = client.events.search(EventSelection(time_from=T0 + 10, time_to=T0 + 30), order="oldest_first")
    assert [e.start_pts for e in window.events] == [1.0, 2.0], "start time within [from, to)"


def test_query_pages_with_the_cursor_never_skip_or_repeat_while_events_arrive(gw, events) -> None:
    events.write([event(n, camera="cam-a") for n in range(25)])
    client = gw.client("admin")
    seen: list[str] = []
    cursor = ""
    page_number = 0
    while True:
        page = client.events.search(
            EventSelection(camera_ids=["cam-a"]), page_size=7, cursor=cursor, order="oldest_first"
        )
        seen += ids(page.events)
        # New events arrive between pages: later ones (oldest first) must show up at the end.
        events.write([event(100 + page_number, camera="cam-a")])
        page_number += 1
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)), "no event is returned twice across pages"
    stored = ids(events.store.query(EventFilter(cameras={"cam-a"}), page_size=1000).events)
    assert set(seen) >= {event(n, camera="cam-a").event_id for n in range(25)}, "every event existing at the start"
    assert set(seen) <= set(stored), "only stored events"


def test_a_cursor_of_another_filter_is_refused_naming_the_cursor(gw, events) -> None:
    events.write([event(n, camera="cam-a") for n in range(5)])
    client = gw.client("admin")
    page = client.events.search(EventSelection(camera_ids=["cam-a"]), page_size=2)
    with pytest.raises(InvalidArgument, match="cursor"):
        client.events.search(EventSelection(camera_ids=["cam-c"]), page_size=2, cursor=page.next_cursor)


# --------------------------------------------------------------------------------- get


def test_get_event_returns_it_with_its_thumbnail(gw, events) -> None:
    made = three_cameras(events)
    wanted = made["cam-b"][1]
    got = gw.client("admin").events.get(wanted.event_id)
    assert got.event_id == wanted.event_id and got.camera_id == "cam-b", "the event asked for"
    assert got.thumbnail == JPEG, "with its thumbnail bytes"


def test_get_event_of_an_unknown_id_is_not_found(gw, events) -> None:
    with pytest.raises(NotFound, match="0123abcd"):
        gw.client("admin").events.get("0123abcd")


# ----------------------------------------------------------------------------- scoping


def test_a_viewer_never_sees_an_event_of_another_groups_camera(gw, events) -> None:
    made = three_cameras(events)
    viewer = gw.client("viewer-w1").events  # ward-1: cam-a, cam-c
    everything = list(viewer.search_all(EventSelection(), page_size=2))
    assert {e.camera_id for e in everything} == {"cam-a", "cam-c"}, "only ward-1's cameras"
    assert len(everything) == 6, "all of ward-1's events"
    with pytest.raises(PermissionDenied, match="cam-b"):
        viewer.search(EventSelection(camera_ids=["cam-b"]))
    with pytest.raises(NotFound):
        viewer.get(made["cam-b"][0].event_id)  # the same answer as an id that does not exist
    by_id = gw.client("viewer-a").events  # a token naming cam-a only
    assert {e.camera_id for e in by_id.search().events} == {"cam-a"}, "a camera-scoped token sees its camera"


def test_a_viewers_counts_cover_only_its_cameras(gw, events) -> None:
    three_cameras(events)
    rows = gw.client("viewer-w1").events.count(group_by=["camera"]).rows
    assert {r.camera_id: r.count for r in rows} == {"cam-a": 3, "cam-c": 3}, "no row of cam-b"
    total = gw.client("viewer-a").events.count().rows
    assert [r.count for r in total] == [3], "cam-a's events only"


def test_a_viewers_stream_never_delivers_another_groups_camera(gw, events) -> None:
    stream = gw.client("viewer-w1").events.stream()
    got: list = []

    def read() -> None:
        for update in stream:
            got.append(update.event)
            if len(got) == 2:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_until(lambda: gw.call(lambda: gw.server.state.event_feed.subscription_count) == 1, what="subscribed")
    events.write(
        [event(0, camera="cam-b"), event(1, camera="cam-a"), event(2, camera="cam-b"), event(3, camera="cam-c")]
    )
    reader.join(15)
    stream.cancel()
    assert [e.camera_id for e in got] == ["cam-a", "cam-c"], "cam-b's events are not streamed to a ward-1 viewer"


def test_a_viewers_stream_follows_group_changes_of_cameras(gw, events) -> None:
    stream = gw.client("viewer-w1").events.stream()
    got: list = []
    reader = read_updates(stream, 2, got)
    wait_until(lambda: gw.call(lambda: gw.server.state.event_feed.subscription_count) == 1, what="subscribed")
    gw.client("admin").update_camera({"id": "cam-a", "groups": ["ward-2"]}, fields=["groups"])
    gw.client("admin").update_camera({"id": "cam-b", "groups": ["ward-1"]}, fields=["groups"])
    sub = gw.call(lambda: next(iter(gw.server.state.event_feed._subscriptions)))
    wait_until(lambda: sub.cameras == frozenset({"cam-b", "cam-c"}), what="the stream's cameras re-resolved")
    events.write([event(0, camera="cam-a"), event(1, camera="cam-b"), event(2, camera="cam-c")])
    reader.join(15)
    stream.cancel()
    assert [u.event.camera_id for u in got] == ["cam-b", "cam-c"], "cam-a left ward-1, cam-b joined it"


def test_groups_in_the_filter_narrow_to_the_cameras_configured_in_them(gw, events) -> None:
    three_cameras(events)
    page = gw.client("admin").events.search(EventSelection(groups=["ward-2"]))
    assert {e.camera_id for e in page.events} == {"cam-b"}, "ward-2 is cam-b"


# ------------------------------------------------------------------------------- count


def test_count_groups_by_keys_and_hour_in_the_given_time_zone(gw, events) -> None:
    events.write(
        [
            event(0, camera="cam-a", type="line_crossing", class_name="car", direction="a_to_b", start=T0),
            event(1, camera="cam-a", type="line_crossing", class_name="car", direction="a_to_b", start=T0 + 60),
            event(2, camera="cam-a", type="line_crossing", class_name="car", direction="b_to_a", start=T0 + 3600),
        ]
    )
    counts = gw.client("admin").events.count(
        EventSelection(types=["line_crossing"]), group_by=["direction"], bucket="hour", time_zone="+07:00"
    )
    assert counts.time_zone == "+07:00", "the buckets' time zone is reported"
    summary = [(r.bucket_start, r.direction.value, r.count) for r in counts.rows]
    hour = T0 - T0 % 3600
    assert summary == [(hour, "a_to_b", 2), (hour + 3600, "b_to_a", 1)], "per hour and direction"


# ---------------------------------------------------------------------------- stream


def read_updates(stream, want: int, into: list) -> threading.Thread:
    def read() -> None:
        for update in stream:
            into.append(update)
            if len(into) >= want:
                return

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_stream_delivers_starts_updates_and_ends_live(gw, events) -> None:
    stream = gw.client("operator").events.stream(EventSelection(camera_ids=["cam-a"]))
    got: list = []
    reader = read_updates(stream, 3, got)
    wait_until(lambda: gw.call(lambda: gw.server.state.event_feed.subscription_count) == 1, what="subscribed")
    start = event(0, camera="cam-a", type="loitering", dwell_s=30.0)
    events.write([start])
    wait_until(lambda: len(got) >= 1, what="the start")
    events.write([revised(start, 1, dwell_s=45.0)])
    wait_until(lambda: len(got) >= 2, what="the update")
    events.write([revised(start, 2, dwell_s=60.0, end_time=T0 + 60, end_pts=60.0)])
    reader.join(15)
    stream.cancel()
    assert [(u.event.event_id, u.event.revision) for u in got] == [(start.event_id, r) for r in (0, 1, 2)], (
        "start, update and end of one event, in order"
    )
    assert got[-1].event.end_time == T0 + 60, "the end carries its end time"


def test_stream_resumed_from_a_cursor_loses_and_repeats_nothing(gw, events) -> None:
    client = gw.client("admin")
    first: list = []
    stream = client.events.stream()
    reader = read_updates(stream, 3, first)
    wait_until(lambda: gw.call(lambda: gw.server.state.event_feed.subscription_count) == 1, what="subscribed")
    events.write([event(n, camera="cam-a") for n in range(5)])
    reader.join(15)
    stream.cancel()  # a disconnect after 3 of 5
    wait_until(
        lambda: gw.call(lambda: gw.server.state.event_feed.subscription_count) == 0, timeout=30.0, what="unsubscribed"
    )
    events.write([event(n, camera="cam-c") for n in range(5, 8)])  # while away
    second: list = []
    resumed = client.events.stream(cursor=first[-1].cursor)
    reader = read_updates(resumed, 5, second)
    reader.join(15)
    resumed.cancel()
    delivered = ids(u.event for u in first + second)
    expected = [event(n, camera="cam-a").event_id for n in range(5)] + [
        event(n, camera="cam-c").event_id for n in range(5, 8)
    ]
    assert delivered == expected, "every event once, in commit order, across the reconnect"


def test_many_streams_share_one_upstream_follow_of_the_change_feed(gw, events) -> None:
    streams = [gw.client("admin").events.stream() for _ in range(4)]
    results: list[list] = [[] for _ in streams]
    readers = [read_updates(s, 2, r) for s, r in zip(streams, results, strict=True)]
    wait_until(lambda: gw.call(lambda: gw.server.state.event_feed.subscription_count) == 4, what="4 subscribed")
    before = events.calls.get("changes_after", 0)
    events.write([event(0), event(1)])
    for r in readers:
        r.join(15)
    for s in streams:
        s.cancel()
    assert all(len(r) == 2 for r in results), "every subscriber got both events"
    # One long-poll loop, plus at most one short catch-up read per subscriber.
    assert events.calls["changes_after"] - before <= 2 + len(streams) * 2, "not one follow per stream"


# ----------------------------------------------------------------------- bad input


def stub(gw) -> events_pb2_grpc.EventsStub:
    return events_pb2_grpc.EventsStub(gw.channel())


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (events_pb2.QueryEventsRequest(cursor="not-a-cursor"), "cursor"),
        (events_pb2.QueryEventsRequest(page_size=5000), "page_size"),
        (events_pb2.QueryEventsRequest(filter=events_pb2.EventFilter(types=[99])), "filter.types[0]"),
        (events_pb2.QueryEventsRequest(filter=events_pb2.EventFilter(severities=[0])), "filter.severities[0]"),
        (events_pb2.QueryEventsRequest(filter=events_pb2.EventFilter(camera_ids=["x"] * 1001)), "filter.camera_ids"),
        (events_pb2.QueryEventsRequest(filter=events_pb2.EventFilter(camera_ids=["bad id!"])), "filter.camera_ids[0]"),
        (events_pb2.QueryEventsRequest(filter=events_pb2.EventFilter(min_dwell_s=-1)), "filter.min_dwell_s"),
        (events_pb2.QueryEventsRequest(order=7), "order"),
        (  # found by tests/gateway/test_surface.py: an invalid Timestamp was UNKNOWN
            events_pb2.QueryEventsRequest(filter=events_pb2.EventFilter(time_to=Timestamp(nanos=-1))),
            "filter.time_to",
        ),
        (
            events_pb2.QueryEventsRequest(filter=events_pb2.EventFilter(time_from=Timestamp(seconds=2**62))),
            "filter.time_from",
        ),
    ],
)
def test_bad_query_input_is_invalid_argument_naming_the_field(gw, events, request_, field) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub(gw).QueryEvents(request_, metadata=metadata("admin"), timeout=10)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert caught.value.details().startswith(field), f"names {field}: {caught.value.details()}"
    assert gw.client().health("matthan.v1.Events") == "SERVING", "the server keeps serving"


def test_a_time_range_backwards_is_invalid_argument_naming_it(gw, events) -> None:
    request = events_pb2.QueryEventsRequest()
    request.filter.time_from.FromSeconds(int(T0) + 100)
    request.filter.time_to.FromSeconds(int(T0))
    with pytest.raises(grpc.RpcError) as caught:
        stub(gw).QueryEvents(request, metadata=metadata("viewer-all"), timeout=10)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "filter.time" in caught.value.details(), caught.value.details()


@pytest.mark.parametrize(
    ("request_", "call", "field"),
    [
        (events_pb2.GetEventRequest(event_id="../etc"), "GetEvent", "event_id"),
        (events_pb2.StreamEventsRequest(cursor="f1.garbage"), "StreamEvents", "cursor"),
        (events_pb2.StreamEventsRequest(cursor="x" * 100), "StreamEvents", "cursor"),
        (events_pb2.CountEventsRequest(group_by=[1, 1]), "CountEvents", "group_by"),
        (events_pb2.CountEventsRequest(group_by=[42]), "CountEvents", "group_by[0]"),
        (events_pb2.CountEventsRequest(bucket=9), "CountEvents", "bucket"),
        (events_pb2.CountEventsRequest(time_zone="Mars/Olympus"), "CountEvents", "time_zone"),
    ],
)
def test_bad_input_to_the_other_calls_is_invalid_argument_naming_the_field(gw, events, request_, call, field) -> None:
    method = getattr(stub(gw), call)
    with pytest.raises(grpc.RpcError) as caught:
        reply = method(request_, metadata=metadata("admin"), timeout=10)
        if call == "StreamEvents":
            next(iter(reply))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert caught.value.details().startswith(field), f"names {field}: {caught.value.details()}"
    assert gw.client().health("matthan.v1.Events") == "SERVING", "the server keeps serving"


def test_client_side_bad_names_are_invalid_argument_before_any_call(gw) -> None:
    with pytest.raises(InvalidArgument, match="types"):
        gw.client().events.search(EventSelection(types=["teleport"]))


# ------------------------------------------------------------------ access log and health


def test_every_search_is_in_the_access_log_with_who_and_what(gw, events, caplog) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    gw.client("viewer-w1").events.search(EventSelection(classes=["person"], types=["zone_enter"]), page_size=10)
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]
    (record,) = [r for r in records if r.get("method") == "QueryEvents"]
    assert record["who"] == "viewer-w1" and record["status"] == "OK", record
    assert record["query"]["filter"] == {"classes": ["person"], "types": ["EVENT_TYPE_ZONE_ENTER"]}, record
    assert record["query"]["page_size"] == 10, record


def test_without_an_event_store_the_calls_are_unavailable(gateway) -> None:
    with pytest.raises(Unavailable, match="event store"):
        gateway.client().events.search()


def test_a_writer_that_does_not_answer_is_unavailable_and_the_server_carries_on(gw, events) -> None:
    events.down = True
    with pytest.raises(Unavailable, match="event writer"):
        gw.client().events.search()
    events.down = False
    assert gw.client().events.search().events == (), "answers again once the writer is back"


def test_health_and_reflection_list_the_events_service(gw) -> None:
    assert gw.client().health("matthan.v1.Events") == "SERVING", "health knows the Events service"
