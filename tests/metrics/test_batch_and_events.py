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
