"""The event store's files are readable by their owner only (issue 15): events say who
was where, and thumbnails show them. SQLite gives the -wal and -shm files the mode of
the database, so the database's mode is what matters."""

from __future__ import annotations

from pathlib import Path

from cluster.events import EventStore
from tests.events.factory import event
from tests.fixtures.file_modes import mode


def test_a_new_store_and_its_wal_are_owner_only(tmp_path: Path, open_umask: int) -> None:
    path = tmp_path / "state" / "events.sqlite3"
    store = EventStore(path)
    try:
        store.write([event(1, camera="cam-a")])
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        modes = {f.name: oct(mode(f)) for f in files if f.exists()}
    finally:
        store.close()
    assert len(modes) == 3, f"the database, its WAL and shared memory exist while open: {modes}"
    assert set(modes.values()) == {oct(0o600)}, f"owner only even under umask 0: {modes}"
    assert mode(path.parent) == 0o700, f"the directory the store created: {oct(mode(path.parent))}"


def test_an_existing_world_readable_store_is_tightened_when_opened(tmp_path: Path, open_umask: int) -> None:
    path = tmp_path / "events.sqlite3"
    EventStore(path).close()
    path.chmod(0o644)
    store = EventStore(path)
    try:
        assert mode(path) == 0o600, f"a store from before is tightened: {oct(mode(path))}"
    finally:
        store.close()
