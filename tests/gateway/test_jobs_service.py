"""matthan.v1.Jobs through the real front door, job manager, writer and Ray: roles,
camera scoping, errors naming the file, streamed progress and the access log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from cluster.batch.job import JobState
from cluster.batch.planning import ReprocessRequest
from cluster.client.errors import InvalidArgument, NotFound, PermissionDenied
from cluster.gateway.access_log import ACCESS_LOGGER
from tests.batch.jobs_gateway import JobsGateway, jobs_gateway

pytestmark = pytest.mark.slow

__all__ = ["jobs_gateway"]  # the fixture


def test_an_operator_submits_a_job_and_watches_it_to_the_end(jobs_gateway: JobsGateway, caplog) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    with jobs_gateway.client("operator") as client:
        job = client.jobs.submit(ReprocessRequest("road", (str(jobs_gateway.footage),)))
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
    assert submitted and submitted[0]["who"] == "operator" and submitted[0]["files"] == [str(jobs_gateway.footage)], (
        f"who reprocessed what is in the access log: {submitted}"
    )


def test_a_viewer_may_not_submit_and_sees_only_jobs_of_its_cameras(jobs_gateway: JobsGateway) -> None:
    with jobs_gateway.client("operator") as operator:
        job = operator.jobs.submit(ReprocessRequest("road", (str(jobs_gateway.footage),)))
        operator.jobs.cancel(job.job_id)
    with jobs_gateway.client("viewer-w1") as ward, jobs_gateway.client("viewer-a") as other:
        with pytest.raises(PermissionDenied, match="operator"):
            ward.jobs.submit(ReprocessRequest("road", (str(jobs_gateway.footage),)))
        assert ward.jobs.get(job.job_id).camera_id == "road", "ward-1 sees the road camera's jobs"
        with pytest.raises(NotFound, match=job.job_id):
            other.jobs.get(job.job_id)
        assert job.job_id not in [j.job_id for j in other.jobs.list()], "nor are they listed for it"


def test_bad_requests_name_the_field_and_the_file(jobs_gateway: JobsGateway, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.mp4"
    outside.write_bytes(b"not allowed")
    with jobs_gateway.client("operator") as client:
        with pytest.raises(InvalidArgument, match=rf"files: {outside}: outside the directories"):
            client.jobs.submit(ReprocessRequest("road", (str(outside),)))
        with pytest.raises(NotFound, match="nowhere"):
            client.jobs.submit(ReprocessRequest("nowhere", (str(jobs_gateway.footage),)))
        with pytest.raises(InvalidArgument, match="fps"):
            client.jobs.submit(ReprocessRequest("road", (str(jobs_gateway.footage),), fps=500.0))
        with pytest.raises(NotFound, match="job-none"):
            client.jobs.get("job-none")
