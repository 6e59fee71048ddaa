"""Read access to the event store: get, query, count and the change feed.

`EventReader` opens read-only connections (one per thread), so the front door can
read a store that another process writes; `EventStore` (the writer) is one too.
See `store.py` for the guarantees of pagination and of the change feed.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster.domain.events import Direction, Event, EventType, Severity

from . import retention as ret
from .acks import MAX_LOOKUP, Acknowledgement
from .cursor import Position, decode_cursor, decode_feed_cursor, encode_cursor, encode_feed_cursor, feed_id_of
from .errors import EventNotFound, EventStoreError, InvalidQuery, StoreClosed
from .query import (
    ALL_EVENTS,
    DEFAULT_MAX_GROUPS,
    DEFAULT_PAGE_SIZE,
    GROUP_COLUMNS,
    Bucket,
    Change,
    ChangePage,
    CountRow,
    EventFilter,
    EventPage,
    GroupBy,
    Order,
    checked_bucket,
    checked_group_by,
    checked_order,
    checked_page_size,
)
from .recorder import NullRecorder, StoreRecorder
from .rows import EVENT_COLUMNS, SELECT_COLUMNS, from_row
from .schema import open_reader_connection, read_transaction, store_error
from .timezones import OffsetSegment, bucket_start_utc, offset_segments, parse_time_zone

DEFAULT_BUSY_TIMEOUT_S = 5.0
_N = len(EVENT_COLUMNS)  # a row's event columns; a thumbnail, when asked for, follows
_FLOOR_SHIFT = 1_000_000_000  # buckets: keeps minute buckets positive back to year -1900


class EventReader:
    """Read access: get, query, count and the change feed. Thread-safe."""

    def __init__(
        self, path: str | Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S, metrics: StoreRecorder | None = None
    ):
        self.path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._metrics = metrics if metrics is not None else NullRecorder()
        self._local = threading.local()
        self._readers: list[_ThreadReader] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        key = self._read("open", lambda c: c.execute("SELECT value FROM meta WHERE key = 'cursor_key'").fetchone())[0]
        self._cursor_key = bytes(key)
        self.feed_id = feed_id_of(self._cursor_key)

    # ---- reading -----------------------------------------------------------------

    def get(self, event_id: str, *, with_thumbnail: bool = True) -> Event:
        """The event's newest revision; `EventNotFound` if there is none."""
        if not isinstance(event_id, str) or not event_id:
            raise InvalidQuery("event_id", f"expected an event id, got {event_id!r}")
        rows = self._read(
            "query",
            lambda conn: conn.execute(
                f"SELECT {SELECT_COLUMNS}, {_thumbnail_column(with_thumbnail)} FROM events e "
                f"{_thumbnail_join(with_thumbnail)} WHERE e.event_id = ?",
                (event_id,),
            ).fetchall(),
        )
        if not rows:
            raise EventNotFound(event_id)
        return from_row(rows[0][:-1], rows[0][-1])

    def query(
        self,
        filter: EventFilter = ALL_EVENTS,
        *,
        order: Order | str = Order.NEWEST_FIRST,
        page_size: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        with_thumbnails: bool = False,
    ) -> EventPage:
        """One page of the events matching `filter`; pass the page's `cursor` for the next."""
        order = checked_order(order)
        page_size = checked_page_size(page_size)
        fingerprint = filter.fingerprint()
        after: tuple[str, list[Any]] | None = None
        if cursor is not None:
            position = decode_cursor(self._cursor_key, cursor, order, fingerprint)
            after = (
                "(e.start_time, e.seq) < (?, ?)" if order is Order.NEWEST_FIRST else "(e.start_time, e.seq) > (?, ?)",
                [position.start_time, position.seq],
            )
        sql, params = _page_sql(filter, order, page_size + 1, after, with_thumbnails)
        rows = self._read("query", lambda conn: conn.execute(sql, params).fetchall())
        has_more = len(rows) > page_size
        rows = rows[:page_size]
        events = tuple(from_row(r[:_N], r[_N] if with_thumbnails else None) for r in rows)
        if rows:
            last = rows[-1]
            cursor = encode_cursor(self._cursor_key, order, fingerprint, Position(last[7], last[0]))
        return EventPage(events, cursor, has_more)

    def count(
        self,
        filter: EventFilter = ALL_EVENTS,
        *,
        group_by: Iterable[GroupBy | str] = (),
        bucket: Bucket | str | None = None,
        time_zone: str = "UTC",
        max_groups: int = DEFAULT_MAX_GROUPS,
    ) -> tuple[CountRow, ...]:
        """Counts of matching events, grouped by `group_by` keys and by a local time
        `bucket` of their start in `time_zone`; ordered by bucket, then keys."""
        keys = checked_group_by(group_by)
        bucket = checked_bucket(bucket)
        zone = parse_time_zone(time_zone)
        if isinstance(max_groups, bool) or not isinstance(max_groups, int) or max_groups < 1:
            raise InvalidQuery("max_groups", f"must be a positive integer, got {max_groups!r}")
        terms, params = filter.sql()

        def run(conn: sqlite3.Connection) -> list[tuple]:
            select: list[str] = []
            group_params: list[Any] = []
            if bucket is not None:
                t_from, t_to = filter.time_from, filter.time_to
                if t_from is None or t_to is None:  # the zone's offsets over the matching events' own range
                    low, high = conn.execute(
                        f"SELECT min(start_time), max(start_time) FROM events {_where(terms)}", params
                    ).fetchone()
                    t_from = t_from if t_from is not None else (low if low is not None else 0.0)
                    t_to = t_to if t_to is not None else (high if high is not None else t_from) + 1.0
                expression, group_params = _bucket_sql(offset_segments(zone, t_from, t_to), bucket)
                select.append(expression)
            select += [GROUP_COLUMNS[k] for k in keys]
            columns = ", ".join(f"g{i}" for i in range(len(select)))
            selected = ", ".join(f"{e} AS g{i}" for i, e in enumerate(select))
            sql = (
                f"SELECT {selected + ', ' if selected else ''}count(*) FROM events {_where(terms)}"
                + (f" GROUP BY {columns} ORDER BY {columns}" if select else "")
                + " LIMIT ?"
            )
            return conn.execute(sql, [*group_params, *params, max_groups + 1]).fetchall()

        rows = self._read("query", run, snapshot=True)
        if len(rows) > max_groups:
            raise InvalidQuery(
                "group_by",
                f"more than {max_groups} groups: narrow the time range, group by fewer keys or use a wider bucket",
            )
        out = []
        for row in rows:
            values = list(row[:-1])
            fields: dict[str, Any] = {}
            if bucket is not None:
                fields["bucket_start"] = bucket_start_utc(zone, values.pop(0) * bucket.seconds)
            for key, value in zip(keys, values, strict=True):
                name, convert = _COUNT_FIELDS[key]
                fields[name] = None if value is None else convert(value)
            out.append(CountRow(count=row[-1], **fields))
        return tuple(out)

    def changes_after(
        self,
        change_seq: int,
        limit: int = DEFAULT_PAGE_SIZE,
        *,
        filter: EventFilter = ALL_EVENTS,
        with_thumbnails: bool = False,
    ) -> ChangePage:
        """Events inserted or updated after position `change_seq` (0: from the start),
        oldest change first, at most `limit`; resume from the page's `position`."""
        if isinstance(change_seq, bool) or not isinstance(change_seq, int) or change_seq < 0:
            raise InvalidQuery("change_seq", f"must be an integer >= 0, got {change_seq!r}")
        limit = checked_page_size(limit, "limit")
        terms, params = filter.sql("e")
        terms.insert(0, "e.change_seq > ?")
        sql = (
            f"SELECT {SELECT_COLUMNS}, {_thumbnail_column(with_thumbnails)} FROM events e "
            f"{_thumbnail_join(with_thumbnails)} {_where(terms)} ORDER BY e.change_seq LIMIT ?"
        )

        def run(conn: sqlite3.Connection) -> tuple[list[tuple], int]:
            rows = conn.execute(sql, [change_seq, *params, limit]).fetchall()
            return rows, last_change_seq_of(conn)

        rows, high_water = self._read("query", run, snapshot=True)
        changes = tuple(Change(r[1], from_row(r[:-1], r[-1])) for r in rows)
        # A full page resumes after its last change; a short one has seen every change
        # of this snapshot, so it resumes after the newest (what the filter skipped too).
        position = changes[-1].change_seq if len(rows) == limit else max(change_seq, high_water)
        return ChangePage(changes, position)

    def feed_cursor(self, position: int) -> str:
        """An opaque cursor for a change-feed position (see `cursor.encode_feed_cursor`)."""
        return encode_feed_cursor(self.feed_id, position)

    def feed_position(self, cursor: str) -> int:
        """The change-feed position of a cursor `feed_cursor` made; `InvalidCursor` otherwise."""
        return decode_feed_cursor(self.feed_id, cursor)

    def last_change_seq(self) -> int:
        """The change feed's newest position: a stream that starts now resumes from here."""
        return self._read("query", last_change_seq_of)

    def size_bytes(self) -> int:
        """Database pages in use (what the retention size budget measures)."""
        return self._read("query", ret.used_bytes)

    # ---- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        """Close every thread's connection, each once the read running on it (if any)
        has finished: closing a connection under another thread's running statement
        crashes the process (stop 18's CI died of it)."""
        self._closed = True
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for reader in readers:
            with reader.in_use:
                reader.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ---- internals ---------------------------------------------------------------

    def acknowledgements(self, event_ids: Iterable[str]) -> dict[str, Acknowledgement]:
        """The acknowledgements of those of `event_ids` that have one, by event id."""
        ids = list(dict.fromkeys(event_ids))
        if len(ids) > MAX_LOOKUP:
            raise InvalidQuery("event_ids", f"at most {MAX_LOOKUP} per call, got {len(ids)}")
        if not ids:
            return {}

        def run(conn: sqlite3.Connection) -> list:
            marks = ", ".join("?" * len(ids))
            return conn.execute(
                f"SELECT e.event_id, a.acked_by, a.acked_at FROM acks a JOIN events e ON e.seq = a.event_seq "
                f"WHERE e.event_id IN ({marks})",
                ids,
            ).fetchall()

        return {event_id: Acknowledgement(event_id, by, at) for event_id, by, at in self._read("query", run)}

    def _reader(self) -> _ThreadReader:
        if self._closed:
            raise StoreClosed()
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = _ThreadReader(open_reader_connection(self.path, busy_timeout_s=self._busy_timeout_s))
            with self._readers_lock:
                if self._closed:
                    reader.conn.close()
                    raise StoreClosed()
                self._readers.append(reader)
            self._local.reader = reader
        return reader

    def _read(self, operation: str, run, *, snapshot: bool = False):
        try:
            reader = self._reader()
            with reader.in_use:
                if self._closed:  # closed while this thread waited for its own connection
                    raise StoreClosed()
                if not snapshot:
                    return run(reader.conn)
                with read_transaction(reader.conn):
                    return run(reader.conn)
        except EventStoreError:
            raise
        except sqlite3.Error as exc:
            self._metrics.operation_failed(operation)
            raise store_error(exc, operation, self.path) from exc


@dataclass(frozen=True)
class _ThreadReader:
    """One thread's read connection, and the lock its reads hold so that `close`
    (from any thread) never closes it under a running statement."""

    conn: sqlite3.Connection
    in_use: threading.Lock = field(default_factory=threading.Lock)


_COUNT_FIELDS: dict[GroupBy, tuple[str, Callable[[Any], Any]]] = {
    GroupBy.CAMERA: ("camera_id", str),
    GroupBy.RULE: ("rule", str),
    GroupBy.CLASS: ("class_name", str),
    GroupBy.DIRECTION: ("direction", Direction),
    GroupBy.TYPE: ("type", EventType),
    GroupBy.SEVERITY: ("severity", Severity),
}


def _page_sql(
    filter: EventFilter, order: Order, limit: int, after: tuple[str, list[Any]] | None, with_thumbnails: bool
) -> tuple[str, list[Any]]:
    """One ordered page, thumbnails joined to the page only. For several cameras (a
    viewer's scope) SQLite walks each camera's (camera_id, start_time) index range in
    order and stops each walk once it cannot beat the rows it has (its IN-early-out
    ORDER BY ... LIMIT): no sort of every matching row (bench/event_store.py)."""

    def order_by(alias: str = "") -> str:
        direction = "DESC" if order is Order.NEWEST_FIRST else "ASC"
        return f"ORDER BY {alias}start_time {direction}, {alias}seq {direction}"

    terms, params = filter.sql("e")
    if after is not None:
        terms.append(after[0])
        params += after[1]
    page = f"SELECT {SELECT_COLUMNS} FROM events e {_where(terms)} {order_by()} LIMIT ?"
    params.append(limit)
    if not with_thumbnails:
        return page, params
    return (
        f"SELECT p.*, t.jpeg FROM ({page}) p LEFT JOIN thumbnails t ON t.event_seq = p.seq {order_by('p.')}",
        params,
    )


def _bucket_sql(segments: Sequence[OffsetSegment], bucket: Bucket) -> tuple[str, list[Any]]:
    """SQL for the local bucket number of `start_time`, and its parameters."""
    params: list[Any]
    if len(segments) == 1:
        offset, params = "?", [segments[0].offset_s]
    else:
        offset = f"(CASE {' '.join('WHEN start_time < ? THEN ?' for _ in segments[1:])} ELSE ? END)"
        params = [v for before, seg in itertools.pairwise(segments) for v in (seg.start, before.offset_s)]
        params.append(segments[-1].offset_s)
    # floor() without SQLite's optional math functions: CAST truncates towards zero,
    # so shift every bucket number positive first.
    return f"(CAST((start_time + {offset}) / {bucket.seconds}.0 + {_FLOOR_SHIFT} AS INTEGER) - {_FLOOR_SHIFT})", params


def _where(terms: list[str]) -> str:
    return f"WHERE {' AND '.join(terms)}" if terms else ""


def _thumbnail_column(with_thumbnail: bool) -> str:
    return "t.jpeg" if with_thumbnail else "NULL"


def _thumbnail_join(with_thumbnail: bool) -> str:
    return "LEFT JOIN thumbnails t ON t.event_seq = e.seq" if with_thumbnail else ""


def last_change_seq_of(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT value FROM meta WHERE key = 'last_change_seq'").fetchone()[0])
