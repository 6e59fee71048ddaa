"""BatchJobMetrics and EventStoreMetrics."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from cluster.metrics.batch import BatchJobMetrics
from cluster.metrics.events import EventStoreMetrics


def get(registry, name, **labels):
    return registry.get_sample_value(name, labels)


def test_a_job_reports_progress_while_it_runs_and_its_outcome_after():
    registry = CollectorRegistry()
    jobs = BatchJobMetrics(registry)
    jobs.job_started("job-1", frames_total=200)
    jobs.frames_processed("job-1", 50)
    assert get(registry, "matthan_batch_job_progress_ratio", batch_job="job-1") == 0.25
    assert get(registry, "matthan_batch_job_frames_processed", batch_job="job-1") == 50
    assert get(registry, "matthan_batch_jobs_running") == 1
    jobs.frames_processed("job-1", 150)
    jobs.job_finished("job-1", "succeeded")
    assert get(registry, "matthan_batch_frames_processed_total") == 200
    assert get(registry, "matthan_batch_jobs_finished_total", outcome="succeeded") == 1
    assert get(registry, "matthan_batch_jobs_finished_total", outcome="failed") == 0, "outcomes exported at 0"
    assert get(registry, "matthan_batch_jobs_running") == 0
    assert get(registry, "matthan_batch_job_progress_ratio", batch_job="job-1") is None, (
        "finished jobs leave no per-job series (bounded label)"
    )


def test_per_job_series_are_capped():
    registry = CollectorRegistry()
    jobs = BatchJobMetrics(registry, max_jobs_shown=2)
    for i in range(3):
        jobs.job_started(f"job-{i}", frames_total=10)
        jobs.frames_processed(f"job-{i}", 1)
    shown = [i for i in range(3) if get(registry, "matthan_batch_job_progress_ratio", batch_job=f"job-{i}")]
    assert shown == [0, 1]
    assert get(registry, "matthan_batch_frames_processed_total") == 3, "throughput counts every job"
    jobs.job_finished("job-0", "failed")
    jobs.job_started("job-3", frames_total=10)
    assert get(registry, "matthan_batch_job_frames_processed", batch_job="job-3") == 0, "a freed slot is reused"


def test_a_job_without_a_known_total_has_no_progress():
    registry = CollectorRegistry()
    jobs = BatchJobMetrics(registry)
    jobs.job_started("job-1")
    jobs.frames_processed("job-1", 5)
    assert get(registry, "matthan_batch_job_progress_ratio", batch_job="job-1") is None
    assert get(registry, "matthan_batch_job_frames_processed", batch_job="job-1") == 5


def test_job_misuse_is_refused():
    jobs = BatchJobMetrics(CollectorRegistry())
    jobs.job_started("job-1")
    with pytest.raises(ValueError, match="already running"):
        jobs.job_started("job-1")
    with pytest.raises(ValueError, match="outcome"):
        jobs.job_finished("job-1", "exploded")
    with pytest.raises(KeyError, match="job-2"):
        jobs.frames_processed("job-2")


def test_event_store_counts_events_errors_and_write_time():
    registry = CollectorRegistry()
    clock_values = iter([10.0, 10.25, 20.0, 20.5])
    store = EventStoreMetrics(registry, clock=lambda: next(clock_values))
    store.events_written("cam-1", "person", 3)
    with store.time_write():
        pass
    with pytest.raises(OSError), store.time_write():
        raise OSError("disk full")
    store.operation_failed("query")
    assert get(registry, "matthan_events_total", camera="cam-1", **{"class": "person"}) == 3
    assert get(registry, "matthan_event_store_errors_total", operation="write") == 1
    assert get(registry, "matthan_event_store_errors_total", operation="query") == 1
    assert get(registry, "matthan_event_store_write_duration_seconds_count") == 2
    assert get(registry, "matthan_event_store_write_duration_seconds_sum") == 0.75
    with pytest.raises(ValueError, match="snake_case"):
        store.operation_failed("INSERT INTO events")


def test_event_store_counts_batches_buffer_drops_retention_and_size():
    registry = CollectorRegistry()
    store = EventStoreMetrics(registry)
    store.batch_committed(40)
    store.batch_committed(10)
    store.set_buffered(7)
    store.events_dropped("buffer_full", 3)
    store.retention_deleted("age", 5)
    store.retention_deleted("size", 2)
    store.set_size(4096)
    store.events_by_type("cam-1", "tamper_black")
    assert get(registry, "matthan_event_store_batches_total") == 2
    assert get(registry, "matthan_event_store_batch_events_total") == 50, "mean batch size = 50 / 2"
    assert get(registry, "matthan_event_store_buffered_events") == 7
    assert get(registry, "matthan_event_store_dropped_events_total", reason="buffer_full") == 3
    assert get(registry, "matthan_event_store_dropped_events_total", reason="shutdown") == 0, "reasons exported at 0"
    assert get(registry, "matthan_event_store_retention_deleted_total", reason="age") == 5
    assert get(registry, "matthan_event_store_retention_deleted_total", reason="size") == 2
    assert get(registry, "matthan_event_store_size_bytes") == 4096
    assert get(registry, "matthan_events_by_type_total", camera="cam-1", type="tamper_black") == 1
    for operation in ("write", "query", "retention", "open", "flush"):
        assert get(registry, "matthan_event_store_errors_total", operation=operation) == 0, (
            f"{operation} errors exported at 0, so the alert sees the series"
        )


def test_event_store_labels_stay_bounded():
    store = EventStoreMetrics(CollectorRegistry())
    with pytest.raises(ValueError, match="snake_case"):
        store.events_dropped("Buffer Full!")
    with pytest.raises(ValueError, match="snake_case"):
        store.events_by_type("cam-1", "DROP TABLE events")


def test_event_store_exposition_follows_the_conventions():
    from prometheus_client import generate_latest

    from tests.metrics.exposition import convention_problems

    registry = CollectorRegistry()
    store = EventStoreMetrics(registry)
    store.events_written("cam-1", "person")
    store.events_by_type("cam-1", "zone_enter")
    store.batch_committed(3)
    store.set_size(1)
    assert convention_problems(generate_latest(registry).decode()) == []


def test_event_store_metrics_are_what_the_store_reports_to():
    from cluster.events import StoreRecorder

    recorder: StoreRecorder = EventStoreMetrics(CollectorRegistry())
    assert isinstance(recorder, StoreRecorder), "every method the store and batcher call"


def test_segments_feed_frames_footage_and_durations_and_a_snapshot_carries_them():
    registry = CollectorRegistry()
    jobs = BatchJobMetrics(registry)
    jobs.job_started("job-1", frames_total=100)
    jobs.segment_finished("job-1", frames=60, footage_s=24.0, wall_s=3.0)
    jobs.set_job_speed("job-1", 8.0)
    jobs.set_states({"running": 1})
    jobs.set_backlog(4)
    snapshot = jobs.snapshot()

    assert snapshot.value("matthan_batch_frames_processed_total") == 60, "frames of the segment"
    assert snapshot.value("matthan_batch_footage_seconds_total") == 24.0, "its footage"
    assert snapshot.value("matthan_batch_segment_duration_seconds_count") == 1, "its duration observed"
    assert snapshot.value("matthan_batch_job_progress_ratio", batch_job="job-1") == 0.6, "progress"
    assert snapshot.value("matthan_batch_job_speed_ratio", batch_job="job-1") == 8.0, "speed"
    assert snapshot.value("matthan_batch_jobs", state="running") == 1, "jobs by state"
    assert snapshot.value("matthan_batch_jobs", state="failed") == 0, "every state exported"
    assert snapshot.value("matthan_batch_backlog_segments") == 4, "backlog"
    jobs.job_finished("job-1", "succeeded")
    assert jobs.snapshot().value("matthan_batch_job_speed_ratio", batch_job="job-1") is None, "per-job series end"
