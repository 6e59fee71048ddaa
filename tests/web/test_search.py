"""Event search and CSV export over HTTP: the Events API's filters, scoped as QueryEvents
(a viewer never gets another group's event or CSV row), the store's cursor, bad filters
named, and a bounded, streamed CSV.

Cameras: cam-a and cam-c in ward-1, cam-b in ward-2.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from cluster.events import EventStore
from cluster.web import search
from tests.events.factory import T0, event

from .conftest import token
from .event_store import ConsoleStoreQueries


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


def rows_of(body: bytes) -> list[dict]:
    text = body.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def three_cameras(events) -> list:
    made = [event(n, camera=camera, track=n) for n, camera in enumerate(["cam-a", "cam-b", "cam-c"] * 2)]
    events.write(made)
    return made


def test_search_finds_events_by_camera_type_class_rule_and_time(console, events) -> None:
    made = [
        event(0, camera="cam-a", type="zone_enter", class_name="person", rule="hem"),
        event(1, camera="cam-a", type="line_crossing", class_name="car", rule="cong", direction="a_to_b"),
        event(2, camera="cam-b", type="line_crossing", class_name="motorbike", rule="cong", direction="b_to_a"),
        event(3, camera="cam-a", type="line_crossing", class_name="car", rule="cong", direction="b_to_a"),
    ]
    events.write(made)
    browser = logged_in(console)
    found = browser.get("/api/events?camera=cam-a&type=line_crossing&class=car&rule=cong&order=oldest_first")
    assert found.status == 200, found.body
    assert [e["id"] for e in found.json["events"]] == [made[1].event_id, made[3].event_id], found.json
    window = browser.get(f"/api/events?from={T0 + 10}&to={T0 + 30}&order=oldest_first").json
    assert [e["id"] for e in window["events"]] == [made[1].event_id, made[2].event_id], "start time within [from, to)"
    start = datetime.fromtimestamp(T0 + 10, timezone(timedelta(hours=7))).isoformat()  # ...+07:00
    end = datetime.fromtimestamp(T0 + 30, timezone.utc).isoformat().replace("+00:00", "Z")
    iso = browser.get(f"/api/events?from={quote(start)}&to={end}&order=oldest_first")
    assert [e["id"] for e in iso.json["events"]] == [made[1].event_id, made[2].event_id], "ISO 8601 with offsets"
    by_group = browser.get("/api/events?group=ward-2").json
    assert [e["camera"] for e in by_group["events"]] == ["cam-b"], "by camera group"


def test_search_pages_with_the_stores_cursor(console, events) -> None:
    made = [event(n, camera="cam-a") for n in range(7)]
    events.write(made)
    browser = logged_in(console)
    seen, cursor = [], None
    while True:
        path = "/api/events?order=oldest_first&page_size=3" + (f"&cursor={cursor}" if cursor else "")
        page = browser.get(path).json
        seen += [e["id"] for e in page["events"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == [e.event_id for e in made], "every event once, in order, across pages"


def test_search_results_carry_their_acknowledgement(console, events) -> None:
    made = three_cameras(events)
    browser = logged_in(console)
    assert browser.post(f"/api/events/{made[0].event_id}/ack").status == 200
    page = browser.get("/api/events?camera=cam-a&order=oldest_first").json
    assert [(e["id"], (e["ack"] or {}).get("by")) for e in page["events"]] == [
        (made[0].event_id, "operator"),
        (made[3].event_id, None),
    ], page


def test_a_viewer_never_gets_another_groups_events_or_rows(console, events) -> None:
    three_cameras(events)
    viewer = logged_in(console, "viewer-w1")
    page = viewer.get("/api/events").json
    assert {e["camera"] for e in page["events"]} == {"cam-a", "cam-c"}, f"ward-1 only: {page}"
    rows = rows_of(viewer.get("/api/events.csv").body)
    assert {r["camera"] for r in rows} == {"cam-a", "cam-c"} and len(rows) == 4, f"the CSV too: {rows}"
    for path in ("/api/events?camera=cam-b", "/api/events.csv?camera=cam-b", "/api/events?camera=cam-zzz"):
        reply = viewer.get(path)
        assert (reply.status, reply.error_code) == (403, "permission_denied"), f"{path}: {reply.status}"
    ward2 = viewer.get("/api/events?group=ward-2").json
    assert ward2["events"] == [], "another group's name narrows to nothing the viewer may see"


def test_the_csv_has_every_matching_row_with_its_acknowledgement(console, events) -> None:
    made = three_cameras(events)
    browser = logged_in(console)
    browser.post(f"/api/events/{made[1].event_id}/ack")
    reply = browser.get("/api/events.csv?camera=cam-b&order=oldest_first")
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("text/csv"), reply.headers
    assert reply.headers["Content-Disposition"].startswith('attachment; filename="matthan-events-'), reply.headers
    assert reply.headers["Cache-Control"] == "no-store"
    rows = rows_of(reply.body)
    assert [r["event_id"] for r in rows] == [made[1].event_id, made[4].event_id], rows
    assert rows[0]["acknowledged_by"] == "operator" and rows[1]["acknowledged_by"] == "", rows
    start = datetime.fromtimestamp(made[1].start_time, timezone.utc).isoformat(timespec="milliseconds")
    assert rows[0]["start_utc"] == start.replace("+00:00", "Z"), rows[0]
    assert tuple(rows[0]) == search.CSV_COLUMNS, "the documented columns"
    [line] = console.records.of("call", "WebExportEvents")
    assert line["rows"] == 2 and line["query"]["cameras"] == ["cam-b"], f"the export is in the access log: {line}"


def test_the_csv_is_bounded_and_says_when_it_was_cut(console, events, monkeypatch) -> None:
    monkeypatch.setattr(search, "MAX_CSV_ROWS", 5)
    monkeypatch.setattr(search, "CSV_PAGE", 2)
    events.write([event(n, camera="cam-a") for n in range(8)])
    body = logged_in(console).get("/api/events.csv").body.decode("utf-8-sig")
    lines = body.strip().split("\r\n")
    assert len(lines) == 1 + 5 + 1, f"header, the bound's rows, a last line: {lines}"
    assert lines[-1].startswith("# cut at 5 rows"), lines[-1]


def test_csv_cells_never_run_as_spreadsheet_formulas(console, events) -> None:
    events.write([event(1, camera="cam-a", rule="=HYPERLINK(1)")])
    [row] = rows_of(logged_in(console).get("/api/events.csv").body)
    assert row["rule"] == "'=HYPERLINK(1)", row


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/events?type=zone_entered", "type"),
        ("/api/events?severity=urgent", "severity"),
        ("/api/events?from=yesterday", "from"),
        ("/api/events?from=2026-12-01T08:00", "from"),
        (f"/api/events?from={T0 + 10}&to={T0}", "to"),
        ("/api/events?order=random", "order"),
        ("/api/events?page_size=0", "page_size"),
        ("/api/events?page_size=many", "page_size"),
        ("/api/events?cursor=not-a-cursor", "cursor"),
        ("/api/events?camera=Not%20An%20Id", "camera"),
        ("/api/events?class=", "class"),
        ("/api/events?colour=red", "colour"),
        ("/api/events.csv?cursor=x", "cursor"),
        ("/api/events.csv?type=nope", "type"),
    ],
)
def test_bad_filters_are_400_naming_the_field(console, events, path, field) -> None:
    reply = logged_in(console).get(path)
    assert (reply.status, reply.error_code) == (400, "bad_request"), f"{path}: {reply.status} {reply.body!r}"
    assert field in reply.json["error"]["message"], f"{path}: the message names {field!r}: {reply.json}"


def test_search_needs_a_session_and_an_event_store(console, make_console) -> None:
    assert console.browser().get("/api/events").status == 401
    assert console.browser().get("/api/events.csv").status == 401
    without = make_console()
    reply = logged_in(without).get("/api/events")
    assert (reply.status, reply.error_code) == (503, "unavailable"), reply.body


def test_the_store_not_answering_is_503(console, events) -> None:
    events.down = True
    browser = logged_in(console)
    assert browser.get("/api/events").status == 503
    assert browser.get("/api/events.csv").status == 503, "checked before the first byte of the file"
