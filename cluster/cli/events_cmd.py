"""`matthan events search|tail|show|count`: the event store over gRPC (matthan.v1.Events).

Each prints a table, or with `--json` one JSON object per line (an event, or a count
row). Times are printed in UTC (ISO 8601); `--since`/`--until` take ISO 8601 (UTC unless
it names an offset) or a duration back from now (`90s`, `30m`, `2h`, `7d`). Errors:
one line on stderr, exit 1 (a call failed) or 2 (a bad option).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..client import EventSelection, EventStream
from ..domain import Event
from ..events import CountRow
from .remote import add_connection_args, connect, reports_errors

EXIT_USAGE = 2
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
GROUP_KEYS = ("camera", "rule", "class", "direction", "type", "severity")


class UsageError(Exception):
    """A bad option value: one line on stderr, exit 2."""


def register(sub) -> None:
    parser = sub.add_parser("events", help="search, follow, show and count events (gRPC)")
    inner = parser.add_subparsers(dest="events_command", required=True, metavar="ACTION")

    search = inner.add_parser("search", help="stored events matching filters, newest first")
    _add_filters(search, times=True)
    search.add_argument("--oldest-first", action="store_true", help="oldest first instead")
    search.add_argument("--limit", type=int, default=50, help="events to print at most (default 50)")
    search.add_argument("--cursor", default="", help="continue a previous search (the cursor it printed)")
    search.set_defaults(func=run_search)

    tail = inner.add_parser("tail", help="follow events live: each start, update and end")
    _add_filters(tail, times=False)
    tail.add_argument("--cursor", default="", help="resume after this cursor (what a previous tail printed)")
    tail.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    tail.add_argument("--count", type=int, help="stop after this many events")
    tail.set_defaults(func=run_tail)

    show = inner.add_parser("show", help="one event; -o writes its thumbnail (JPEG)")
    show.add_argument("event_id")
    show.add_argument("-o", "--output", type=Path, help="write the thumbnail here")
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.set_defaults(func=run_show)

    count = inner.add_parser("count", help="counts of events, grouped and per time bucket")
    _add_filters(count, times=True)
    count.add_argument("--by", action="append", default=[], help=f"group by ({', '.join(GROUP_KEYS)}; repeatable)")
    count.add_argument("--bucket", choices=("minute", "hour", "day"), help="count per local time bucket")
    count.add_argument("--tz", default="", help="time zone of the buckets (default: the cameras' own)")
    count.set_defaults(func=run_count)

    for p in (search, tail, show, count):
        add_connection_args(p)


def _add_filters(parser: argparse.ArgumentParser, *, times: bool) -> None:
    parser.add_argument("--camera", action="append", default=[], help="camera id (repeatable)")
    parser.add_argument("--group", action="append", default=[], help="camera group (repeatable)")
    parser.add_argument("--type", action="append", default=[], help="event type, e.g. line_crossing (repeatable)")
    parser.add_argument("--severity", action="append", default=[], choices=("alert", "info"))
    parser.add_argument("--class", dest="classes", action="append", default=[], help="object class (repeatable)")
    parser.add_argument("--rule", action="append", default=[], help="zone or line name (repeatable)")
    parser.add_argument("--min-dwell", type=float, help="seconds of dwell at least")
    parser.add_argument("--job", action="append", default=[], help="batch job id (repeatable)")
    parser.add_argument("--live-only", action="store_true", help="only live events, no batch job's")
    if times:
        parser.add_argument("--since", help="from (ISO 8601, or a duration ago: 30m, 2h, 7d)")
        parser.add_argument("--until", help="until, exclusive (same forms)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def _usage_errors(command: str):
    def wrap(func: Callable) -> Callable:
        def run(args) -> int:
            try:
                return func(args)
            except UsageError as exc:
                print(f"matthan: events {command}: {exc}", file=sys.stderr)
                return EXIT_USAGE

        run.__name__ = func.__name__
        return run

    return wrap


# ------------------------------------------------------------------ commands


@_usage_errors("search")
@reports_errors("events search")
def run_search(args) -> int:
    if args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    selection = selection_of(args)
    order = "oldest_first" if args.oldest_first else "newest_first"
    events: list[Event] = []
    cursor, more = args.cursor, False
    with connect(args) as client:
        while len(events) < args.limit:
            page = client.events.search(
                selection, order=order, page_size=min(args.limit - len(events), 1000), cursor=cursor
            )
            events += page.events
            cursor, more = page.next_cursor or cursor, page.has_more
            if not more:
                break
    if args.json:
        for event in events:
            print(json.dumps(event_as_dict(event), ensure_ascii=False))
    else:
        _print_events(events, f"{len(events)} event(s)")
    if more:
        print(f"more events: add --cursor {cursor}", file=sys.stderr)
    return 0


@_usage_errors("tail")
@reports_errors("events tail")
def run_tail(args) -> int:
    selection = selection_of(args)
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    console = _console()
    printed = 0
    with connect(args) as client:
        stream = client.events.stream(selection, cursor=args.cursor)
        timer = _stop_after(stream, args.seconds)
        try:
            for update in stream:
                event = update.event
                if args.json:
                    print(json.dumps({**event_as_dict(event), "cursor": update.cursor}, ensure_ascii=False), flush=True)
                else:
                    console.print(_line(event), highlight=False, soft_wrap=True)
                printed += 1
                if (args.count is not None and printed >= args.count) or (
                    deadline is not None and time.monotonic() >= deadline
                ):
                    break
        finally:
            stream.cancel()
            if timer is not None:
                timer.cancel()
    if stream.cursor:
        print(f"resume with: --cursor {stream.cursor}", file=sys.stderr)
    return 0


@reports_errors("events show")
def run_show(args) -> int:
    with connect(args) as client:
        event = client.events.get(args.event_id)
    if args.output is not None:
        if not event.thumbnail:
            print(f"matthan: events show: event {event.event_id} has no thumbnail", file=sys.stderr)
            return 1
        args.output.write_bytes(event.thumbnail)
    if args.json:
        print(json.dumps(event_as_dict(event), ensure_ascii=False))
        return 0
    for key, value in event_as_dict(event).items():
        if value is not None:
            print(f"{key:16} {value}")
    if args.output is not None:
        print(f"thumbnail written to {args.output}")
    return 0


@_usage_errors("count")
@reports_errors("events count")
def run_count(args) -> int:
    keys: list[str] = [key.strip() for value in args.by for key in value.split(",") if key.strip()]
    unknown = [key for key in keys if key not in GROUP_KEYS]
    if unknown:
        raise UsageError(f"--by {unknown[0]!r} is not one of: {', '.join(GROUP_KEYS)}")
    with connect(args) as client:
        counts = client.events.count(selection_of(args), group_by=keys, bucket=args.bucket, time_zone=args.tz)
    if args.json:
        for row in counts.rows:
            print(json.dumps(count_as_dict(row, keys), ensure_ascii=False))
        return 0
    table = Table(title=f"event counts ({counts.time_zone})")
    columns = (["bucket"] if args.bucket else []) + keys + ["count"]
    for column in columns:
        table.add_column(column, justify="right" if column == "count" else "left")
    for row in counts.rows:
        data = count_as_dict(row, keys)
        cells = [_local(row.bucket_start, counts.time_zone)] if args.bucket else []
        cells += [str(data[key] if data[key] is not None else "-") for key in keys]
        table.add_row(*cells, str(row.count))
    _console().print(table)
    return 0


# ------------------------------------------------------------------ helpers


def selection_of(args) -> EventSelection:
    return EventSelection(
        camera_ids=args.camera,
        groups=args.group,
        types=args.type,
        severities=args.severity,
        classes=args.classes,
        rules=args.rule,
        time_from=parse_time(getattr(args, "since", None), "--since"),
        time_to=parse_time(getattr(args, "until", None), "--until"),
        min_dwell_s=args.min_dwell,
        job_ids=args.job,
        live_only=args.live_only,
    )


def parse_time(text: str | None, option: str, now: Callable[[], float] = time.time) -> float | None:
    """Epoch seconds of an ISO 8601 time (UTC unless it names an offset) or of a duration ago."""
    if text is None:
        return None
    duration = _DURATION.match(text.strip())
    if duration:
        return now() - float(duration.group(1)) * _UNIT_S[duration.group(2)]
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option} {text!r}: expected ISO 8601 (2026-12-01T08:00) or a duration (30m, 2h, 7d)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _local(epoch: float | None, time_zone: str) -> str:
    if epoch is None:
        return "-"
    zone: dt.tzinfo = dt.timezone.utc
    try:
        from zoneinfo import ZoneInfo

        if re.match(r"^[+-]\d{2}:\d{2}$", time_zone):
            sign = 1 if time_zone[0] == "+" else -1
            zone = dt.timezone(sign * dt.timedelta(hours=int(time_zone[1:3]), minutes=int(time_zone[4:6])))
        elif time_zone and time_zone != "UTC":
            zone = ZoneInfo(time_zone)
    except (KeyError, ValueError):  # the server named it; print UTC if this machine does not know it
        zone = dt.timezone.utc
    return dt.datetime.fromtimestamp(epoch, zone).isoformat(timespec="minutes")


def event_as_dict(event: Event) -> dict:
    box = event.peak_box
    return {
        "event_id": event.event_id,
        "camera_id": event.camera_id,
        "type": event.type.value,
        "severity": event.severity.value,
        "rule": event.rule,
        "start_time": _iso(event.start_time),
        "end_time": _iso(event.end_time),
        "start_pts": event.start_pts,
        "end_pts": event.end_pts,
        "class": event.class_name,
        "track_id": event.track_id,
        "direction": event.direction.value if event.direction is not None else None,
        "dwell_s": event.dwell_s,
        "count": event.count,
        "peak_confidence": event.peak_confidence,
        "peak_box": None if box is None else {"x": box.x, "y": box.y, "w": box.w, "h": box.h},
        "job_id": event.job_id,
        "revision": event.revision,
        "thumbnail_bytes": len(event.thumbnail) if event.thumbnail else 0,
    }


def count_as_dict(row: CountRow, keys: list[str]) -> dict:
    values = {
        "camera": row.camera_id,
        "rule": row.rule,
        "class": row.class_name,
        "direction": row.direction.value if row.direction is not None else None,
        "type": row.type.value if row.type is not None else None,
        "severity": row.severity.value if row.severity is not None else None,
    }
    out: dict = {"bucket_start": _iso(row.bucket_start)} if row.bucket_start is not None else {}
    out.update({key: values[key] for key in keys})
    out["count"] = row.count
    return out


def _what(event: Event) -> str:
    parts = [event.class_name or ""]
    if event.direction is not None:
        parts.append(event.direction.value.replace("_", " "))
    if event.dwell_s is not None:
        parts.append(f"{event.dwell_s:.0f} s")
    if event.count is not None:
        parts.append(f"{event.count} objects")
    return " ".join(p for p in parts if p)


def _console() -> Console:
    """The terminal's width; piped (no terminal to fit), wide enough for whole ids."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def _print_events(events: list[Event], title: str) -> None:
    table = Table(title=title)
    for column in ("start (UTC)", "camera", "type", "severity", "rule", "what", "end"):
        table.add_column(column)
    table.add_column("id", no_wrap=True, overflow="fold")
    for event in events:
        table.add_row(
            _iso(event.start_time) or "",
            event.camera_id,
            event.type.value,
            event.severity.value,
            event.rule,
            _what(event),
            "ongoing" if event.end_time is None else (_iso(event.end_time) or ""),
            event.event_id,
        )
    _console().print(table)


def _line(event: Event) -> str:
    if event.end_time is not None:
        state = "start+end" if event.revision == 0 else "end"
    else:
        state = "start" if event.revision == 0 else "update"
    return (
        f"{_iso(event.start_time)} {event.camera_id} {event.type.value} {state} rule={event.rule} "
        f"{_what(event)} severity={event.severity.value} id={event.event_id} rev={event.revision}"
    )


def _stop_after(stream: EventStream, seconds: float | None):
    """A quiet stream yields nothing: a timer ends it after `seconds` anyway."""
    if seconds is None:
        return None
    import threading

    timer = threading.Timer(seconds, stream.cancel)
    timer.daemon = True
    timer.start()
    return timer
