"""A camera's recorded range as a job (`cluster/batch/recorded.py`, `planning.py`): real
recordings of the shared clip (`tests/recordings/footage.py`), read back through the
camera's chain; clips exact, not-recorded stretches reported, bad ranges named."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.batch.job import JobRecord
from cluster.batch.media import index_media
from cluster.batch.planning import plan_job
from cluster.batch.recorded import (
    LIST_SUFFIX,
    NOT_RECORDED,
    NothingRecorded,
    lists_dir_for,
    recorded_inputs,
    remove_lists,
    uncovered,
)
from cluster.batch.requests import ReprocessRequest, RequestError
from cluster.batch.timestamps import TimeSource
from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from cluster.recordings import segments_for_range
from tests.recordings.footage import T0, record_clip
from tests.video.conftest import car_clip  # noqa: F401 - a fixture, found by pytest by name

# A frame period of the 12.5 fps clip: how close a clip's bounds are to the range's.
FRAME_S = 0.08


@pytest.fixture
def recordings(tmp_path: Path, car_clip: Path) -> Path:  # noqa: F811
    """<root>/cam-1: 20 s from T0 in ~4.8 s segments, nothing from T0+20 to T0+40, 20 s more."""
    root = tmp_path / "rec"
    record_clip(root, "cam-1", car_clip, start=T0, seconds=20.0, segment_s=4.0)
    record_clip(root, "cam-1", car_clip, start=T0 + 40.0, seconds=20.0, segment_s=4.0)
    return root


def _camera(root: Path) -> CameraConfig:
    return CameraConfig.model_validate(
        {"id": "cam-1", "source": {"url": "/srv/none.mp4"}, "recording": {"directory": str(root)}}
    )


def _plan(root: Path, start: float, end: float, config: BatchConfig | None = None) -> JobRecord:
    request = ReprocessRequest("cam-1", recorded_from=start, recorded_to=end)
    return plan_job("job-r", _camera(root), request, config or BatchConfig(), submitted_by="op", now=0.0)


def test_the_inputs_of_a_range_are_the_chain_segments_clipped_to_it_exactly(recordings: Path) -> None:
    start, end = T0 + 7.0, T0 + 15.0
    inputs = recorded_inputs("cam-1", recordings / "cam-1", start, end, lists_dir=recordings / "lists")
    chain = segments_for_range(recordings / "cam-1", start, end)

    (run,) = inputs.files
    assert list(run.segments) == [s.path.resolve() for s in chain], "the chain's segments, in order, each once"
    assert run.start == chain[0].start and run.end == chain[-1].end, "dated by the chain's exact times"
    assert run.start + run.clip_start_s == pytest.approx(start), f"the range begins inside the first: {run}"
    assert run.clip_end_s is not None and run.start + run.clip_end_s == pytest.approx(end), f"and ends: {run}"
    assert inputs.not_recorded == (), f"all of it was recorded: {inputs.not_recorded}"


def test_contiguous_segments_read_as_one_footage_on_the_recording_clock(recordings: Path) -> None:
    start, end = T0, T0 + 20.0
    (run,) = recorded_inputs("cam-1", recordings / "cam-1", start, end, lists_dir=recordings / "lists").files
    chain = segments_for_range(recordings / "cam-1", start, end)

    index = index_media(run.path)
    assert run.path.suffix == LIST_SUFFIX and len(chain) >= 4, f"a concat list of the run: {run.path}, {chain}"
    assert index.duration_s == pytest.approx(chain[-1].end - chain[0].start, abs=FRAME_S), "one footage, no seams"
    cuts = [s.start - run.start for s in chain]
    assert all(any(abs(k - cut) < FRAME_S / 2 for k in index.keyframes) for cut in cuts), (
        f"each segment begins at its own wall-clock offset in the run's media time: {cuts} vs {index.keyframes}"
    )


def test_a_hole_splits_the_range_into_two_runs(recordings: Path) -> None:
    inputs = recorded_inputs("cam-1", recordings / "cam-1", T0 + 10.0, T0 + 50.0, lists_dir=recordings / "lists")

    assert len(inputs.files) == 2, f"one run each side of the hole: {inputs.files}"
    assert inputs.files[1].start == pytest.approx(T0 + 40.0, abs=0.1), "the second starts at its own recording"
    assert inputs.files[1].clip_start_s == 0.0 and inputs.files[1].clip_end_s is not None, inputs.files[1]


def test_a_forgotten_job_leaves_no_concat_lists(recordings: Path) -> None:
    lists = lists_dir_for(recordings / "cam-1", "job-r")
    record = _plan(recordings, T0, T0 + 20.0)
    assert lists.is_dir() and record.files[0].path.startswith(str(lists)), f"the job reads a list: {record.files}"

    remove_lists([f.path for f in record.files], "job-r")
    assert not lists.exists(), "removed with the job"
    assert (recordings / "cam-1" / "chain.jsonl").exists(), "the recordings are untouched"


def test_a_job_over_a_range_starts_and_ends_its_segments_at_the_range(recordings: Path) -> None:
    start, end = T0 + 7.0, T0 + 15.0
    record = _plan(recordings, start, end)

    first = record.segments[0].segment
    last = record.segments[-1].segment
    head, tail = record.files[first.file_index], record.files[last.file_index]
    assert all(f.time_source is TimeSource.RECORDING for f in record.files), "dated by the recording"
    assert head.footage_start + first.start_s == pytest.approx(start), f"owns nothing before from: {first}"
    assert first.decode_from_s < first.start_s and not first.owns(first.decode_from_s), "warm-up, never attributed"
    assert last.end_s is not None and tail.footage_start + last.end_s == pytest.approx(end), f"ends at to: {last}"
    assert record.footage_total_s == pytest.approx(end - start, abs=FRAME_S), "the footage is the range"
    assert record.recorded_range == (start, end), "the job keeps its range"


def test_a_stretch_nothing_recorded_is_reported_as_not_recorded(recordings: Path) -> None:
    record = _plan(recordings, T0 + 10.0, T0 + 50.0)

    assert len(record.not_recorded) == 1, f"one hole: {record.not_recorded}"
    hole = record.not_recorded[0]
    assert hole.start == pytest.approx(T0 + 20.0, abs=0.5) and hole.end == pytest.approx(T0 + 40.0, abs=0.5), hole
    assert hole.reason == NOT_RECORDED, f"no gap entry explains it: {hole}"
    assert record.damaged() == (), "not recorded is not damage"
    assert record.footage_total_s == pytest.approx(20.0, abs=0.5), "only the recorded footage is processed"


def test_a_range_with_nothing_recorded_names_the_camera_and_the_range(recordings: Path) -> None:
    with pytest.raises(NothingRecorded, match=r"camera 'cam-1' recorded nothing from 2026-11-20T21:40:21\+00:00"):
        _plan(recordings, T0 + 21.0, T0 + 39.0)
    with pytest.raises(NothingRecorded, match="cam-1"):
        recorded_inputs("cam-1", recordings / "cam-2", T0, T0 + 10.0, lists_dir=recordings / "lists")


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (T0 + 10.0, T0 + 10.0, "to", "must be after from"),
        (T0 + 10.0, T0 + 5.0, "to", "must be after from"),
        (T0, T0 + 7200.0, "to", r"at most 3600 s per job \(batch.max_range_s\)"),
        (None, T0, "from", "needs its start"),
    ],
)
def test_a_bad_range_names_the_field(recordings: Path, start, end, field: str, message: str) -> None:
    request = ReprocessRequest("cam-1", recorded_from=start, recorded_to=end)
    with pytest.raises(RequestError, match=message) as raised:
        plan_job("job-r", _camera(recordings), request, BatchConfig(max_range_s=3600.0), submitted_by="op", now=0.0)
    assert raised.value.field == field, f"names {field}: {raised.value.field}"


def test_files_and_a_range_together_are_refused(recordings: Path) -> None:
    request = ReprocessRequest("cam-1", files=("/srv/a.mp4",), recorded_from=T0, recorded_to=T0 + 5.0)
    with pytest.raises(RequestError, match="not both"):
        plan_job("job-r", _camera(recordings), request, BatchConfig(), submitted_by="op", now=0.0)


def test_uncovered_ignores_cuts_between_segments() -> None:
    assert uncovered([(0.0, 5.0), (5.1, 10.0)], 0.0, 10.0) == [], "a 0.1 s cut is no gap"
    assert uncovered([(2.0, 5.0), (7.0, 8.0)], 0.0, 10.0) == [(0.0, 2.0), (5.0, 7.0), (8.0, 10.0)], "holes"


def test_a_recorded_job_record_reads_back_with_its_range_clips_and_holes(recordings: Path) -> None:
    record = _plan(recordings, T0 + 10.0, T0 + 50.0)

    loaded = JobRecord.from_json(record.to_json())
    assert loaded.recorded_range == record.recorded_range, "the range survives a manager restart"
    assert loaded.not_recorded == record.not_recorded, "and what was not recorded"
    assert loaded.files == record.files, "and each file's clip and time source"
