"""matthan.v1.Jobs through the real front door, job manager, writer and Ray: roles,
camera scoping, errors naming the file, streamed progress and the access log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.batch.job import JobState
from cluster.batch.planning import ReprocessRequest
from cluster.client import MatthanClient
from cluster.client.errors import InvalidArgument, NotFound, PermissionDenied
from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from cluster.gateway.access_log import ACCESS_LOGGER
from cluster.gateway.server import GatewayServer
from tests.batch.batch_path import BatchPath
from tests.batch.conftest import ROAD_RULES, concatenate
from tests.gateway.conftest import TOKENS, server_config
from tests.gateway.fakes import LoopThread

pytestmark = pytest.mark.slow


class JobsGateway:
    def __init__(self, path: BatchPath, server: GatewayServer, loop: LoopThread, footage: Path) -> None:
        self.path, self.server, self.loop, self.footage = path, server, loop, footage

    def client(self, who: str) -> MatthanClient:
        return MatthanClient(f"127.0.0.1:{self.server.port}", TOKENS[who][0])


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, media: Path) -> Iterator[JobsGateway]:
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=8, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    footage_dir = tmp_path_factory.mktemp("jobs-footage")
    footage = concatenate(media / "car-detection.mp4", 2, footage_dir / "cam01_20261128T220000.mp4")
    camera = CameraConfig.model_validate(
        {"id": "road", "enabled": False, "groups": ["ward-1"], "source": {"url": str(footage)}, "rules": ROAD_RULES}
    )
    batch = BatchConfig(allowed_dirs=[footage_dir], segment_s=20.0, warmup_s=5.0)
    loop = LoopThread()
    path = loop.run(BatchPath.start(tmp_path_factory.mktemp("jobs-state"), [camera], batch), timeout=120)

    async def start() -> GatewayServer:
        server = GatewayServer(path.serve.client, server_config(), jobs=path.jobs)
        await server.start()
        return server

    server = loop.run(start())
    try:
        yield JobsGateway(path, server, loop, footage)
    finally:
        loop.run(server.stop(0), timeout=30)
        loop.run(path.stop(), timeout=60)
        loop.close()


def test_an_operator_submits_a_job_and_watches_it_to_the_end(gateway: JobsGateway, caplog) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    with gateway.client("operator") as client:
        job = client.jobs.submit(ReprocessRequest("road", (str(gateway.footage),)))
        views = list(client.jobs.watch(job.job_id, interval_s=0.2))
        listed = client.jobs.list(camera_ids=["road"])

    final = views[-1]
    assert job.state is JobState.QUEUED and job.files[0].time_source.value == "filename", f"dated by its name: {job}"
    assert final.state is JobState.SUCCEEDED and final.events > 0, f"the stream ends with the finished job: {final}"
    assert len(views) >= 2, "the stream sent progress before the end"
    done = [v.frames_done for v in views]
    assert done == sorted(done), f"progress never goes back: {done}"
    assert job.job_id in [j.job_id for j in listed], "the job is listed"
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]
    submitted = [line for line in lines if line.get("event") == "job" and line.get("job_id") == job.job_id]
    assert submitted and submitted[0]["who"] == "operator" and submitted[0]["files"] == [str(gateway.footage)], (
        f"who reprocessed what is in the access log: {submitted}"
    )


def test_a_viewer_may_not_submit_and_sees_only_jobs_of_its_cameras(gateway: JobsGateway) -> None:
    with gateway.client("operator") as operator:
        job = operator.jobs.submit(ReprocessRequest("road", (str(gateway.footage),)))
        operator.jobs.cancel(job.job_id)
    with gateway.client("viewer-w1") as ward, gateway.client("viewer-a") as other:
        with pytest.raises(PermissionDenied, match="operator"):
            ward.jobs.submit(ReprocessRequest("road", (str(gateway.footage),)))
        assert ward.jobs.get(job.job_id).camera_id == "road", "ward-1 sees the road camera's jobs"
        with pytest.raises(NotFound, match=job.job_id):
            other.jobs.get(job.job_id)
        assert job.job_id not in [j.job_id for j in other.jobs.list()], "nor are they listed for it"


def test_bad_requests_name_the_field_and_the_file(gateway: JobsGateway, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.mp4"
    outside.write_bytes(b"not allowed")
    with gateway.client("operator") as client:
        with pytest.raises(InvalidArgument, match=rf"files: {outside}: outside the directories"):
            client.jobs.submit(ReprocessRequest("road", (str(outside),)))
        with pytest.raises(NotFound, match="nowhere"):
            client.jobs.submit(ReprocessRequest("nowhere", (str(gateway.footage),)))
        with pytest.raises(InvalidArgument, match="fps"):
            client.jobs.submit(ReprocessRequest("road", (str(gateway.footage),), fps=500.0))
        with pytest.raises(NotFound, match="job-none"):
            client.jobs.get("job-none")
