"""`matthan events search|tail|show|count` against a real front door on loopback, which
reads a real SQLite event store (see tests/gateway/test_events_service.py)."""

from __future__ import annotations

import json
import threading

import pytest

from cluster.cli.events_cmd import parse_time
from cluster.cli.main import main
from cluster.events import EventStore
from tests.events.factory import JPEG, T0, event
from tests.gateway.conftest import TOKENS, loop_thread, make_gateway  # noqa: F401 - fixtures
from tests.gateway.event_store_fake import StoreQueries
from tests.gateway.fakes import wait_until

ADMIN = TOKENS["admin"][0]
VIEWER_A = TOKENS["viewer-a"][0]


@pytest.fixture
def events(tmp_path):
    store = EventStore(tmp_path / "events.sqlite3")
    yield StoreQueries(store)
    store.close()


@pytest.fixture
def gw(make_gateway, events):  # noqa: F811
    return make_gateway(events=events)


def cli(gw, *argv, token=ADMIN) -> int:
    return main([*argv, "--address", gw.target, "--token", token])


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def crossings(events: StoreQueries) -> list:
    made = [
        event(0, camera="cam-a", type="line_crossing", class_name="car", direction="a_to_b", thumbnail=JPEG),
        event(1, camera="cam-a", type="line_crossing", class_name="motorbike", direction="b_to_a"),
        event(2, camera="cam-b", type="line_crossing", class_name="car", direction="a_to_b"),
        event(3, camera="cam-a", type="zone_enter", class_name="person"),
    ]
    events.write(made)
    return made


def test_search_json_prints_one_event_per_line_newest_first(gw, events, capsys) -> None:
    made = crossings(events)
    assert cli(gw, "events", "search", "--type", "line_crossing", "--camera", "cam-a", "--json") == 0
    rows = json_lines(capsys.readouterr().out)
    assert [r["event_id"] for r in rows] == [made[1].event_id, made[0].event_id], "cam-a's crossings, newest first"
    assert rows[1]["direction"] == "a_to_b" and rows[1]["class"] == "car", rows[1]
    assert rows[1]["start_time"] == "2026-09-21T14:13:20.000Z", "times in UTC, ISO 8601"


def test_search_table_and_the_cursor_for_more(gw, events, capsys) -> None:
    crossings(events)
    assert cli(gw, "events", "search", "--limit", "2") == 0
    captured = capsys.readouterr()
    assert "2 event(s)" in captured.out and "line_crossing" in captured.out, captured.out
    assert "--cursor " in captured.err, "says how to get the next events"
    cursor = captured.err.split("--cursor ", 1)[1].split()[0]
    assert cli(gw, "events", "search", "--limit", "10", "--cursor", cursor, "--json") == 0
    assert len(json_lines(capsys.readouterr().out)) == 2, "the other two events"


def test_search_by_a_viewer_shows_only_its_cameras(gw, events, capsys) -> None:
    crossings(events)
    assert cli(gw, "events", "search", "--json", token=VIEWER_A) == 0
    assert {r["camera_id"] for r in json_lines(capsys.readouterr().out)} == {"cam-a"}


def test_search_with_a_time_window(gw, events, capsys) -> None:
    crossings(events)
    since, until = "2026-09-21T14:13:30", "2026-09-21T14:13:50"  # T0 + 10 s and + 30 s
    assert cli(gw, "events", "search", "--since", since, "--until", until, "--oldest-first", "--json") == 0
    assert [r["start_pts"] for r in json_lines(capsys.readouterr().out)] == [1.0, 2.0], "events 1 and 2"


def test_a_bad_option_is_one_line_and_exit_2(gw, capsys) -> None:
    assert cli(gw, "events", "search", "--since", "last tuesday") == 2
    err = capsys.readouterr().err.strip()
    assert "--since" in err and err.count("\n") == 0, err


def test_an_unknown_type_is_one_line_naming_it_and_exit_1(gw, capsys) -> None:
    assert cli(gw, "events", "search", "--type", "teleport") == 1
    err = capsys.readouterr().err.strip()
    assert "INVALID_ARGUMENT" in err and "types" in err and err.count("\n") == 0, err


def test_show_writes_the_thumbnail(gw, events, tmp_path, capsys) -> None:
    made = crossings(events)
    out = tmp_path / "thumb.jpg"
    assert cli(gw, "events", "show", made[0].event_id, "-o", str(out), "--json") == 0
    assert out.read_bytes() == JPEG, "the event's thumbnail"
    (shown,) = json_lines(capsys.readouterr().out)
    assert shown["event_id"] == made[0].event_id and shown["thumbnail_bytes"] == len(JPEG), shown


def test_show_of_another_groups_event_is_not_found(gw, events, capsys) -> None:
    made = crossings(events)
    assert cli(gw, "events", "show", made[2].event_id, token=VIEWER_A) == 1
    assert "NOT_FOUND" in capsys.readouterr().err


def test_show_without_a_thumbnail_and_an_output_file_fails(gw, events, tmp_path, capsys) -> None:
    made = crossings(events)
    assert cli(gw, "events", "show", made[1].event_id, "-o", str(tmp_path / "x.jpg")) == 1
    assert "no thumbnail" in capsys.readouterr().err


def test_count_by_class_and_direction(gw, events, capsys) -> None:
    crossings(events)
    assert cli(gw, "events", "count", "--type", "line_crossing", "--by", "class,direction", "--json") == 0
    rows = json_lines(capsys.readouterr().out)
    got = {(r["class"], r["direction"]): r["count"] for r in rows}
    assert got == {("car", "a_to_b"): 2, ("motorbike", "b_to_a"): 1}, rows
    assert cli(gw, "events", "count", "--by", "camera", "--bucket", "hour", "--tz", "+07:00") == 0
    table = capsys.readouterr().out
    assert "+07:00" in table and "cam-a" in table and "3" in table, table


def test_count_by_an_unknown_key_is_exit_2(gw, capsys) -> None:
    assert cli(gw, "events", "count", "--by", "colour") == 2
    assert "--by 'colour'" in capsys.readouterr().err


def test_tail_prints_live_events_with_their_cursor(gw, events, capsys) -> None:
    result: list[int] = []
    runner = threading.Thread(
        target=lambda: result.append(cli(gw, "events", "tail", "--camera", "cam-a", "--count", "2", "--json")),
        daemon=True,
    )
    runner.start()
    wait_until(lambda: gw.call(lambda: gw.server.state.event_feed.subscription_count) == 1, what="tail subscribed")
    events.write([event(10, camera="cam-b"), event(11, camera="cam-a"), event(12, camera="cam-a")])
    runner.join(20)
    assert result == [0], "tail ends after --count events with exit 0"
    captured = capsys.readouterr()
    rows = json_lines(captured.out)
    assert [r["start_pts"] for r in rows] == [11.0, 12.0], "cam-a's events, as they were stored"
    assert all(r["cursor"] for r in rows), "each line carries the cursor to resume after it"
    assert "resume with: --cursor" in captured.err


def test_tail_stops_after_seconds_when_nothing_comes(gw, events, capsys) -> None:
    assert cli(gw, "events", "tail", "--seconds", "0.5") == 0
    assert capsys.readouterr().out == "", "nothing happened"


def test_parse_time_takes_iso_and_durations() -> None:
    assert parse_time("2026-09-21T14:13:20", "--since") == T0, "UTC when no offset is given"
    assert parse_time("2026-09-21T21:13:20+07:00", "--since") == T0, "an offset"
    assert parse_time("2h", "--since", now=lambda: T0) == T0 - 7200, "a duration ago"
