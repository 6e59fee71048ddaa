"""The job's state machine (cluster/batch/job.py) and its record on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.batch.job import InvalidTransition, JobFile, JobRecord, JobState, SegmentRecord
from cluster.batch.records import JobRecordStore
from cluster.batch.runner import DamagedRange, SegmentResult
from cluster.batch.segments import Segment
from cluster.batch.timestamps import TimeSource
from cluster.config import CameraConfig


def record(segments: int = 2) -> JobRecord:
    camera = CameraConfig.model_validate({"id": "road", "source": {"url": "/f/road.mp4"}})
    return JobRecord(
        job_id="job-1",
        camera=camera,
        files=(JobFile("/f/road.mp4", 60.0, 12.5, 750, 1_795_000_000.0, TimeSource.FILENAME),),
        segments=[
            SegmentRecord(Segment(0, i, 30.0 * i, 30.0 * (i + 1) if i + 1 < segments else None, 0.0))
            for i in range(segments)
        ],
        submitted_by="alice",
        submitted_at=1.0,
    )


def result(segment: Segment, analysed: int = 150, damaged: tuple[DamagedRange, ...] = ()) -> SegmentResult:
    return SegmentResult(segment, (), 375, analysed, 375, segment.start_s + 30.0, 2.0, damaged)


def test_a_job_runs_its_segments_and_succeeds_with_its_damage_listed() -> None:
    job = record()
    job.start(now=10.0)
    job.segment_finished(result(job.segments[0].segment))
    assert not job.finish_if_complete(now=11.0), "one segment is still pending"
    damage = DamagedRange(0, 40.0, None, "truncated")
    job.segment_finished(result(job.segments[1].segment, damaged=(damage,)))

    assert job.finish_if_complete(now=12.0) and job.state is JobState.SUCCEEDED, "every segment done: succeeded"
    assert job.damaged() == (damage,), "damage is reported, not a failure"
    with pytest.raises(InvalidTransition, match="already succeeded"):
        job.cancel(now=13.0, in_flight=0)


def test_a_job_where_nothing_could_be_analysed_fails() -> None:
    job = record(segments=1)
    job.start(now=1.0)
    job.segment_finished(result(job.segments[0].segment, analysed=0))

    assert job.finish_if_complete(now=2.0) and job.state is JobState.FAILED, "no frame analysed: failed"
    assert job.error and "no frame" in job.error


def test_cancelling_waits_for_the_tasks_in_flight() -> None:
    job = record()
    job.start(now=1.0)
    job.cancel(now=2.0, in_flight=1)
    assert job.state is JobState.CANCELLING, "a task still runs"
    job.in_flight_ended(now=3.0, in_flight=0)
    assert job.state is JobState.CANCELLED and job.finished_at == 3.0

    queued = record()
    queued.cancel(now=4.0, in_flight=0)
    assert queued.state is JobState.CANCELLED, "a queued job is cancelled at once"
    with pytest.raises(InvalidTransition, match="cannot start"):
        queued.start(now=5.0)


def test_a_record_survives_the_disk_and_a_restart_resumes_what_is_not_done(tmp_path: Path) -> None:
    job = record()
    job.start(now=1.0)
    job.segment_finished(result(job.segments[0].segment))
    store = JobRecordStore(tmp_path / "jobs")
    store.save(job)
    (tmp_path / "jobs" / "broken.json").write_text("{not json")

    (loaded,) = store.load_all()
    assert loaded.to_json() == job.to_json(), "the record reads back as it was written (a bad file is skipped)"
    assert [s.key for s in loaded.pending()] == ["0:1"], "only the unfinished segment is left"
    loaded.resume(now=5.0)
    assert loaded.state is JobState.RUNNING and loaded.footage_done_at_resume_s == 30.0, "resumed where it was"
