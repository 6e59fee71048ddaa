"""The event store's SQLite schema, its migrations, and how connections are opened.

The schema version is `PRAGMA user_version`; `MIGRATIONS` is the ordered list of
steps from an empty file to `SCHEMA_VERSION`, each applied in its own transaction
together with the version it reaches, so a crash mid-migration leaves the file at
the previous version. `PRAGMA application_id` marks the file as ours: a file that
is not SQLite, another application's database, or one written by a newer Mắt Thần
is refused with `StoreCorrupt`/`SchemaTooNew`, never recreated or altered.

Tables:

- `events`: one row per event, its newest revision. `seq` (the rowid) is given at
  the first insert and never changes: with `start_time` it is the order key of
  queries and cursors. `change_seq` is given anew at every insert and update, from
  the counter `meta.last_change_seq`; it is the change feed's position.
- `thumbnails`: one JPEG per event, keyed by the event's `seq`, written and deleted
  in the same transactions as its event. A separate table keeps the large values
  out of the pages every query scans; inside the database (not files beside it) a
  thumbnail commits with its event, so a crash never leaves an event without its
  thumbnail or a file without its event, and the size budget covers both.
- `meta`: `last_change_seq` (never decreases, even when retention deletes the newest
  rows) and `cursor_key` (random, signs query cursors).
- `acks`: who acknowledged an event and when (one row per event, by its `seq`; the
  first acknowledgement stays), deleted with its event.
- `ring_cursors`: where the writer is in each camera's event ring (the ring's epoch
  and the last sequence stored), written in the same transaction as the events it
  pulled, so a crash never loses a pulled batch nor applies it twice.

Indexes serve the queries the API makes: time order (`start_time`, then `seq`,
which SQLite appends to every index as the rowid), camera or class plus time,
the change feed, retention by severity and age, and batch job plus time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cluster.support.private import open_private, tighten

from .errors import SchemaOutdated, SchemaTooNew, StoreCorrupt, StoreFailure, StoreLocked, StoreUnusable

APPLICATION_ID = 0x4D544556  # "MTEV": Mắt Thần events
Synchronous = Literal["normal", "full"]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int  # the schema version the file is at after this step
    summary: str
    apply: Callable[[sqlite3.Connection], None]


def _create_v1(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL)")
    conn.execute("INSERT INTO meta (key, value) VALUES ('last_change_seq', 0), ('cursor_key', randomblob(32))")
    conn.execute(
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            change_seq INTEGER NOT NULL,
            event_id TEXT NOT NULL UNIQUE,
            camera_id TEXT NOT NULL,
            type TEXT NOT NULL,
            severity TEXT NOT NULL,
            rule TEXT NOT NULL,
            start_time REAL NOT NULL,
            end_time REAL,
            start_pts REAL NOT NULL,
            end_pts REAL,
            class_name TEXT,
            track_id INTEGER,
            direction TEXT,
            dwell_s REAL,
            count INTEGER,
            peak_confidence REAL,
            box_x REAL, box_y REAL, box_w REAL, box_h REAL,
            revision INTEGER NOT NULL
        )"""
    )
    conn.execute("CREATE UNIQUE INDEX events_by_change ON events (change_seq)")
    conn.execute("CREATE INDEX events_by_time ON events (start_time)")
    conn.execute("CREATE INDEX events_by_camera ON events (camera_id, start_time)")
    conn.execute("CREATE INDEX events_by_class ON events (class_name, start_time)")
    conn.execute("CREATE INDEX events_by_age ON events (severity, coalesce(end_time, start_time))")
    conn.execute("CREATE TABLE thumbnails (event_seq INTEGER PRIMARY KEY, jpeg BLOB NOT NULL)")


def _add_job_id_v2(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE events ADD COLUMN job_id TEXT")
    # Partial: live events (most of them) cost this index nothing.
    conn.execute("CREATE INDEX events_by_job ON events (job_id, start_time) WHERE job_id IS NOT NULL")


def _add_ring_cursors_v3(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE ring_cursors (
            camera_id TEXT PRIMARY KEY,
            epoch TEXT NOT NULL,
            sequence INTEGER NOT NULL CHECK (sequence >= 0)
        )"""
    )


def _add_acks_v4(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE acks (
            event_seq INTEGER PRIMARY KEY,
            acked_by TEXT NOT NULL,
            acked_at REAL NOT NULL
        )"""
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events, thumbnails and meta tables with their indexes", _create_v1),
    Migration(2, "job_id of batch reprocessing jobs, with a partial index", _add_job_id_v2),
    Migration(3, "ring_cursors: the writer's position in each camera's event ring", _add_ring_cursors_v3),
    Migration(4, "acks: who acknowledged an event, and when", _add_acks_v4),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
REQUIRED_TABLES = frozenset({"events", "thumbnails", "meta", "ring_cursors", "acks"})


def lock_path_of(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


class WriterLock:
    """An exclusive `flock` on `<db>.lock`: one writer per file, released by the kernel
    when its process dies (a `kill -9` leaves no stale lock behind)."""

    def __init__(self, db_path: Path):
        self.path = lock_path_of(db_path)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise StoreLocked(db_path, self.path) from None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def open_writer_connection(path: Path, *, busy_timeout_s: float, synchronous: Synchronous) -> sqlite3.Connection:
    """The writer's connection, with the file migrated to `SCHEMA_VERSION`. The caller
    holds the `WriterLock`. Raises `StoreCorrupt`, `SchemaTooNew` or `StoreFailure`.
    The file is 0600 (created so, or tightened): SQLite gives its -wal and -shm the
    database's mode, and events carry who was where."""
    _make_private(path)
    conn = _connect(str(path), uri=False, busy_timeout_s=busy_timeout_s)
    try:
        version = _check_identity(conn, path)
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(path, version, SCHEMA_VERSION)
        if version == 0:
            # Only possible before the first table exists; lets retention give pages back.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreFailure("open", f"{path}: could not switch to WAL mode (got {mode!r})")
        conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        migrate(conn, path, version)
        _check_tables(conn, path)
        return conn
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise store_error(exc, "open", path) from exc
    except BaseException:
        conn.close()
        raise


def _make_private(path: Path) -> None:
    try:
        os.close(open_private(path, os.O_RDWR | os.O_CREAT))
        for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if companion.exists():
                tighten(companion)
    except OSError as exc:
        raise StoreFailure("open", f"{path}: {exc.strerror or exc}") from exc


def open_reader_connection(path: Path, *, busy_timeout_s: float) -> sqlite3.Connection:
    """A read-only connection to a store at `SCHEMA_VERSION` (the writer migrates)."""
    if not path.exists():
        raise StoreUnusable(path, "no such file (the writer creates it when it first opens)")
    conn = _connect(f"file:{path}?mode=ro", uri=True, busy_timeout_s=busy_timeout_s)
    try:
        version = _check_identity(conn, path)
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(path, version, SCHEMA_VERSION)
        if version < SCHEMA_VERSION:
            raise SchemaOutdated(path, version, SCHEMA_VERSION)
        _check_tables(conn, path)
        conn.execute("PRAGMA query_only = ON")
        return conn
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise store_error(exc, "open", path) from exc
    except BaseException:
        conn.close()
        raise


def migrate(conn: sqlite3.Connection, path: Path, version: int) -> int:
    """Apply every migration above `version`, one transaction each; the new version."""
    for step in MIGRATIONS:
        if step.version <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            step.apply(conn)
            conn.execute(f"PRAGMA user_version = {step.version}")
            conn.execute("COMMIT")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError):
                raise store_error(exc, f"migration to version {step.version} ({step.summary})", path) from exc
            raise
        version = step.version
    return version


def store_error(exc: sqlite3.Error, operation: str, path: Path) -> StoreUnusable | StoreFailure:
    """Our error for an SQLite one: damage is `StoreCorrupt`, the rest (disk full, I/O,
    a lock held past the busy timeout) a `StoreFailure` that may pass."""
    if getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreCorrupt(path, f"{operation}: the database is damaged ({exc})")
    return StoreFailure(operation, f"{path}: {exc}")


def _connect(target: str, *, uri: bool, busy_timeout_s: float) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves. check_same_thread=False:
    # the store serialises use of its connections with its own locks.
    return sqlite3.connect(target, uri=uri, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)


def _check_identity(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version, after making sure it is ours (or empty)."""
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise StoreCorrupt(path, f"not a readable SQLite database ({exc})") from exc
    if application_id == APPLICATION_ID:
        return version
    if application_id == 0 and version == 0 and not tables:
        return 0  # a new, empty file
    raise StoreCorrupt(
        path,
        f"not a Mắt Thần event store (application_id {application_id:#x}, user_version {version}, "
        f"tables {sorted(tables) or 'none'})",
    )


def _check_tables(conn: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = REQUIRED_TABLES - tables
    if missing:
        raise StoreCorrupt(path, f"tables {sorted(missing)} are missing")
    keys = {row[0] for row in conn.execute("SELECT key FROM meta")}
    if not {"last_change_seq", "cursor_key"} <= keys:
        raise StoreCorrupt(path, f"meta table lacks last_change_seq or cursor_key (has {sorted(keys)})")


@contextlib.contextmanager
def read_transaction(conn: sqlite3.Connection):
    """One consistent snapshot for several statements (WAL: never blocks the writer)."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
