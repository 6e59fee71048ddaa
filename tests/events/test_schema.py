"""Opening files: migration from the previous schema, and refusal of what is not ours to change."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from cluster.events import (
    SCHEMA_VERSION,
    CountRow,
    EventFilter,
    EventReader,
    EventStore,
    SchemaOutdated,
    SchemaTooNew,
    StoreClosed,
    StoreCorrupt,
    StoreLocked,
    StoreUnusable,
)
from cluster.events.schema import APPLICATION_ID

from .factory import JPEG, T0, db_path, event

# The file as version 1 of the code wrote it (no job_id yet), written out by hand.
V1_SCHEMA = f"""
PRAGMA application_id = {APPLICATION_ID};
CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL);
INSERT INTO meta (key, value) VALUES ('last_change_seq', 2), ('cursor_key', randomblob(32));
CREATE TABLE events (
    seq INTEGER PRIMARY KEY, change_seq INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE,
    camera_id TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL, rule TEXT NOT NULL,
    start_time REAL NOT NULL, end_time REAL, start_pts REAL NOT NULL, end_pts REAL, class_name TEXT,
    track_id INTEGER, direction TEXT, dwell_s REAL, count INTEGER, peak_confidence REAL,
    box_x REAL, box_y REAL, box_w REAL, box_h REAL, revision INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_by_change ON events (change_seq);
CREATE INDEX events_by_time ON events (start_time);
CREATE INDEX events_by_camera ON events (camera_id, start_time);
CREATE INDEX events_by_class ON events (class_name, start_time);
CREATE INDEX events_by_age ON events (severity, coalesce(end_time, start_time));
CREATE TABLE thumbnails (event_seq INTEGER PRIMARY KEY, jpeg BLOB NOT NULL);
INSERT INTO events VALUES (1, 1, 'id-one', 'cam-1', 'zone_enter', 'alert', 'alley', {T0}, NULL, 0.0, NULL,
    'person', 4, NULL, NULL, NULL, 0.9, 0.1, 0.1, 0.2, 0.2, 0);
INSERT INTO events VALUES (2, 2, 'id-two', 'cam-2', 'line_crossing', 'info', 'ramp', {T0 + 10}, {T0 + 11}, 1.0,
    2.0, 'motorbike', 5, 'a_to_b', NULL, NULL, 0.7, NULL, NULL, NULL, NULL, 0);
INSERT INTO thumbnails VALUES (1, X'FFD8FFD9');
PRAGMA user_version = 1;
"""


def write_v1(path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.close()


def version_of(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_a_version_1_file_is_migrated_with_its_events(tmp_path):
    path = db_path(tmp_path)
    write_v1(path)
    with EventStore(path) as store:
        assert version_of(path) == SCHEMA_VERSION == 4
        one = store.get("id-one")
        assert (one.camera_id, one.class_name, one.job_id) == ("cam-1", "person", None), "old rows, with no job"
        assert one.thumbnail == b"\xff\xd8\xff\xd9", "with their thumbnails"
        assert store.get("id-two").direction.value == "a_to_b"


def test_a_migrated_file_keeps_its_change_feed_position(tmp_path):
    path = db_path(tmp_path)
    write_v1(path)
    with EventStore(path) as store:
        assert store.last_change_seq() == 2
        store.write([event(1, job="job-1")])
        assert store.last_change_seq() == 3, "new changes continue after the old ones"


def test_a_migrated_file_stores_and_filters_job_events(tmp_path):
    path = db_path(tmp_path)
    write_v1(path)
    with EventStore(path) as store:
        job_event = event(1, job="job-1", thumbnail=JPEG)
        store.write([job_event])
        assert [e.event_id for e in store.query(EventFilter(job_ids={"job-1"})).events] == [job_event.event_id]
        assert {e.event_id for e in store.query(EventFilter(live_only=True)).events} == {"id-one", "id-two"}


def test_a_newer_schema_is_refused_and_left_as_it_is(tmp_path):
    path = db_path(tmp_path)
    EventStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew, match=f"schema version {SCHEMA_VERSION + 1} is newer"):
        EventStore(path)
    assert path.read_bytes() == before, "the newer file was not touched"
    with pytest.raises(SchemaTooNew):
        EventReader(path)


def test_a_file_that_is_not_a_database_is_refused_and_left_as_it_is(tmp_path):
    path = db_path(tmp_path)
    path.write_bytes(b"these are not the pages you are looking for" * 200)
    before = path.read_bytes()
    with pytest.raises(StoreCorrupt, match="not a readable SQLite database"):
        EventStore(path)
    assert path.read_bytes() == before, "a corrupt file is never recreated"


def test_another_applications_database_is_refused(tmp_path):
    path = db_path(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(StoreCorrupt, match=r"not a Mắt Thần event store .*invoices"):
        EventStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0, "nothing was migrated into it"


def test_a_damaged_page_is_reported_as_corruption(tmp_path):
    path = db_path(tmp_path)
    with EventStore(path) as store:
        store.write([event(n, thumbnail=JPEG * 4) for n in range(300)])
    data = bytearray(path.read_bytes())
    page_size = 4096
    for offset in range(page_size * 3, len(data), page_size):  # scribble over every page after the schema
        data[offset : offset + 64] = b"\x55" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupt, match="damaged"), EventStore(path) as store:
        store.query(page_size=1000)
        store.count(group_by=["camera"])


def test_a_second_writer_is_refused(tmp_path):
    path = db_path(tmp_path)
    with EventStore(path), pytest.raises(StoreLocked, match="another writer"):
        EventStore(path)
    EventStore(path).close()  # the lock went with the first writer


def test_a_reader_needs_the_writer_to_have_created_the_file(tmp_path):
    with pytest.raises(StoreUnusable, match="no such file"):
        EventReader(db_path(tmp_path))


def test_a_reader_refuses_a_schema_the_writer_has_not_migrated(tmp_path):
    path = db_path(tmp_path)
    write_v1(path)
    with pytest.raises(SchemaOutdated, match="open it with the writer first"):
        EventReader(path)
    assert version_of(path) == 1, "a reader never migrates"


def test_a_reader_in_another_connection_sees_committed_batches(tmp_path):
    path = db_path(tmp_path)
    with EventStore(path) as store, EventReader(path) as reader:
        store.write([event(1)])
        assert [e.event_id for e in reader.query().events] == [event(1).event_id]


def test_the_file_is_in_wal_mode(tmp_path):
    path = db_path(tmp_path)
    EventStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2, "incremental: retention gives pages back"


def test_threads_read_while_another_writes(tmp_path):
    path = db_path(tmp_path)
    with EventStore(path) as store:
        store.write([event(n) for n in range(100)])

        def read() -> None:
            for _ in range(50):
                assert len(store.query(page_size=50).events) == 50
                store.count(group_by=["camera"])

        def write() -> None:
            for b in range(1, 20):
                store.write([event(n) for n in range(100 * b, 100 * b + 100)])

        with ThreadPoolExecutor(max_workers=5) as pool:
            futures = [pool.submit(read) for _ in range(4)] + [pool.submit(write)]
            for future in futures:
                future.result(timeout=120)  # re-raises a thread's failure
        assert store.count() == (CountRow(2000),)
    with pytest.raises(StoreClosed):
        store.query()
