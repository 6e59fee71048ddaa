"""A job over two Ray nodes of a local multi-node cluster (`ray.cluster_utils`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import ray

from cluster.batch.job import JobState
from cluster.batch.planning import ReprocessRequest
from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from tests.batch.batch_path import BatchPath
from tests.batch.conftest import ROAD_RULES
from tests.ray_cluster import start_cluster

pytestmark = pytest.mark.slow

NODE_CPUS = 2


@pytest.fixture
def two_nodes():
    if ray.is_initialized():
        ray.shutdown()  # the session's single-node Ray, if a test started it
    cluster = start_cluster({"num_cpus": NODE_CPUS, "include_dashboard": False}, workers=[{"num_cpus": NODE_CPUS}])
    try:
        ray.init(address=cluster.address, log_to_driver=False, logging_level="WARNING")
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_a_job_runs_its_segments_on_both_nodes(two_nodes, tmp_path: Path, long_footage: Path, footage_dir: Path):
    camera = CameraConfig.model_validate(
        {"id": "road", "enabled": False, "source": {"url": str(long_footage)}, "rules": ROAD_RULES}
    )
    # No camera runs: each node offers its usable CPUs (2 less the 20% headroom) to one segment,
    # so the job runs on both nodes at once.
    batch = BatchConfig(
        allowed_dirs=[footage_dir], segment_s=20.0, warmup_s=5.0, max_in_flight=4, live_reserve_cpus=0.0
    )

    async def scenario():
        path = await BatchPath.start(tmp_path / "state", [camera], batch)
        try:
            view = await path.jobs.submit(
                ReprocessRequest("road", (str(long_footage),), start_time="2026-11-28T22:00:00"), submitted_by="bob"
            )
            final = await path.wait(view.job_id, lambda v: v.state.final, timeout_s=400.0)
            return final, await path.events_of(view.job_id), await path.jobs.batch_snapshot()
        finally:
            await path.stop()

    final, stored, metrics = asyncio.run(scenario())
    node_ids = {node["NodeID"] for node in ray.nodes() if node["Alive"]}
    assert final.state is JobState.SUCCEEDED, f"the job finished: {final}"
    assert set(final.workers) == node_ids, f"segments ran on both nodes {node_ids}: {final.workers}"
    assert len(stored) == final.events and len({e.event_id for e in stored}) == len(stored), "each event once"
    assert metrics.value("matthan_batch_jobs_finished_total", outcome="succeeded") == 1, "the job's outcome counted"
    assert metrics.value("matthan_batch_frames_processed_total") == final.frames_total, "every frame counted once"
    assert metrics.value("matthan_batch_segment_duration_seconds_count") == final.segments_total, "each segment timed"
    assert metrics.value("matthan_batch_footage_seconds_total") == pytest.approx(final.footage_total_s), "footage"
    assert metrics.value("matthan_batch_jobs", state="succeeded") == 1, "jobs by state"
    assert metrics.value("matthan_batch_backlog_segments") == 0, "nothing waits"
