"""Retention: by age per severity, by total size oldest first, thumbnails with their events."""

from __future__ import annotations

import sqlite3

import pytest
from prometheus_client import CollectorRegistry

from cluster.config.events import EventRetentionConfig
from cluster.domain import Severity
from cluster.events import EventStore, RetentionPolicy
from cluster.metrics.events import EventStoreMetrics

from .factory import JPEG, T0, db_path, event, ids

HOUR, DAY = 3600.0, 86400.0
NOW = T0 + 30 * DAY


def open_store(tmp_path, policy, registry=None):
    return EventStore(
        db_path(tmp_path),
        retention=policy,
        metrics=EventStoreMetrics(registry if registry is not None else CollectorRegistry()),
    )


def stored_ids(store) -> set[str]:
    return {e.event_id for e in store.query(page_size=1000).events}


def orphan_thumbnails(store) -> int:
    with sqlite3.connect(store.path) as conn:
        return conn.execute(
            "SELECT count(*) FROM thumbnails WHERE event_seq NOT IN (SELECT seq FROM events)"
        ).fetchone()[0]


def test_events_older_than_their_severity_allows_are_deleted(tmp_path):
    policy = RetentionPolicy({Severity.ALERT: 7 * DAY, Severity.INFO: 1 * DAY})
    old_info = event(1, severity="info", start=NOW - 2 * DAY, end_time=NOW - 2 * DAY + 60, thumbnail=JPEG)
    new_info = event(2, severity="info", start=NOW - HOUR, end_time=NOW - HOUR + 60)
    old_alert = event(3, severity="alert", start=NOW - 2 * DAY, end_time=NOW - 2 * DAY + 60)
    with open_store(tmp_path, policy) as store:
        store.write([old_info, new_info, old_alert])
        result = store.enforce_retention(NOW)
        assert stored_ids(store) == {new_info.event_id, old_alert.event_id}, "alerts are kept longer"
        assert result.deleted_by_age == {Severity.ALERT: 0, Severity.INFO: 1}
        assert result.thumbnails_deleted == 1 and orphan_thumbnails(store) == 0, "the thumbnail went too"


def test_age_counts_from_the_end_or_from_the_start_of_an_ongoing_event(tmp_path):
    policy = RetentionPolicy({Severity.INFO: 1 * DAY})
    ended_lately = event(1, severity="info", start=NOW - 3 * DAY, end_time=NOW - 12 * HOUR)
    ongoing_for_long = event(2, severity="info", start=NOW - 2 * DAY)
    with open_store(tmp_path, policy) as store:
        store.write([ended_lately, ongoing_for_long])
        store.enforce_retention(NOW)
        assert stored_ids(store) == {ended_lately.event_id}


def test_a_severity_without_an_age_limit_is_kept(tmp_path):
    policy = RetentionPolicy({Severity.INFO: 1 * DAY, Severity.ALERT: None})
    with open_store(tmp_path, policy) as store:
        store.write([event(1, severity="alert", start=NOW - 900 * DAY)])
        assert store.enforce_retention(NOW).deleted == 0


def test_deletion_runs_in_chunks_until_done(tmp_path):
    policy = RetentionPolicy({Severity.INFO: 1 * DAY}, chunk=3)
    with open_store(tmp_path, policy) as store:
        store.write([event(n, severity="info", start=NOW - 5 * DAY + n) for n in range(10)])
        assert store.enforce_retention(NOW).deleted_by_age[Severity.INFO] == 10
        assert stored_ids(store) == set()


def test_the_size_budget_deletes_the_oldest_events_with_their_thumbnails(tmp_path):
    budget = 1024 * 1024
    thumbnail = JPEG * 16  # about 16 KiB
    events = [event(n, severity="alert" if n % 3 else "info", thumbnail=thumbnail) for n in range(200)]
    with open_store(tmp_path, RetentionPolicy(max_total_bytes=budget)) as store:
        for i in range(0, 200, 50):
            store.write(events[i : i + 50])
        size_before = store.size_bytes()
        assert size_before > 3 * budget, "the test starts well over the budget"
        result = store.enforce_retention(NOW)
        kept = stored_ids(store)
        assert store.size_bytes() <= budget and result.size_bytes == store.size_bytes()
        assert result.deleted_by_size == 200 - len(kept) > 0
        assert kept == set(ids(events[200 - len(kept) :])), "the oldest went first, whatever their severity"
        assert orphan_thumbnails(store) == 0
        assert len(kept) >= 0.8 * 200 * budget / size_before, "it did not delete far more than it had to"


def test_the_file_gives_the_space_back(tmp_path):
    with open_store(tmp_path, RetentionPolicy(max_total_bytes=512 * 1024)) as store:
        store.write([event(n, thumbnail=JPEG * 16) for n in range(200)])
        store.enforce_retention(NOW)
        with sqlite3.connect(store.path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert db_path(tmp_path).stat().st_size <= 1024 * 1024, "free pages returned to the file system"


def test_without_limits_nothing_is_deleted(store):
    store.write([event(n, start=NOW - 5000 * DAY, thumbnail=JPEG) for n in range(5)])
    result = store.enforce_retention(NOW)
    assert result.deleted == 0 and len(stored_ids(store)) == 5


def test_deletions_and_size_are_in_the_metrics(tmp_path):
    registry = CollectorRegistry()
    policy = RetentionPolicy({Severity.INFO: DAY}, max_total_bytes=600 * 1024)
    with open_store(tmp_path, policy, registry) as store:
        store.write([event(n, severity="info", start=NOW - 2 * DAY) for n in range(4)])
        store.write([event(n, severity="alert", thumbnail=JPEG * 16, start=NOW - DAY + n) for n in range(4, 80)])
        result = store.enforce_retention(NOW)
    get = registry.get_sample_value
    assert get("matthan_event_store_retention_deleted_total", {"reason": "age"}) == 4
    assert get("matthan_event_store_retention_deleted_total", {"reason": "size"}) == result.deleted_by_size > 0
    assert get("matthan_event_store_size_bytes") == result.size_bytes


def test_the_policy_from_config_covers_every_severity():
    policy = RetentionPolicy.from_config(
        EventRetentionConfig(alert_max_age_days=30, info_max_age_days=None, max_total_mb=2)
    )
    assert dict(policy.max_age_s) == {Severity.ALERT: 30 * DAY, Severity.INFO: None}
    assert set(policy.max_age_s) == set(Severity), "a new severity needs its retention field"
    assert policy.max_total_bytes == 2 * 1024 * 1024


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"max_age_s": {Severity.INFO: 0.0}}, "max_age_s"),
        ({"max_age_s": {"info": 10.0}}, "not a Severity"),
        ({"max_total_bytes": 0}, "max_total_bytes"),
        ({"chunk": 0}, "chunk"),
    ],
)
def test_a_bad_policy_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        RetentionPolicy(**arguments)
