"""Acknowledgements in the event store: who acknowledged which event, when; the first
one stays; retention takes them with their events; a version 3 file gets the table."""

from __future__ import annotations

import sqlite3

import pytest

from cluster.domain import Severity
from cluster.events import SCHEMA_VERSION, Acknowledgement, EventNotFound, EventReader, EventStore, InvalidQuery
from cluster.events.retention import RetentionPolicy

from .factory import T0, db_path, event


def test_an_acknowledgement_is_stored_with_who_and_when(tmp_path) -> None:
    with EventStore(db_path(tmp_path)) as store:
        store.write([event(1), event(2)])
        ack = store.acknowledge(event(1).event_id, "truc-ban-1", T0 + 60)
        assert ack == Acknowledgement(event(1).event_id, "truc-ban-1", T0 + 60), f"the record: {ack}"
        found = store.acknowledgements([event(1).event_id, event(2).event_id])
        assert found == {event(1).event_id: ack}, f"only the acknowledged event has one: {found}"


def test_the_first_acknowledgement_stays(tmp_path) -> None:
    with EventStore(db_path(tmp_path)) as store:
        store.write([event(1)])
        first = store.acknowledge(event(1).event_id, "truc-ban-1", T0 + 60)
        again = store.acknowledge(event(1).event_id, "truc-ban-2", T0 + 90)
        assert again == first, f"a second console acknowledging changes nothing and learns the first: {again}"


def test_acknowledging_an_unknown_event_is_not_found(tmp_path) -> None:
    with EventStore(db_path(tmp_path)) as store:
        with pytest.raises(EventNotFound):
            store.acknowledge("0" * 32, "truc-ban-1", T0)
        store.write([event(1)])
        with pytest.raises(InvalidQuery, match="who"):
            store.acknowledge(event(1).event_id, "", T0)


def test_another_process_reads_acknowledgements(tmp_path) -> None:
    path = db_path(tmp_path)
    with EventStore(path) as store:
        store.write([event(1)])
        store.acknowledge(event(1).event_id, "truc-ban-1", T0 + 5)
        reader = EventReader(path)
        try:
            assert reader.acknowledgements([event(1).event_id])[event(1).event_id].by == "truc-ban-1"
            with pytest.raises(InvalidQuery, match="event_ids"):
                reader.acknowledgements([f"{n:032x}" for n in range(1001)])
        finally:
            reader.close()


def test_retention_deletes_an_events_acknowledgement_with_it(tmp_path) -> None:
    path = db_path(tmp_path)
    with EventStore(path, retention=RetentionPolicy(max_age_s={Severity.ALERT: 3600.0})) as store:
        store.write([event(1)])
        store.acknowledge(event(1).event_id, "truc-ban-1", T0 + 5)
        store.enforce_retention(T0 + 10 * 3600)
        rows = sqlite3.connect(path).execute("SELECT count(*) FROM acks").fetchone()[0]
        assert rows == 0, "no acknowledgement is left behind without its event"


def test_a_version_3_file_gets_the_acks_table_and_keeps_its_events(tmp_path) -> None:
    path = db_path(tmp_path)
    with EventStore(path) as store:
        store.write([event(1)])
    with sqlite3.connect(path) as conn:  # back to what version 3 of the code left
        conn.execute("DROP TABLE acks")
        conn.execute("PRAGMA user_version = 3")
    with EventStore(path) as store:
        assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert [e.event_id for e in store.query().events] == [event(1).event_id], "its events are kept"
        store.acknowledge(event(1).event_id, "truc-ban-1", T0)
        assert store.acknowledgements([event(1).event_id]), "and acknowledgements can be stored"
