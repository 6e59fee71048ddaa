"""One pipeline, two drivers: the live camera playing a recording and a reprocessing job
over the same file, with the same rules, report the same events.

The live side is the camera actor's worker (`CameraWorker`: capture loop at real
time, analysis thread, event ring), the batch side the segments of a job (the code
a segment task runs). Live events' media time has the run's wall-clock start as
origin (see `cluster/video/emitter.py`), so events are compared by what they say
and their time since the first event of each run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.actors.camera import CameraWorker
from cluster.batch.media import index_media
from cluster.batch.planning import warmup_for
from cluster.batch.runner import run_segment
from cluster.batch.segments import plan_segments
from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from cluster.domain import CameraState, Event
from tests.batch.conftest import ROAD_RULES, latest_revisions, unmatched
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.slow

# Matched within two analysed frames; up to MISMATCH_SHARE may differ (motion blobs
# of the two runs' MOG2 models). The live camera plays in real time on a shared
# machine: when its analysis falls behind, the newest due frame wins and a due frame
# is skipped, which can move or drop an event: each skipped due frame allows one more
# mismatch. Measured at load average 20-60: 21 events, 14 of 151 due frames skipped,
# 5 missed and 2 added; 6/7 at load 60.
PTS_TOLERANCE_S = 0.4
MISMATCH_SHARE = 0.15
ANALYSED_SHARE = 5.0 / 12.5  # analysis.fps of the clip's 12.5 fps


def final(revisions) -> list[Event]:
    return sorted(latest_revisions(revisions), key=lambda e: e.start_pts)


def relative(events: list[Event]) -> list[tuple]:
    first = events[0].start_pts
    return [(e.start_pts - first, e.type.value, e.rule, e.direction, e.class_name) for e in events]


def test_a_live_camera_and_a_job_over_the_same_recording_report_the_same_events(car_clip: Path) -> None:
    camera = CameraConfig.model_validate(
        {"id": "road", "source": {"url": str(car_clip), "realtime": True}, "rules": ROAD_RULES}
    )
    worker = CameraWorker(camera)
    worker.start()
    try:
        wait_until(lambda: worker.status().state is CameraState.LIVE, 60, lambda: f"not live: {worker.status()}")
        wait_until(
            lambda: worker.status().state is not CameraState.LIVE, 120, lambda: f"did not end: {worker.status()}"
        )
        pulled = worker.pull_events(0, 10_000)
        status = worker.status()
    finally:
        worker.stop()
    warmup = warmup_for(camera, BatchConfig())  # as a job plans it (the motion memory: 60 s)
    segments = plan_segments(index_media(car_clip), file_index=0, target_s=10.0, warmup_s=warmup)
    batch = [
        e
        for s in segments
        for e in run_segment(camera, s, car_clip, job_id="job-live", footage_start=0.0, max_tail_s=30.0).events
    ]

    live_events = [e for e in final(pulled.events) if e.class_name is not None]  # object events, not stream health
    batch_events = final(batch)
    live, reprocessed = relative(live_events), relative(batch_events)
    skipped_due = max(0, round(ANALYSED_SHARE * status.frames_received) - status.frames_analysed)
    allowed = MISMATCH_SHARE * len(reprocessed) + skipped_due
    assert len(segments) >= 2, f"the job cut the clip: {segments}"
    assert len(reprocessed) >= 10, f"the clip has events: {reprocessed}"
    missed, added = unmatched(reprocessed, live, PTS_TOLERANCE_S), unmatched(live, reprocessed, PTS_TOLERANCE_S)
    assert len(missed) <= allowed, f"{len(missed)} of {len(reprocessed)} reprocessed events not live: {missed}"
    assert len(added) <= allowed, f"{len(added)} live events the job did not find: {added}"
    assert status.frames_received >= 370, f"the live camera played the whole clip: {status.frames_received} frames"
    assert all(e.job_id is None for e in live_events) and all(e.job_id == "job-live" for e in batch_events), "job ids"
