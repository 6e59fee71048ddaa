"""matthan.v1.Jobs conversion (`cluster/contract/jobs.py`): a recorded range both ways,
and bad ranges or Timestamps as RequestError naming the field."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from cluster.batch.job import JobFile, JobState
from cluster.batch.recorded import NotRecordedRange
from cluster.batch.requests import ReprocessRequest
from cluster.batch.timestamps import TimeSource
from cluster.contract.errors import RequestError
from cluster.contract.jobs import job_from_proto, job_to_proto, reprocess_request_from_proto, reprocess_request_to_proto
from cluster.proto.matthan.v1 import jobs_pb2
from tests.batch.views import job_view

T0 = 1_795_210_800.5  # halves survive nanoseconds exactly


def test_a_recorded_range_request_goes_both_ways() -> None:
    request = ReprocessRequest("alley-1", recorded_from=T0, recorded_to=T0 + 300.5, fps=2.0)

    message = reprocess_request_to_proto(request)
    assert message.HasField("recorded") and not message.files, f"the range, no files: {message}"
    assert reprocess_request_from_proto(message) == request, "read back as it was"


def test_a_file_request_has_no_range() -> None:
    request = ReprocessRequest("alley-1", ("/srv/a.mp4",), start_time="2026-11-20T21:40")
    assert reprocess_request_from_proto(reprocess_request_to_proto(request)) == request, "files as before"


def _range_request(start: Timestamp | None, end: Timestamp | None, **fields) -> jobs_pb2.SubmitReprocessRequest:
    message = jobs_pb2.SubmitReprocessRequest(camera_id="alley-1", **fields)
    message.recorded.SetInParent()
    if start is not None:
        getattr(message.recorded, "from").CopyFrom(start)
    if end is not None:
        message.recorded.to.CopyFrom(end)
    return message


@pytest.mark.parametrize(
    ("message", "field", "text"),
    [
        (_range_request(Timestamp(seconds=10), Timestamp(seconds=10)), "recorded.to", "must be after from"),
        (_range_request(Timestamp(seconds=20), Timestamp(seconds=10)), "recorded.to", "must be after from"),
        (_range_request(None, Timestamp(seconds=10)), "recorded.from", "needs its start"),
        (_range_request(Timestamp(seconds=1), None), "recorded.to", "needs its end"),
        (_range_request(Timestamp(seconds=1, nanos=-1), Timestamp(seconds=10)), "recorded.from", "nanos -1"),
        (_range_request(Timestamp(seconds=1), Timestamp(seconds=10**13)), "recorded.to", "years 0001-9999"),
        (_range_request(Timestamp(seconds=1), Timestamp(seconds=9), files=["/a.mp4"]), "recorded", "not both"),
        (_range_request(Timestamp(seconds=1), Timestamp(seconds=9), start_time="2026"), "start_time", "no start"),
        (jobs_pb2.SubmitReprocessRequest(camera_id="alley-1"), "files", "or a recorded range"),
    ],
)
def test_a_bad_range_is_a_request_error_naming_the_field(message, field: str, text: str) -> None:
    with pytest.raises(RequestError, match=text) as raised:
        reprocess_request_from_proto(message)
    assert raised.value.field == field, f"names {field}: {raised.value.field}"


def test_a_recorded_job_goes_both_ways() -> None:
    view = job_view(
        job_id="job-1",
        camera_id="alley-1",
        state=JobState.SUCCEEDED,
        submitted_by="op",
        submitted_at=T0,
        started_at=T0,
        finished_at=T0 + 9.0,
        files=(
            JobFile(
                "/rec/run-0.ffconcat",
                60.0,
                12.5,
                750,
                T0 - 5.0,
                TimeSource.RECORDING,
                5.0,
                42.5,
                ("/rec/a.mkv", "/rec/b.mkv"),
            ),
        ),
        segments_total=1,
        segments_done=1,
        segments_running=0,
        frames_total=470,
        frames_done=470,
        frames_analysed=188,
        footage_total_s=37.5,
        footage_done_s=37.5,
        speed=4.0,
        eta_s=0.0,
        damaged=(),
        event_counts=(),
        error=None,
        recorded_range=(T0, T0 + 60.0),
        not_recorded=(NotRecordedRange(T0 + 37.5, T0 + 60.0, "camera stream down: timeout"),),
    )
    assert job_from_proto(job_to_proto(view)) == view, "range, clips and holes survive the wire"


def test_why_a_running_job_waits_survives_the_wire() -> None:
    view = job_view(waiting="waiting for room: a segment needs 1.00 cores and the most any node has free is 0.40")
    assert job_from_proto(job_to_proto(view)) == view, "the waiting reason survives the wire"
