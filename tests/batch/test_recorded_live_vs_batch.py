"""One pipeline, two drivers, on recorded footage: a live file camera with recording
on stores its events and its segments; reprocessing the recorded range (the job
`matthan reprocess --camera X --from --to` plans, the code a segment task runs) finds
the events the live path found in that range, at the same wall-clock times.

The live side is the camera actor's worker (`CameraWorker`: capture loop at real
time, analysis thread, event ring, recorder on the same connection); its events are
dated by the wall clock of their frames, the reprocessed ones by the recording
chain's exact segment start plus the frame's media time: no shared origin is
assumed, so the comparison checks the recording's clock as well. The clip is
recorded in several segments, so events and the motion model cross the cuts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.actors.camera import CameraWorker
from cluster.batch.planning import plan_job
from cluster.batch.requests import ReprocessRequest
from cluster.batch.runner import run_segment
from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from cluster.domain import CameraState, Event
from cluster.recordings.chain import read_chain
from cluster.recordings.index import live_segments
from tests.batch.conftest import ROAD_RULES, latest_revisions, unmatched
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.slow

# Tolerances. Events match by type, rule, direction and class with start times within
# TIME_TOLERANCE_S (two analysed frames at 5 fps: the live frame's wall clock is its
# arrival, the recording's the earliest arrival of the stream, up to a frame or two
# apart on a loaded machine). Up to MISMATCH_SHARE of the events may differ (motion
# blobs of the live MOG2 model against the job's), plus one per due frame the live
# analysis skipped (it plays in real time on a shared machine: when it falls behind,
# the newest due frame wins, which can move or drop an event). Events starting within
# TIME_TOLERANCE_S of the range's ends may fall on either side of it.
TIME_TOLERANCE_S = 0.4
MISMATCH_SHARE = 0.15
ANALYSED_SHARE = 5.0 / 12.5  # analysis.fps of the clip's 12.5 fps
# The range: the clip's footage less its first and last seconds, so the job starts
# and ends inside the recorded segment (warm-up before it, nothing attributed after).
SKIP_START_S, SKIP_END_S = 6.0, 4.0
CLIP_S = 30.16  # the car clip's footage


def final(revisions) -> list[Event]:
    return sorted(latest_revisions(revisions), key=lambda e: e.start_time)


def described(events: list[Event]) -> list[tuple]:
    return [(e.start_time, e.type.value, e.rule, e.direction, e.class_name) for e in events]


def recorded_whole_clip(camera_dir: Path):
    """The chain's segments once they hold the whole clip (the last is written when the stream ends)."""
    segments = live_segments(read_chain(camera_dir)) if (camera_dir / "chain.jsonl").exists() else []
    return segments if segments and segments[-1].end - segments[0].start >= CLIP_S - 0.5 else None


def near_an_end(item: tuple, start: float, end: float) -> bool:
    return abs(item[0] - start) <= TIME_TOLERANCE_S or abs(item[0] - end) <= TIME_TOLERANCE_S


def test_reprocessing_a_recorded_range_finds_the_events_the_live_camera_found(car_clip: Path, tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    camera = CameraConfig.model_validate(
        {
            "id": "road",
            "source": {"url": str(car_clip), "realtime": True},
            "rules": ROAD_RULES,
            # Segments of two keyframe intervals (4.8 s): the range crosses several cuts,
            # which the job must read as the one stream the live camera saw.
            "recording": {"mode": "continuous", "segment_s": 5.0, "directory": str(recordings)},
        }
    )
    camera_dir = recordings / "road"
    worker = CameraWorker(camera)
    worker.start()
    try:
        wait_until(lambda: worker.status().state is CameraState.LIVE, 60, lambda: f"not live: {worker.status()}")
        wait_until(
            lambda: worker.status().state is not CameraState.LIVE, 120, lambda: f"did not end: {worker.status()}"
        )
        segments = wait_until(lambda: recorded_whole_clip(camera_dir), 60, f"the whole clip recorded in {camera_dir}")
        pulled = worker.pull_events(0, 10_000)
        status = worker.status()
    finally:
        worker.stop()
    start, end = segments[0].start + SKIP_START_S, segments[-1].end - SKIP_END_S
    request = ReprocessRequest("road", recorded_from=start, recorded_to=end, segment_s=10.0)
    job = plan_job("job-rec", camera, request, BatchConfig(max_tail_s=30.0), submitted_by="test", now=0.0)
    batch = [
        e
        for s in job.segments
        for e in run_segment(
            job.camera,
            s.segment,
            Path(job.files[s.segment.file_index].path),
            job_id=job.job_id,
            footage_start=job.files[s.segment.file_index].footage_start,
            max_tail_s=30.0,
        ).events
    ]

    live_events = [e for e in final(pulled.events) if e.class_name is not None and start <= e.start_time < end]
    batch_events = final(batch)
    live, reprocessed = described(live_events), described(batch_events)
    skipped_due = max(0, round(ANALYSED_SHARE * status.frames_received) - status.frames_analysed)
    allowed = MISMATCH_SHARE * len(reprocessed) + skipped_due
    missed = [e for e in unmatched(reprocessed, live, TIME_TOLERANCE_S) if not near_an_end(e, start, end)]
    added = [e for e in unmatched(live, reprocessed, TIME_TOLERANCE_S) if not near_an_end(e, start, end)]
    assert len(segments) >= 4, f"the clip is recorded in several segments: {segments}"
    assert len(job.files) == 1 and len(job.files[0].segments) >= 3, f"read as one run: {job.files}"
    assert len(job.segments) >= 2, f"the job cut the range: {job.segments}"
    assert job.not_recorded == (), f"the range is all recorded: {job.not_recorded}"
    assert len(reprocessed) >= 8, f"the range has events: {reprocessed}"
    assert all(start <= e.start_time < end for e in batch_events), "the job attributes only events of the range"
    assert len(missed) <= allowed, f"{len(missed)} of {len(reprocessed)} reprocessed events not live: {missed}"
    assert len(added) <= allowed, f"{len(added)} live events the job did not find: {added}"
    assert status.frames_received >= 370, f"the live camera played the whole clip: {status.frames_received} frames"
    assert all(e.job_id == "job-rec" for e in batch_events), "reprocessed events carry the job id"
