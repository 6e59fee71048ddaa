"""Live cameras first: a camera on the same node keeps analysing every frame due
while a large job runs (no timing assertions: frame counts and state; the latency
is measured in bench/reprocess.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cluster.batch.planning import ReprocessRequest
from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from cluster.domain import CameraState, CameraStatus
from tests.batch.batch_path import BatchPath
from tests.batch.conftest import ROAD_RULES

pytestmark = pytest.mark.slow

ANALYSED_SHARE = 5.0 / 12.5  # analysis.fps 5 of the clip's 12.5 fps
# Of the frames due (the sampler's share of those received); below it, the analysis
# fell behind and the newest due frame won over older ones. A frame in flight at
# either sample is within it.
KEPT_UP = 0.9
JOB_WITHIN_S = 900  # polls a second apart: a job that never gets room fails instead of hanging


def test_a_live_camera_keeps_its_analysis_while_a_job_runs_beside_it(
    ray_local, tmp_path: Path, car_clip: Path, long_footage: Path, footage_dir: Path
) -> None:
    live = CameraConfig.model_validate(
        {"id": "live", "source": {"url": str(car_clip), "loop": True, "realtime": True}, "rules": ROAD_RULES}
    )
    parked = CameraConfig.model_validate(
        {"id": "road", "enabled": False, "source": {"url": str(long_footage)}, "rules": ROAD_RULES}
    )
    # The session's Ray has the machine's 2 CPUs; the scheduler keeps its headroom (20%) and the
    # live camera's cost, and the batch keeps half a core more: room for one segment of half a
    # core beside the camera (the default reserve of one core and one core per segment would
    # leave no room for any on 2 CPUs).
    batch = BatchConfig(
        allowed_dirs=[footage_dir],
        segment_s=20.0,
        warmup_s=5.0,
        max_in_flight=2,
        live_reserve_cpus=0.5,
        cpus_per_segment=0.5,
    )

    async def status(path: BatchPath) -> CameraStatus | None:
        return (await path.serve.client.get_camera("live")).status

    async def scenario():
        path = await BatchPath.start(tmp_path / "state", [live, parked], batch)
        try:
            for _ in range(600):
                before = await status(path)
                if before is not None and before.state is CameraState.LIVE and before.frames_analysed > 10:
                    break
                await asyncio.sleep(0.5)
            else:
                raise AssertionError("the live camera did not come up")
            view = await path.jobs.submit(
                ReprocessRequest("road", (str(long_footage),), start_time="2026-11-28T22:00:00"), submitted_by="carol"
            )
            samples, running = [], []
            for _ in range(JOB_WITHIN_S):
                if (current := await path.jobs.get(view.job_id)).state.final:
                    break
                running.append(current.segments_running)
                samples.append(await status(path))
                await asyncio.sleep(1.0)
            else:
                raise AssertionError(f"the job did not end within {JOB_WITHIN_S} s: {current}")
            after = await status(path)
            return before, samples, running, after, current
        finally:
            await path.stop()

    before, samples, running, after, job = asyncio.run(scenario())
    assert job.segments_done == job.segments_total and job.events > 0, f"the job ran to its end: {job}"
    assert max(running, default=0) >= 1, f"segments ran beside the live camera: {running}"
    assert after is not None, "the live camera still reports"
    assert all(s is not None and s.state is CameraState.LIVE for s in samples), (
        f"live throughout: {[s.state if s else None for s in samples]}"
    )
    received = after.frames_received - before.frames_received
    analysed = after.frames_analysed - before.frames_analysed
    assert received > 0, "the live camera received frames during the job"
    assert analysed >= KEPT_UP * ANALYSED_SHARE * received, (
        f"analysed {analysed} of the {ANALYSED_SHARE * received:.0f} frames due of {received} received"
    )
