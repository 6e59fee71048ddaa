"""Event search for the console: the query string of `/api/events` and `/api/events.csv`
turned into the Events API's filter (`EventQueries.query`), scoped exactly as QueryEvents.

    GET /api/events?camera=C&group=G&type=T&severity=S&class=K&rule=R&from=F&to=T
                   &order=newest_first|oldest_first&page_size=N&cursor=X
    GET /api/events.csv?<the same filters, no cursor or page_size>

- Every filter but `from`, `to` and `order` may repeat (any of the values matches).
- `from` / `to`: the start time range `[from, to)`, as epoch seconds or ISO 8601 with an
  offset (`2026-12-01T08:00+07:00`); an ISO time without offset is refused (which zone
  would it be in?).
- Scope: a viewer sees the events of its cameras (`EventScope`, the gateway's rule); a
  camera it may not see named in `camera` is 403, the same for an unknown id.
- Bad input is 400 naming the parameter; the store's own checks (a backwards range, a
  foreign or altered cursor) too.
- The CSV streams every matching row, page by page (`CSV_PAGE`), at most `MAX_CSV_ROWS`;
  a longer export ends with a last line saying it was cut, so it is never silently
  short. Cells that a spreadsheet would run as a formula are quoted with a `'`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from ..contract import RequestError
from ..control import CameraControl
from ..domain import Event, EventType, Severity
from ..events import Acknowledgement, EventFilter, EventQueries, Order
from ..events.cursor import MAX_CURSOR_LENGTH
from ..gateway.auth import Principal
from ..gateway.event_scope import EventScope, by_id, needs_views
from ..gateway.rpc import check_camera_ids, check_names

PAGE_SIZE = 48  # a thumbnail grid of 8 x 6
MAX_PAGE_SIZE = 200
CSV_PAGE = 500
MAX_CSV_ROWS = 100_000

SEARCH_PARAMETERS = frozenset({"camera", "group", "type", "severity", "class", "rule", "from", "to", "order"})
PAGE_PARAMETERS = frozenset({"page_size", "cursor"})

CSV_COLUMNS = (
    "event_id",
    "camera",
    "type",
    "severity",
    "rule",
    "start_utc",
    "end_utc",
    "class",
    "track",
    "direction",
    "dwell_s",
    "count",
    "peak_confidence",
    "job",
    "acknowledged_by",
    "acknowledged_at_utc",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Search:
    filter: EventFilter
    order: Order
    cameras: frozenset[str] | None  # what the scope resolved to (None: every camera)

    def describe(self) -> dict:
        """What was asked, for the access log (bounded)."""
        f = self.filter
        return {
            "cameras": sorted(f.cameras)[:20] if f.cameras is not None else None,
            "types": sorted(t.value for t in f.types) if f.types else None,
            "severities": sorted(s.value for s in f.severities) if f.severities else None,
            "classes": sorted(f.classes)[:20] if f.classes else None,
            "rules": sorted(f.rules)[:20] if f.rules else None,
            "from": f.time_from,
            "to": f.time_to,
            "order": self.order.value,
        }


def _all(query: Mapping[str, str], name: str) -> list[str]:
    getall = getattr(query, "getall", None)
    return list(getall(name, [])) if getall is not None else ([query[name]] if name in query else [])


def _one(query: Mapping[str, str], name: str) -> str | None:
    values = _all(query, name)
    if len(values) > 1:
        raise RequestError(name, "given more than once")
    return values[0] if values else None


def _enums(query: Mapping[str, str], name: str, kind: type[EventType] | type[Severity]) -> set | None:
    values = check_names(name, _all(query, name))
    if not values:
        return None
    out = set()
    for value in values:
        try:
            out.add(kind(value))
        except ValueError:
            choices = ", ".join(k.value for k in kind)
            raise RequestError(name, f"{value[:40]!r} is not one of {choices}") from None
    return out


def parse_time(name: str, text: str | None) -> float | None:
    """Epoch seconds, or ISO 8601 with an offset; None when absent or empty."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if len(text) > 40:
        raise RequestError(name, "too long to be a time")
    try:
        value = float(text)
    except ValueError:
        return _iso_time(name, text)
    if not math.isfinite(value) or value < 0:
        raise RequestError(name, f"{text!r} is not a time")
    return value


def _iso_time(name: str, text: str) -> float:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RequestError(
            name, f"{text!r} is neither epoch seconds nor an ISO 8601 time (2026-12-01T08:00+07:00)"
        ) from None
    if moment.tzinfo is None:
        raise RequestError(name, f"{text!r} has no UTC offset (add +07:00 or Z)")
    return moment.timestamp()


async def parse_search(query: Mapping[str, str], principal: Principal, control: CameraControl) -> Search:
    """The search a query string asks for, scoped to what `principal` may see. Raises
    RequestError (400) naming the parameter, AuthError (403) for a camera out of scope,
    InvalidQuery (400) for what the store refuses."""
    named = check_camera_ids("camera", _all(query, "camera"))
    groups = check_names("group", _all(query, "group"))
    classes = check_names("class", _all(query, "class"))
    rules = check_names("rule", _all(query, "rule"))
    types = _enums(query, "type", EventType)
    severities = _enums(query, "severity", Severity)
    order_text = _one(query, "order") or Order.NEWEST_FIRST.value
    try:
        order = Order(order_text)
    except ValueError:
        raise RequestError("order", f"{order_text[:40]!r} is not newest_first or oldest_first") from None
    time_from = parse_time("from", _one(query, "from"))
    time_to = parse_time("to", _one(query, "to"))
    if time_from is not None and time_to is not None and time_to <= time_from:
        raise RequestError("to", "the range is empty or backwards: 'to' must be after 'from'")
    scope = EventScope(tuple(named), frozenset(groups))
    views = by_id(await control.list_cameras()) if needs_views(principal, scope) else {}
    cameras = scope.cameras_for(principal, views)
    event_filter = EventFilter(
        cameras=cameras,
        types=types,
        severities=severities,
        classes=set(classes) or None,
        rules=set(rules) or None,
        time_from=time_from,
        time_to=time_to,
    )
    return Search(event_filter, order, cameras)


def parse_page(query: Mapping[str, str]) -> tuple[int, str | None]:
    text = _one(query, "page_size")
    page_size = PAGE_SIZE
    if text is not None:
        try:
            page_size = int(text)
        except ValueError:
            raise RequestError("page_size", f"{text[:20]!r} is not a whole number") from None
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise RequestError("page_size", f"{page_size} is out of range (1..{MAX_PAGE_SIZE})")
    cursor = _one(query, "cursor") or None
    if cursor is not None and len(cursor) > MAX_CURSOR_LENGTH:
        raise RequestError("cursor", f"too long ({len(cursor)} characters) to be a cursor")
    return page_size, cursor


# ------------------------------------------------------------------------------ CSV


def _iso(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_row(event: Event, ack: Acknowledgement | None) -> list[str]:
    return [
        _cell(v)
        for v in (
            event.event_id,
            event.camera_id,
            event.type.value,
            event.severity.value,
            event.rule,
            _iso(event.start_time),
            _iso(event.end_time),
            event.class_name,
            event.track_id,
            None if event.direction is None else event.direction.value,
            event.dwell_s,
            event.count,
            event.peak_confidence,
            event.job_id,
            None if ack is None else ack.by,
            None if ack is None else _iso(ack.at),
        )
    ]


def _line(row: list[str] | tuple[str, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(row)
    return out.getvalue().encode("utf-8")


async def csv_lines(events: EventQueries, search: Search) -> AsyncIterator[bytes]:
    """The export, line by line: a header (with a UTF-8 BOM, so spreadsheets read the
    Vietnamese names right), every matching row, and a last line if it was cut."""
    yield b"\xef\xbb\xbf" + _line(CSV_COLUMNS)
    max_rows = MAX_CSV_ROWS
    cursor: str | None = None
    written = 0
    while True:
        page_size = min(CSV_PAGE, max_rows - written)
        page = await events.query(search.filter, order=search.order, page_size=page_size, cursor=cursor)
        acks = await events.acknowledgements(tuple(e.event_id for e in page.events))
        for event in page.events:
            yield _line(csv_row(event, acks.get(event.event_id)))
        written += len(page.events)
        if not page.has_more:
            return
        if written >= max_rows:
            yield f"# cut at {max_rows} rows: narrow the search (time range or camera) to export the rest\r\n".encode()
            return
        cursor = page.cursor
