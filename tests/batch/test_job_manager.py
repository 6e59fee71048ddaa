"""The job manager on a real Ray: a job runs as chains of segments into the event store
through the writer, survives a crash of the manager or of a chain's worker, commits a
staged result instead of running its segment again, can be cancelled, and refuses bad
input by name."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psutil
import pytest

from cluster.batch.job import JobState
from cluster.batch.manager import JobManager
from cluster.batch.planning import ReprocessRequest, RequestError
from cluster.batch.ports import BatchRoom
from cluster.batch.records import JobRecordStore
from cluster.batch.runner import run_segment
from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from cluster.jobrunner.tasks import TASK_NAME_PREFIX
from tests.batch.batch_path import BatchPath
from tests.batch.conftest import ROAD_RULES

pytestmark = pytest.mark.slow

START = "2026-11-28T22:00:00"


@pytest.fixture
def parked_camera(long_footage: Path) -> CameraConfig:
    """The camera the footage was recorded by; disabled, so no live actor runs beside the job."""
    return CameraConfig.model_validate(
        {"id": "road", "enabled": False, "source": {"url": str(long_footage)}, "rules": ROAD_RULES}
    )


def run(coro):
    return asyncio.run(coro)


def test_a_job_writes_its_events_once_even_when_the_manager_is_killed_mid_job(
    ray_local, tmp_path: Path, parked_camera: CameraConfig, long_footage: Path, footage_dir: Path
) -> None:
    batch = BatchConfig(allowed_dirs=[footage_dir], segment_s=40.0, warmup_s=5.0, max_in_flight=2)

    async def scenario():
        path = await BatchPath.start(tmp_path / "state", [parked_camera], batch)
        try:
            view = await path.jobs.submit(
                ReprocessRequest("road", (str(long_footage),), start_time=START), submitted_by="alice"
            )
            assert view.state is JobState.QUEUED and view.segments_total >= 5, f"a queued job of segments: {view}"
            await path.wait(view.job_id, lambda v: v.segments_done >= 1)
            path.restart_job_manager()
            final = await path.wait(view.job_id, lambda v: v.state.final)
            return final, await path.events_of(view.job_id)
        finally:
            await path.stop()

    final, stored = run(scenario())
    assert final.state is JobState.SUCCEEDED, f"the job finished after the restart: {final}"
    assert final.segments_done == final.segments_total, "every segment done once"
    assert len({e.event_id for e in stored}) == len(stored), "the store holds each event once"
    assert len(stored) == final.events, f"the store has the {final.events} events the job counted, not {len(stored)}"
    assert final.events >= 60, f"the road's crossings and zone visits were found: {final.event_counts}"
    assert all(e.job_id == final.job_id and not e.ongoing for e in stored), "job events, all ended"
    assert final.frames_done == final.frames_total, f"progress reaches the whole footage: {final}"


def segment_workers() -> list[psutil.Process]:
    """The worker processes running a segment task (Ray titles them after the task)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or ())
        if cmdline.startswith(f"ray::{TASK_NAME_PREFIX}"):
            found.append(process)
    return found


async def kill_a_segment_worker() -> int:
    """SIGKILL the first segment worker found within 10 s; how many were killed (0 or 1)."""
    for _ in range(100):
        workers = segment_workers()
        if workers:
            workers[0].kill()
            return 1
        await asyncio.sleep(0.1)
    return 0


def test_a_worker_killed_mid_segment_is_retried_and_the_job_ends_with_each_event_once(
    ray_local, tmp_path: Path, parked_camera: CameraConfig, long_footage: Path, footage_dir: Path
) -> None:
    batch = BatchConfig(allowed_dirs=[footage_dir], segment_s=40.0, warmup_s=5.0, max_in_flight=1)

    async def scenario():
        path = await BatchPath.start(tmp_path / "state", [parked_camera], batch)
        try:
            view = await path.jobs.submit(
                ReprocessRequest("road", (str(long_footage),), start_time=START), submitted_by="alice"
            )
            await path.wait(view.job_id, lambda v: v.segments_running >= 1 and v.frames_done > 0)
            killed = await kill_a_segment_worker()
            final = await path.wait(view.job_id, lambda v: v.state.final)
            return killed, final, await path.events_of(view.job_id)
        finally:
            await path.stop()

    killed, final, stored = run(scenario())
    assert killed == 1, "a segment's worker was killed mid-run"
    assert final.state is JobState.SUCCEEDED and final.damaged == (), (
        f"the segment ran again and the job ended: {final}"
    )
    assert len({e.event_id for e in stored}) == len(stored) == final.events, "each event once"


def test_a_chain_whose_worker_is_killed_after_its_first_segment_keeps_it_and_ends_with_each_event_once(
    ray_local, tmp_path: Path, parked_camera: CameraConfig, long_footage: Path, footage_dir: Path
) -> None:
    batch = BatchConfig(allowed_dirs=[footage_dir], segment_s=40.0, warmup_s=5.0, max_in_flight=1)

    async def scenario():
        path = await BatchPath.start(tmp_path / "state", [parked_camera], batch)
        try:
            view = await path.jobs.submit(
                ReprocessRequest("road", (str(long_footage),), start_time=START), submitted_by="alice"
            )
            first = await path.wait(view.job_id, lambda v: v.segments_done >= 1 and v.segments_running >= 1)
            killed = await kill_a_segment_worker()
            final = await path.wait(view.job_id, lambda v: v.state.final)
            return first, killed, final, await path.events_of(view.job_id)
        finally:
            await path.stop()

    first, killed, final, stored = run(scenario())
    assert first.segments_done < first.segments_total - 1, f"one chain, killed with segments left: {first}"
    assert killed == 1, "the chain's worker was killed after its first segment was stored"
    assert final.state is JobState.SUCCEEDED and final.damaged == (), f"the rest ran again and the job ended: {final}"
    assert final.segments_done == final.segments_total, "every segment done once"
    assert len({e.event_id for e in stored}) == len(stored) == final.events, "each event once"
    assert all(not e.ongoing for e in stored), "every stored event ended"


class RecordingSink:
    def __init__(self) -> None:
        self.events: list = []

    def ingest(self, events) -> int:
        self.events.extend(events)
        return len(events)


class RecordingExecutor:
    """The manager's executor boundary, recording the chains it is asked to run (none runs)."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.submitted: list[list[str]] = []

    def submit(self, job, segments):
        self.submitted.append([s.key for s in segments])
        return object()

    def finished(self, handles, timeout_s: float) -> list:
        return []

    def cancel(self, handle) -> None:
        pass

    def capacity(self) -> BatchRoom:
        return BatchRoom(self.slots, "" if self.slots else "waiting for room: none in this test")


def test_a_staged_result_not_marked_done_is_committed_on_resume_and_not_run_again(
    tmp_path: Path, parked_camera: CameraConfig, long_footage: Path, footage_dir: Path
) -> None:
    batch = BatchConfig(allowed_dirs=[footage_dir], segment_s=40.0, warmup_s=5.0, max_in_flight=2)
    records = JobRecordStore(tmp_path / "jobs")
    before = JobManager(batch, records, RecordingExecutor(slots=0), RecordingSink(), lambda _: parked_camera)
    view = before.submit(ReprocessRequest("road", (str(long_footage),), start_time=START), submitted_by="alice")
    (record,) = records.load_all()
    segment = record.segments[1].segment
    file = record.files[0]
    result = run_segment(
        record.camera,
        segment,
        Path(file.path),
        job_id=view.job_id,
        footage_start=file.footage_start,
        max_tail_s=batch.max_tail_s,
    )
    assert result.events, f"segment {segment.key} has events to commit"
    records.stage(view.job_id, result)  # the manager died after staging it, before marking it done

    sink, executor = RecordingSink(), RecordingExecutor(slots=2)
    after = JobManager(batch, records, executor, sink, lambda _: parked_camera)
    after.step(timeout_s=0.0)

    resumed = after.get(view.job_id)
    assert [(e.event_id, e.revision) for e in sink.events] == [(e.event_id, e.revision) for e in result.events], (
        "the staged revisions, exactly, went to the store"
    )
    assert resumed.segments_done == 1 and resumed.events == len({e.event_id for e in result.events}), (
        f"the staged segment is done with its events counted: {resumed}"
    )
    assert records.staged(view.job_id) == [], "the stage is removed once the segment is marked done"
    submitted = [key for chain in executor.submitted for key in chain]
    assert segment.key not in submitted, f"the staged segment is not run again: {executor.submitted}"
    assert sorted(submitted) == sorted(s.segment.key for s in record.segments if s.segment.key != segment.key), (
        f"the other segments run, in two chains around it: {executor.submitted}"
    )
    assert len(executor.submitted) == 2, f"two slots, two chains: {executor.submitted}"


def test_a_cancelled_job_stops_and_keeps_only_its_finished_segments(
    ray_local, tmp_path: Path, parked_camera: CameraConfig, long_footage: Path, footage_dir: Path
) -> None:
    batch = BatchConfig(allowed_dirs=[footage_dir], segment_s=20.0, warmup_s=5.0, max_in_flight=1)

    async def scenario():
        path = await BatchPath.start(tmp_path / "state", [parked_camera], batch)
        try:
            view = await path.jobs.submit(
                ReprocessRequest("road", (str(long_footage),), start_time=START), submitted_by="alice"
            )
            await path.wait(view.job_id, lambda v: v.segments_done >= 1)
            await path.jobs.cancel(view.job_id)
            cancelled = await path.wait(view.job_id, lambda v: v.state.final)
            await asyncio.sleep(2.0)  # a segment that would still finish had time to
            later = await path.jobs.get(view.job_id)
            return cancelled, later
        finally:
            await path.stop()

    cancelled, later = run(scenario())
    assert cancelled.state is JobState.CANCELLED, f"cancelled: {cancelled}"
    assert cancelled.segments_done < cancelled.segments_total, "it stopped before the end"
    assert later.segments_done == cancelled.segments_done, "no segment finished after the cancellation"


def test_a_job_without_batch_room_says_it_waits_and_why_until_cancelled(
    ray_local, tmp_path: Path, parked_camera: CameraConfig, long_footage: Path, footage_dir: Path
) -> None:
    # No node of the test's Ray has 64 CPUs: no segment can ever start.
    batch = BatchConfig(allowed_dirs=[footage_dir], segment_s=40.0, cpus_per_segment=64.0)

    async def scenario():
        path = await BatchPath.start(tmp_path / "state", [parked_camera], batch)
        try:
            view = await path.jobs.submit(
                ReprocessRequest("road", (str(long_footage),), start_time=START), submitted_by="alice"
            )
            waiting = await path.wait(view.job_id, lambda v: bool(v.waiting), timeout_s=60.0)
            await path.jobs.cancel(view.job_id)
            return waiting, await path.wait(view.job_id, lambda v: v.state.final)
        finally:
            await path.stop()

    waiting, cancelled = run(scenario())
    assert waiting.state is JobState.RUNNING and waiting.segments_running == 0, f"running, nothing runs: {waiting}"
    assert waiting.waiting.startswith("waiting for room: a segment needs 64.00 cores and the most any node has"), (
        f"the reason names what a segment needs: {waiting.waiting!r}"
    )
    assert cancelled.state is JobState.CANCELLED, f"cancelled: {cancelled}"
    assert cancelled.waiting == "", f"a cancelled job no longer waits: {cancelled.waiting!r}"


def test_bad_requests_are_refused_naming_the_field_and_the_file(
    ray_local, tmp_path: Path, parked_camera: CameraConfig, long_footage: Path, footage_dir: Path, car_clip: Path
) -> None:
    batch = BatchConfig(allowed_dirs=[footage_dir])

    async def scenario():
        path = await BatchPath.start(tmp_path / "state", [parked_camera], batch)
        errors = []
        try:
            for request in (
                ReprocessRequest("road", (str(car_clip),), start_time=START),  # the shared dir is not allowed
                ReprocessRequest("road", (str(footage_dir / "missing.mp4"),), start_time=START),
                ReprocessRequest("nowhere", (str(long_footage),), start_time=START),
                ReprocessRequest("road", (str(long_footage),), start_time="soon"),
            ):
                try:
                    await path.jobs.submit(request, submitted_by="alice")
                except RequestError as exc:
                    errors.append((exc.field, exc.message))
            return errors
        finally:
            await path.stop()

    errors = run(scenario())
    assert len(errors) == 4, f"every bad request refused: {errors}"
    (outside, missing, camera, start) = errors
    assert outside[0] == "files" and str(car_clip) in outside[1] and "outside" in outside[1], outside
    assert missing[0] == "files" and "missing.mp4: no such file" in missing[1], missing
    assert camera == ("camera_id", "no camera 'nowhere'"), camera
    assert start[0] == "start_time" and "'soon'" in start[1], start
