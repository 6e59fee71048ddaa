"""matthan.v1.Jobs through the real front door, job manager, writer and Ray: roles,
camera scoping, errors naming the file, streamed progress and the access log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from cluster.batch.job import JobState
from cluster.batch.planning import ReprocessRequest
from cluster.client.errors import ClientError, InvalidArgument, NotFound, PermissionDenied
from cluster.gateway.access_log import ACCESS_LOGGER
from cluster.proto.matthan.v1 import jobs_pb2, jobs_pb2_grpc
from tests.batch.jobs_gateway import JobsGateway, jobs_gateway
from tests.gateway.conftest import TOKENS

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


# ---------------------------------------------------------------- a camera's recorded range


def _recorded(start: float, end: float, camera: str = "road") -> ReprocessRequest:
    return ReprocessRequest(camera, recorded_from=start, recorded_to=end)


def test_an_operator_reprocesses_a_recorded_range_without_naming_files(jobs_gateway: JobsGateway, caplog) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    start, recorded_to = jobs_gateway.recorded_from + 3.0, jobs_gateway.recorded_to
    end = recorded_to + 10.0  # past the end of the recording: reported as not recorded
    with jobs_gateway.client("operator") as client:
        job = client.jobs.submit(_recorded(start, end))
        final = list(client.jobs.watch(job.job_id, interval_s=0.2))[-1]
    with jobs_gateway.client("viewer-w1") as viewer:
        seen = viewer.jobs.get(job.job_id)

    assert final.state is JobState.SUCCEEDED and final.events > 0, f"the range was reprocessed: {final}"
    assert {f.time_source.value for f in final.files} == {"recording"}, "each file dated by the recording chain"
    assert final.files[0].footage_start + final.files[0].clip_start_s == pytest.approx(start), "clipped at from"
    assert final.footage_total_s == pytest.approx(recorded_to - start, abs=0.2), "the recorded part of the range"
    assert final.recorded_range == pytest.approx((start, end)), "the job shows its range"
    assert len(final.not_recorded) == 1 and final.not_recorded[0].end == pytest.approx(end), final.not_recorded
    assert final.not_recorded[0].start == pytest.approx(recorded_to, abs=0.5), "from the recording's end"
    assert final.damaged == (), "nothing recorded is not damage"
    assert all("/" not in name for f in seen.files for name in (f.path, *f.segments)), (
        f"a viewer sees no server directory: {seen.files}"
    )
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]
    (submitted,) = [line for line in lines if line.get("event") == "job" and line.get("job_id") == job.job_id]
    assert submitted["who"] == "operator" and submitted["recorded"] == pytest.approx([start, end]), submitted
    with jobs_gateway.client("operator") as client:
        segments = [name for f in client.jobs.get(job.job_id).files for name in f.segments]
    assert submitted["files"] == segments and len(segments) >= 3, f"the access log names the segments read: {submitted}"


def test_a_range_with_nothing_recorded_is_a_failed_precondition(jobs_gateway: JobsGateway) -> None:
    later = jobs_gateway.recorded_to + 100.0
    with jobs_gateway.client("operator") as client, pytest.raises(ClientError) as raised:
        client.jobs.submit(_recorded(later, later + 60.0))
    assert raised.value.code is grpc.StatusCode.FAILED_PRECONDITION, f"not a bad field: {raised.value}"
    assert "camera 'road' recorded nothing from 2026-11-20T21:42:00+00:00" in raised.value.details, raised.value


def test_bad_recorded_ranges_name_the_field(jobs_gateway: JobsGateway) -> None:
    t0 = jobs_gateway.recorded_from
    with jobs_gateway.client("operator") as client:
        with pytest.raises(InvalidArgument, match=r"recorded.to: must be after from"):
            client.jobs.submit(_recorded(t0 + 5.0, t0 + 5.0))
        with pytest.raises(InvalidArgument, match=r"at most 3600 s per job \(batch.max_range_s\)"):
            client.jobs.submit(_recorded(t0, t0 + 7200.0))
        with pytest.raises(InvalidArgument, match="recorded: give either files or a recorded range, not both"):
            client.jobs.submit(
                ReprocessRequest("road", (str(jobs_gateway.footage),), recorded_from=t0, recorded_to=t0 + 5)
            )
        with pytest.raises(NotFound, match="nowhere"):
            client.jobs.submit(_recorded(t0, t0 + 5.0, camera="nowhere"))
        with pytest.raises(PermissionDenied, match="operator"), jobs_gateway.client("viewer-w1") as viewer:
            viewer.jobs.submit(_recorded(t0, t0 + 5.0))


def test_an_invalid_timestamp_is_invalid_argument_naming_it(jobs_gateway: JobsGateway) -> None:
    request = jobs_pb2.SubmitReprocessRequest(camera_id="road")
    getattr(request.recorded, "from").CopyFrom(Timestamp(seconds=1, nanos=-5))
    request.recorded.to.CopyFrom(Timestamp(seconds=10))
    channel = grpc.insecure_channel(jobs_gateway.target)
    try:
        stub = jobs_pb2_grpc.JobsStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.SubmitReprocess(request, metadata=(("authorization", f"Bearer {TOKENS['operator'][0]}"),), timeout=30)
    finally:
        channel.close()
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, raised.value
    assert "recorded.from: nanos -5 is out of range" in raised.value.details(), raised.value.details()
