"""The event store: one SQLite file in WAL mode, one writer, any number of readers.

    store = EventStore(state_dir / "events.sqlite3", retention=policy)   # the writer
    store.write(batch)                        # one transaction; idempotent
    store.write(batch, cursors=[RingCursor("cam-1", epoch, 42)])  # with the writer's ring cursors
    page = store.query(EventFilter(cameras={"cam-1"}), page_size=50)
    page = store.query(EventFilter(cameras={"cam-1"}), page_size=50, cursor=page.cursor)
    store.enforce_retention(now=time.time())  # the caller schedules it
    reader = EventReader(path)                # another process (the front door) reads

Durability. A batch is one transaction; `write` returns after COMMIT. With
`synchronous="normal"` in WAL mode a committed batch is in the WAL file (in the
OS page cache) before `write` returns, so it survives a crash or `kill -9` of any
process, but not a power cut or kernel crash, which can lose the last batches
(never corrupt the file: SQLite's WAL recovery sees to that). `synchronous="full"`
fsyncs the WAL at every commit and survives a power cut too; `bench/event_store.py`
measures what it costs. A batch interrupted before COMMIT leaves no trace.

Idempotence. Rows are keyed by `event_id`; an event whose revision is not higher
than the stored one is ignored (see `rows.plan_batch`), so a retry, a replay or a
restart of the producer never duplicates nor rolls back an event.

Pagination. Queries are ordered by `(start_time, seq)`: `seq` is given at the
first insert and never changes, and an update never changes `start_time`, so
every event has one fixed place in the order. A cursor holds the key of the last
event returned and the next page continues strictly after it (keyset
pagination). Guarantees while events are written concurrently: no event is
returned twice; every event that existed when the first page was read and still
exists (retention may delete it) is returned exactly once. An event inserted
during the pagination is returned if its key lies ahead of the cursor: in
newest-first order, a new live event (newer than everything paged) is not (it
belongs before page one: start a new query, or follow the change feed), and an
event of a reprocessing job, whose start time is older than what was paged, is
returned when the pages reach its time; in oldest-first order, new live events
arrive at the end and older reprocessed ones are behind the cursor and are not
returned. The change feed (`changes_after`) is the way to see everything.

Ring cursors. `write(events, cursors=...)` stores the writer's position in each
camera's event ring (`positions.RingCursor`) in the batch's own transaction, so a
`kill -9` at any moment leaves the store with either the batch and its cursors or
neither: pulls are at least once, ids make each revision count once, and no
revision pulled and stored is pulled again (`ring_cursors()` reads them back).

Change feed. Every insert and update takes the next `change_seq` (from a counter
that never goes back, stored with the batch), in commit order: a reader that has
seen every change up to N and asks for changes after N loses nothing.

Threads. The writer's methods may be called from any thread (a lock serialises
them); each reading thread gets its own read-only connection, which WAL lets run
alongside the writer without waiting for it.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cluster.domain.events import Event, Severity
from cluster.support.private import make_private_dirs

from . import retention as ret
from .acks import Acknowledgement
from .errors import EventNotFound, InvalidQuery, StoreClosed
from .positions import RingCursor
from .reader import DEFAULT_BUSY_TIMEOUT_S, EventReader, last_change_seq_of
from .recorder import NullRecorder, StoreRecorder
from .retention import RetentionPolicy, RetentionResult
from .rows import (
    INSERT_NEW_SQL,
    INSERT_SQL,
    INSERT_THUMBNAIL_SQL,
    UPDATE_SQL,
    Stored,
    plan_batch,
    to_row,
    to_update_row,
)
from .schema import Synchronous, WriterLock, open_writer_connection, store_error

if TYPE_CHECKING:
    from cluster.config.events import EventsConfig

LOOKUP_CHUNK = 500  # event ids per "which of these are stored?" query
UPSERT_RING_CURSOR_SQL = (
    "INSERT INTO ring_cursors (camera_id, epoch, sequence) VALUES (?, ?, ?) "
    "ON CONFLICT (camera_id) DO UPDATE SET epoch = excluded.epoch, sequence = excluded.sequence"
)


@dataclass(frozen=True, slots=True)
class WriteResult:
    inserted: int  # events stored for the first time
    updated: int  # rows replaced by a higher revision
    ignored: int  # replays and older revisions, which change nothing
    last_change_seq: int  # the change feed's position after this batch


class EventStore(EventReader):
    """The writer (and a reader). Holds `<db>.lock`: a second writer of the same file,
    in this process or another, is refused with `StoreLocked`."""

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        synchronous: Synchronous = "full",
        retention: RetentionPolicy | None = None,
        metrics: StoreRecorder | None = None,
    ):
        path = Path(path)
        metrics = metrics if metrics is not None else NullRecorder()
        if synchronous not in ("normal", "full"):
            raise ValueError(f"synchronous must be 'normal' or 'full', got {synchronous!r}")
        make_private_dirs(path.parent)
        self._lock = WriterLock(path)
        try:
            self._writer = open_writer_connection(path, busy_timeout_s=busy_timeout_s, synchronous=synchronous)
        except BaseException:
            self._lock.release()
            metrics.operation_failed("open")
            raise
        self._write_lock = threading.Lock()
        self.retention = retention if retention is not None else RetentionPolicy()
        try:
            super().__init__(path, busy_timeout_s=busy_timeout_s, metrics=metrics)
        except BaseException:
            self._writer.close()
            self._lock.release()
            raise

    @classmethod
    def from_config(cls, config: EventsConfig, state_dir: Path, *, metrics: StoreRecorder | None = None) -> EventStore:
        return cls(
            config.store.resolved_path(state_dir),
            busy_timeout_s=config.store.busy_timeout_s,
            synchronous=config.store.synchronous,
            retention=RetentionPolicy.from_config(config.retention),
            metrics=metrics,
        )

    def write(self, events: Iterable[Event], *, cursors: Iterable[RingCursor] = ()) -> WriteResult:
        """Store a batch in one transaction: new events inserted, higher revisions
        replacing their rows, the rest ignored, and `cursors` (the writer's position
        in the rings the batch came from) replacing the stored ones. On failure
        nothing of it is stored and `StoreFailure` (or `StoreCorrupt`) is raised:
        retry the same batch."""
        batch = list(events)
        for event in batch:
            if not isinstance(event, Event):
                raise TypeError(f"EventStore.write takes Event values, got {type(event).__name__}")
        positions = {}
        for cursor in cursors:
            if not isinstance(cursor, RingCursor):
                raise TypeError(f"EventStore.write takes RingCursor cursors, got {type(cursor).__name__}")
            positions[cursor.camera_id] = cursor  # the last one of a camera wins, as if written in order
        if not batch and not positions:
            return WriteResult(0, 0, 0, self.last_change_seq())
        with self._write_lock, self._metrics.time_write():
            conn = self._writable()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if batch:
                        result, new = self._apply(conn, batch)
                    else:
                        result, new = WriteResult(0, 0, 0, last_change_seq_of(conn)), ()
                    if positions:
                        conn.executemany(
                            UPSERT_RING_CURSOR_SQL, [(c.camera_id, c.epoch, c.sequence) for c in positions.values()]
                        )
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise store_error(exc, "write", self.path) from exc
        if batch:
            self._metrics.batch_committed(len(batch))
        by_type = Counter((e.camera_id, e.type.value) for e in new)
        by_class = Counter((e.camera_id, e.class_name) for e in new if e.class_name is not None)
        for (camera_id, event_type), count in by_type.items():
            self._metrics.events_by_type(camera_id, event_type, count)
        for (camera_id, class_name), count in by_class.items():
            self._metrics.events_written(camera_id, class_name, count)
        return result

    def acknowledge(self, event_id: str, who: str, at: float) -> Acknowledgement:
        """Record that `who` acknowledged the event at `at`; the first acknowledgement
        stays (a second one changes nothing and gets the first back). EventNotFound
        for an id not stored."""
        if not isinstance(who, str) or not who:
            raise InvalidQuery("who", f"must be a non-empty name, got {who!r}")
        with self._write_lock:
            conn = self._writable()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    row = conn.execute("SELECT seq FROM events WHERE event_id = ?", (event_id,)).fetchone()
                    if row is None:
                        raise EventNotFound(event_id)
                    conn.execute(
                        "INSERT INTO acks (event_seq, acked_by, acked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        (row[0], who, float(at)),
                    )
                    by, when = conn.execute(
                        "SELECT acked_by, acked_at FROM acks WHERE event_seq = ?", (row[0],)
                    ).fetchone()
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self._metrics.operation_failed("write")
                raise store_error(exc, "write", self.path) from exc
        return Acknowledgement(event_id, by, when)

    def ring_cursors(self) -> dict[str, RingCursor]:
        """The stored ring cursors, by camera id (what the last committed batches advanced)."""
        rows = self._read(
            "query", lambda conn: conn.execute("SELECT camera_id, epoch, sequence FROM ring_cursors").fetchall()
        )
        return {camera_id: RingCursor(camera_id, epoch, sequence) for camera_id, epoch, sequence in rows}

    def enforce_retention(self, now: float) -> RetentionResult:
        """Delete what the retention policy no longer keeps, as of wall-clock `now`;
        one short transaction per chunk. Returns what was deleted."""
        if not math.isfinite(now):
            raise ValueError(f"now must be a finite epoch time, got {now!r}")
        policy = self.retention
        by_age: dict[Severity, int] = {}
        by_size = thumbnails = 0
        try:
            for severity, max_age in policy.max_age_s.items():
                if max_age is None:
                    continue
                cutoff = now - max_age
                deleted = 0
                while True:
                    events, thumbs = self._delete_chunk(
                        lambda c, s=severity, cut=cutoff: ret.expired_chunk(c, s, cut, policy.chunk)
                    )
                    deleted += events
                    thumbnails += thumbs
                    if events < policy.chunk:
                        break
                by_age[severity] = deleted
                self._metrics.retention_deleted("age", deleted)
            if policy.max_total_bytes is not None:
                while True:
                    with self._write_lock:
                        conn = self._writable()
                        excess = ret.used_bytes(conn) - policy.max_total_bytes
                        n = ret.events_to_free(conn, excess, policy.chunk) if excess > 0 else 0
                    if n == 0:
                        break
                    events, thumbs = self._delete_chunk(lambda c, n=n: ret.oldest_chunk(c, n))
                    by_size += events
                    thumbnails += thumbs
                self._metrics.retention_deleted("size", by_size)
            with self._write_lock:
                conn = self._writable()
                if sum(by_age.values()) or by_size:
                    ret.give_back_free_pages(conn)
                size = ret.used_bytes(conn)
        except sqlite3.Error as exc:
            self._metrics.operation_failed("retention")
            raise store_error(exc, "retention", self.path) from exc
        self._metrics.set_size(size)
        return RetentionResult(by_age, by_size, thumbnails, size)

    def close(self) -> None:
        with self._write_lock:
            if not self._closed:
                super().close()
                self._writer.close()
                self._lock.release()

    # ---- internals ---------------------------------------------------------------

    def _writable(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreClosed()
        return self._writer

    def _apply(self, conn: sqlite3.Connection, batch: Sequence[Event]) -> tuple[WriteResult, Sequence[Event]]:
        """The batch's effect, in the caller's transaction; and the events that were new."""
        change = last_change_seq_of(conn)
        if all(e.revision == 0 for e in batch):
            return self._insert_starts(conn, batch, change)
        ids = list({e.event_id for e in batch})
        stored: dict[str, Stored] = {}
        for i in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[i : i + LOOKUP_CHUNK]
            rows = conn.execute(
                f"SELECT event_id, seq, revision FROM events WHERE event_id IN ({', '.join('?' * len(chunk))})", chunk
            )
            stored.update((r[0], Stored(r[1], r[2])) for r in rows)
        plan = plan_batch(batch, stored)
        new_rows, thumbnails = [], []
        for event in plan.new:
            change += 1
            new_rows.append(to_row(event, change, change))  # seq: the change that created it
            if event.thumbnail is not None:
                thumbnails.append((change, event.thumbnail))
        update_rows = []
        for event, seq in plan.updates:
            change += 1
            update_rows.append(to_update_row(event, seq, change))
            if event.thumbnail is not None:
                thumbnails.append((seq, event.thumbnail))
        if new_rows:
            conn.executemany(INSERT_SQL, new_rows)
        if update_rows:
            conn.executemany(UPDATE_SQL, update_rows)
        if thumbnails:
            conn.executemany(INSERT_THUMBNAIL_SQL, thumbnails)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'last_change_seq'", (change,))
        return WriteResult(len(plan.new), len(plan.updates), plan.ignored, change), plan.new

    @staticmethod
    def _insert_starts(conn: sqlite3.Connection, batch: Sequence[Event], change: int):
        """A batch of revision-0 events (the common case: events that just started).
        Any of them already stored has a revision >= 0, so it is a replay to ignore,
        which `ON CONFLICT DO NOTHING` does without a lookup first; the rows that went
        in are told apart afterwards by their fresh seqs, only when some did not."""
        rows = [to_row(e, change + i, change + i) for i, e in enumerate(batch, 1)]
        inserted = conn.executemany(INSERT_NEW_SQL, rows).rowcount
        if inserted == len(batch):
            new = list(zip(range(change + 1, change + len(batch) + 1), batch, strict=True))
        else:
            present = {
                r[0]
                for r in conn.execute(
                    "SELECT seq FROM events WHERE seq > ? AND seq <= ?", (change, change + len(batch))
                )
            }
            new = [(seq, e) for seq, e in enumerate(batch, change + 1) if seq in present]
        thumbnails = [(seq, e.thumbnail) for seq, e in new if e.thumbnail is not None]
        if thumbnails:
            conn.executemany(INSERT_THUMBNAIL_SQL, thumbnails)
        last = new[-1][0] if new else change
        if new:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'last_change_seq'", (last,))
        return WriteResult(len(new), 0, len(batch) - len(new), last), [e for _, e in new]

    def _delete_chunk(self, select) -> tuple[int, int]:
        with self._write_lock:
            conn = self._writable()
            conn.execute("BEGIN IMMEDIATE")
            try:
                seqs = select(conn)
                thumbnails = ret.delete_events(conn, seqs)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return len(seqs), thumbnails
