"""The live events feed on the page's WebSocket and event thumbnails over HTTP: the
gateway's one change-feed follow, scoped exactly as StreamEvents, bounded and never
silently lossy.

A real SQLite event store read through `ConsoleStoreQueries` (the writer actor's role
in this process). Cameras: cam-a and cam-c in ward-1, cam-b in ward-2.
"""

from __future__ import annotations

import pytest

from cluster.events import EventStore
from cluster.web import event_channel
from tests.events.factory import JPEG, event, revised
from tests.fixtures.waiting import wait_until

from .conftest import token
from .event_store import ConsoleStoreQueries
from .harness import Received


@pytest.fixture
def events(tmp_path):
    queries = ConsoleStoreQueries(EventStore(tmp_path / "events.sqlite3"))
    yield queries
    queries.close()


@pytest.fixture
def console(events, make_console):
    # `events` first: its store closes after the console has stopped (threads read it until then).
    return make_console(events=events)


def logged_in(console, who: str = "admin"):
    browser = console.browser()
    assert browser.login(token(who)).status == 200
    return browser


def is_events(camera: str | None = None, *, with_events: bool = True):
    def match(m: Received) -> bool:
        return m.type == "events" and m.data.get("camera") == camera and (not with_events or bool(m.data["events"]))

    return match


def feed_opened(sock, camera: str | None = None) -> Received:
    """The first `events` message: the recent events (maybe none); live ones follow."""
    first, _ = sock.receive_until(is_events(camera, with_events=False))
    assert first.data["recent"] is True, f"the first message holds the recent events: {first.data}"
    return first


def test_an_event_stored_after_the_feed_opened_reaches_the_page(console, events) -> None:
    sock = logged_in(console, "operator").socket()
    sock.subscribe("events")
    assert feed_opened(sock).data["events"] == [], "an empty store: no recent events"
    stored = event(1, camera="cam-b", rule="cong-chinh", class_name="car", dwell_s=4.25)
    events.write([stored])
    message, _ = sock.receive_until(is_events())
    [shown] = message.data["events"]
    assert shown["id"] == stored.event_id, f"the stored event: {shown}"
    assert (shown["camera"], shown["rule"], shown["class"], shown["dwell_s"]) == ("cam-b", "cong-chinh", "car", 4.2), (
        f"camera, rule, class and dwell are what the feed shows: {shown}"
    )
    assert shown["alert"] is True and shown["severity"] == "alert", f"an alert is flagged for highlighting: {shown}"
    assert message.data["lost"] == 0, "nothing was left out"


def test_the_feed_opens_with_the_recent_events_oldest_first(console, events) -> None:
    made = [event(n, camera="cam-a") for n in range(3)]
    events.write(made)
    sock = logged_in(console).socket()
    sock.subscribe("events")
    first = feed_opened(sock)
    assert [e["id"] for e in first.data["events"]] == [e.event_id for e in made], (
        "a reloaded page shows what just happened, oldest first (the page puts the newest on top)"
    )


def test_every_browser_shares_the_gateways_one_change_feed_follow(console, events) -> None:
    socks = [logged_in(console, who).socket() for who in ("admin", "operator", "viewer-w1")]
    for sock in socks:
        sock.subscribe("events")
        feed_opened(sock)
    feed = console.gateway.state.event_feed
    assert console.call(lambda: feed.subscription_count) == 3, "each page is one subscriber of the gateway's feed"
    assert console.web.services.event_feed is feed, "the console uses the gateway's EventFeed, no second follow"
    events.write([event(1, camera="cam-a")])
    for sock in socks:
        sock.receive_until(is_events())


def test_a_viewer_never_gets_another_groups_event(console, events) -> None:
    sock = logged_in(console, "viewer-w1").socket()
    sock.subscribe("events")
    feed_opened(sock)
    events.write([event(1, camera="cam-b"), event(2, camera="cam-a")])
    message, before = sock.receive_until(is_events())
    shown = [e["camera"] for m in [*before, message] if m.type == "events" for e in m.data["events"]]
    assert shown == ["cam-a"], f"ward-1's viewer sees cam-a's event, never cam-b's (ward-2): {shown}"
    events.write([event(3, camera="cam-b"), event(4, camera="cam-c")])
    message, _ = sock.receive_until(is_events())
    assert [e["camera"] for e in message.data["events"]] == ["cam-c"], message.data


def test_a_viewer_naming_another_groups_camera_is_refused(console) -> None:
    sock = logged_in(console, "viewer-w1").socket()
    sock.subscribe("events", "cam-b")
    closed, _ = sock.receive_until(lambda m: m.type == "closed" and m.data.get("camera") == "cam-b")
    assert (closed.data["channel"], closed.data["code"]) == ("events", "permission_denied"), closed.data
    sock.subscribe("events", "cam-zzz")
    unknown, _ = sock.receive_until(lambda m: m.type == "closed" and m.data.get("camera") == "cam-zzz")
    assert unknown.data["code"] == "permission_denied", "an unknown id gets the same answer: no probing"


def test_the_one_camera_feed_holds_that_cameras_events_only(console, events) -> None:
    sock = logged_in(console, "viewer-w1").socket()
    sock.subscribe("events", "cam-c")
    feed_opened(sock, "cam-c")
    events.write([event(1, camera="cam-a"), event(2, camera="cam-c")])
    message, _ = sock.receive_until(is_events("cam-c"))
    assert [e["camera"] for e in message.data["events"]] == ["cam-c"], message.data


def test_a_viewer_whose_camera_leaves_its_groups_stops_getting_its_events(console, events) -> None:
    sock = logged_in(console, "viewer-w1").socket()
    sock.subscribe("events")
    feed_opened(sock)
    camera = console.control.cameras["cam-a"]
    console.run(console.control.update_camera(camera.config.model_copy(update={"groups": ["ward-9"]})))
    feed = console.gateway.state.event_feed
    wait_until(
        lambda: all(
            s.cameras is not None and "cam-a" not in s.cameras for s in console.call(lambda: list(feed._subscriptions))
        ),
        10,
        "the gateway's AccessWatch narrows the page's subscription",
    )
    events.write([event(1, camera="cam-a"), event(2, camera="cam-c")])
    message, _ = sock.receive_until(is_events())
    assert [e["camera"] for e in message.data["events"]] == ["cam-c"], f"cam-a left ward-1: {message.data}"


def test_a_browser_that_reads_nothing_holds_a_bounded_list_and_learns_what_it_lost(
    console, events, monkeypatch
) -> None:
    monkeypatch.setattr(event_channel, "BACKLOG", 5)
    sock = logged_in(console).socket()
    window = console.config.web.socket_window
    sock.subscribe("events")
    # Fill the window without acknowledging: one event at a time, each its own message.
    seen = [sock.receive()]  # hello
    seen.append(sock.receive_until(is_events(with_events=False), ack=False)[0])
    n = 0
    while len(seen) < window:
        events.write([event(n, camera="cam-a")])
        n += 1
        message, before = sock.receive_until(is_events(), ack=False)
        seen += [*before, message]
    assert sock.quiet(0.3) is None, "the window is full: nothing more is sent"
    burst = [event(100 + i, camera="cam-b") for i in range(12)]
    events.write(burst)
    wait_until(
        lambda: console.call(lambda: console.gateway.state.event_feed.position or 0) >= events.store.last_change_seq(),
        10,
        "the feed read the burst",
    )
    sock.ack(seen[-1].seq)
    message, _ = sock.receive_until(is_events())
    assert [e["id"] for e in message.data["events"]] == [e.event_id for e in burst[-5:]], (
        "the newest BACKLOG events wait, in order"
    )
    assert message.data["lost"] == 7, f"the page learns how many it missed: {message.data}"


def test_an_updated_event_waits_once_as_its_newest_revision(console, events) -> None:
    sock = logged_in(console).socket()
    sock.subscribe("events")
    feed_opened(sock)
    first = event(1, camera="cam-a", type="loitering", dwell_s=10.0)
    events.write([first])
    message, _ = sock.receive_until(is_events())
    assert [e["revision"] for e in message.data["events"]] == [0]
    events.write([revised(first, 1, dwell_s=20.0)])
    message, _ = sock.receive_until(is_events())
    assert [(e["id"], e["revision"], e["dwell_s"]) for e in message.data["events"]] == [(first.event_id, 1, 20.0)]


def test_each_feed_is_a_stream_in_the_access_log(console, events) -> None:
    sock = logged_in(console, "viewer-w1").socket()
    sock.subscribe("events")
    feed_opened(sock)
    sock.unsubscribe("events")
    wait_until(lambda: console.records.of("stream_end", "WebEvents"), 10, "the feed's stream ended")
    [start] = console.records.of("stream_start", "WebEvents")
    assert start["who"] == "viewer-w1" and start["via"] == "web", start
    assert sorted(start["cameras"]) == ["cam-a", "cam-c"], f"the cameras it covered: {start}"
    [end] = console.records.of("stream_end", "WebEvents")
    assert end["status"] == "CANCELLED", end


def test_without_an_event_store_the_feed_is_unavailable(make_console) -> None:
    console = make_console()
    sock = logged_in(console).socket()
    sock.subscribe("events")
    closed, _ = sock.receive_until(lambda m: m.type == "closed")
    assert (closed.data["channel"], closed.data["code"]) == ("events", "unavailable"), closed.data


def test_a_malformed_events_subscription_closes_the_socket_naming_the_field(console) -> None:
    sock = logged_in(console).socket()
    sock.send({"type": "subscribe", "channel": "events", "size": "tile"})
    closed = sock.closed()
    assert closed.code == 4400 and "size" in closed.reason, (closed.code, closed.reason)


# ------------------------------------------------------------------------- thumbnails


def test_a_thumbnail_is_served_to_who_may_see_the_event(console, events) -> None:
    stored = event(1, camera="cam-a", thumbnail=JPEG)
    events.write([stored])
    reply = logged_in(console, "viewer-w1").get(f"/api/events/{stored.event_id}/thumbnail")
    assert reply.status == 200 and reply.body == JPEG, (reply.status, reply.body[:40])
    assert reply.headers["Content-Type"] == "image/jpeg"
    assert reply.headers["Cache-Control"] == "no-store", "pictures with data are never cached"


def test_another_groups_thumbnail_is_not_found_like_an_unknown_id(console, events) -> None:
    stored = event(1, camera="cam-b", thumbnail=JPEG)
    events.write([stored])
    viewer = logged_in(console, "viewer-w1")
    foreign = viewer.get(f"/api/events/{stored.event_id}/thumbnail")
    unknown = viewer.get(f"/api/events/{'0' * 32}/thumbnail")
    assert (foreign.status, foreign.error_code) == (404, "not_found"), foreign.body
    assert (unknown.status, unknown.error_code) == (404, "not_found"), unknown.body
    assert foreign.body.replace(stored.event_id.encode(), b"X") == unknown.body.replace(b"0" * 32, b"X"), (
        "the same answer: a viewer cannot probe another group's events"
    )
    assert logged_in(console, "operator").get(f"/api/events/{stored.event_id}/thumbnail").status == 200


def test_thumbnail_bad_input_and_no_session(console, events) -> None:
    browser = logged_in(console)
    bad = browser.get("/api/events/not-hex!/thumbnail")
    assert (bad.status, bad.error_code) == (400, "bad_request") and "event id" in bad.json["error"]["message"]
    extra = browser.get(f"/api/events/{'a' * 32}/thumbnail?width=5")
    assert extra.status == 400 and "width" in extra.json["error"]["message"], extra.body
    events.write([stored := event(1, camera="cam-a")])
    none = browser.get(f"/api/events/{stored.event_id}/thumbnail")
    assert (none.status, none.error_code) == (404, "not_found"), "an event without a thumbnail"
    anonymous = console.browser().get(f"/api/events/{stored.event_id}/thumbnail")
    assert anonymous.status == 401, anonymous.body


def test_the_event_store_not_answering_is_503(console, events) -> None:
    events.write([stored := event(1, camera="cam-a", thumbnail=JPEG)])
    events.down = True
    reply = logged_in(console).get(f"/api/events/{stored.event_id}/thumbnail")
    assert (reply.status, reply.error_code) == (503, "unavailable"), reply.body
