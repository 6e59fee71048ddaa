"""Acknowledging an alert: operators and above, CSRF-protected, recorded (who, what,
when) in the event store and the access log, and shown on every open feed and after a
reload; a viewer cannot, and nobody can acknowledge what they may not see."""

from __future__ import annotations

import pytest

from cluster.events import EventStore
from tests.events.factory import event, revised

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


def logged_in(console, who: str = "operator"):
    browser = console.browser()
    assert browser.login(token(who)).status == 200
    return browser


def ack_path(e) -> str:
    return f"/api/events/{e.event_id}/ack"


def is_events(m: Received) -> bool:
    return m.type == "events"


def test_an_operator_acknowledges_an_alert_and_it_is_recorded(console, events) -> None:
    alert = event(1, camera="cam-a")
    events.write([alert])
    console.clock.now = 1_800_000_000.0
    reply = logged_in(console).post(ack_path(alert))
    assert reply.status == 200, reply.body
    assert reply.json == {"event_id": alert.event_id, "by": "operator", "at": 1_800_000_000.0}, reply.json
    stored = events.store.acknowledgements([alert.event_id])[alert.event_id]
    assert (stored.by, stored.at) == ("operator", 1_800_000_000.0), "persisted in the event store: who and when"
    [line] = console.records.of("call", "WebAcknowledge")
    assert (line["who"], line["cameras"], line["status"], line["event_id"]) == (
        "operator",
        ["cam-a"],
        "OK",
        alert.event_id,
    ), f"the access log says who acknowledged what: {line}"


def test_a_second_acknowledgement_keeps_the_first(console, events) -> None:
    alert = event(1, camera="cam-a")
    events.write([alert])
    first = logged_in(console, "operator").post(ack_path(alert)).json
    console.clock.advance(30)
    second = logged_in(console, "admin").post(ack_path(alert))
    assert second.status == 200 and second.json == first, f"the first acknowledgement stays: {second.json}"


def test_every_open_feed_shows_the_acknowledgement(console, events) -> None:
    alert = event(1, camera="cam-a")
    events.write([alert])
    watching = logged_in(console, "viewer-w1").socket()
    watching.subscribe("events")
    first, _ = watching.receive_until(is_events)
    assert [e["ack"] for e in first.data["events"]] == [None], "not acknowledged yet"
    logged_in(console).post(ack_path(alert))
    message, _ = watching.receive_until(lambda m: is_events(m) and bool(m.data["acks"]))
    assert [(a["event_id"], a["by"]) for a in message.data["acks"]] == [(alert.event_id, "operator")], message.data


def test_a_feed_opened_later_shows_it_acknowledged(console, events) -> None:
    alert = event(1, camera="cam-a")
    events.write([alert])
    logged_in(console).post(ack_path(alert))
    sock = logged_in(console, "viewer-w1").socket()
    sock.subscribe("events")
    first, _ = sock.receive_until(is_events)
    [shown] = first.data["events"]
    assert shown["ack"]["by"] == "operator", f"a reload shows it acknowledged: {shown}"


def test_an_update_of_an_acknowledged_event_stays_acknowledged(console, events) -> None:
    alert = event(1, camera="cam-a", type="loitering", dwell_s=10.0)
    events.write([alert])
    logged_in(console).post(ack_path(alert))
    sock = logged_in(console, "admin").socket()
    sock.subscribe("events", "cam-c")  # has not shown the event: must ask the store
    sock.receive_until(is_events)
    sock.unsubscribe("events", "cam-c")
    sock.subscribe("events")
    sock.receive_until(lambda m: is_events(m) and m.data["recent"])
    events.write([revised(alert, 1, dwell_s=20.0)])
    message, _ = sock.receive_until(lambda m: is_events(m) and any(e["revision"] == 1 for e in m.data["events"]))
    [shown] = message.data["events"]
    assert shown["ack"] is not None and shown["ack"]["by"] == "operator", shown


def test_an_acknowledgement_is_not_told_to_a_feed_that_did_not_show_the_event(console, events) -> None:
    alert = event(1, camera="cam-b")
    events.write([alert])
    other_ward = logged_in(console, "viewer-w1").socket()
    other_ward.subscribe("events")
    other_ward.receive_until(is_events)
    logged_in(console).post(ack_path(alert))
    events.write([marker := event(2, camera="cam-a")])
    message, before = other_ward.receive_until(
        lambda m: is_events(m) and any(e["id"] == marker.event_id for e in m.data["events"])
    )
    told = [a for m in [*before, message] if m.type == "events" for a in m.data["acks"]]
    assert told == [], f"ward-1's viewer learns nothing of ward-2's event: {told}"


def test_a_viewer_may_not_acknowledge(console, events) -> None:
    alert = event(1, camera="cam-a")
    events.write([alert])
    reply = logged_in(console, "viewer-w1").post(ack_path(alert))
    assert (reply.status, reply.error_code) == (403, "permission_denied"), reply.body
    assert events.store.acknowledgements([alert.event_id]) == {}, "nothing recorded"
    [line] = console.records.of("denied", "WebAcknowledge")
    assert line["who"] == "viewer-w1", line


def test_acknowledging_needs_the_csrf_token_and_the_consoles_origin(console, events) -> None:
    alert = event(1, camera="cam-a")
    events.write([alert])
    browser = logged_in(console)
    no_token = browser.post(ack_path(alert), csrf=False)
    assert (no_token.status, no_token.error_code) == (403, "csrf_failed"), no_token.body
    forged = browser.post(ack_path(alert), headers={"X-CSRF-Token": "forged"})
    assert (forged.status, forged.error_code) == (403, "csrf_failed"), forged.body
    foreign = browser.post(ack_path(alert), headers={"Origin": "http://evil.example"})
    assert foreign.status == 403, foreign.body
    form = browser.request(
        "POST", ack_path(alert), data="a=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form.status in (403, 415), f"a cross-site form cannot acknowledge: {form.status}"
    assert events.store.acknowledgements([alert.event_id]) == {}, "none of them recorded anything"
    assert console.browser().post(ack_path(alert)).status in (401, 403), "no session: refused"


def test_bad_acknowledgements_get_a_clear_status(console, events) -> None:
    browser = logged_in(console)
    unknown = browser.post(f"/api/events/{'0' * 32}/ack")
    assert (unknown.status, unknown.error_code) == (404, "not_found"), unknown.body
    malformed = browser.post("/api/events/zz-top/ack")
    assert (malformed.status, malformed.error_code) == (400, "bad_request") and "event id" in malformed.body.decode()
    alert = event(1, camera="cam-a")
    events.write([alert])
    extra = browser.post(ack_path(alert), {"note": "x"})
    assert extra.status == 400 and "note" in extra.body.decode(), extra.body
    big = browser.post(ack_path(alert), {"x": "a" * (console.config.web.max_request_bytes + 10)})
    assert big.status == 413, f"an oversized request: {big.status}"
    assert browser.get(ack_path(alert)).status == 405, "GET does not acknowledge"
    events.down = True
    down = browser.post(ack_path(alert))
    assert (down.status, down.error_code) == (503, "unavailable"), down.body
