"""Reprocessing jobs through the front door (matthan.v1.Jobs): `MatthanClient.jobs`.

job = client.jobs.submit(ReprocessRequest("cam-1", ("/footage/cam01_*.mp4",)))
for view in client.jobs.watch(job.job_id):      # until the job is over
    print(view.frames_done, view.frames_total, view.speed)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import grpc

from ..batch.job import JobState
from ..batch.planning import ReprocessRequest
from ..batch.progress import JobView
from ..contract.jobs import job_from_proto, job_state_to_proto, reprocess_request_to_proto
from ..proto.matthan.v1 import jobs_pb2, jobs_pb2_grpc
from .errors import error_from_rpc

SUBMIT_TIMEOUT_S = 60.0  # the server indexes every file before it answers


class JobsClient:
    def __init__(self, channel: grpc.Channel, unary: Callable, metadata: tuple[tuple[str, str], ...]) -> None:
        self._stub = jobs_pb2_grpc.JobsStub(channel)
        self._unary = unary
        self._metadata = metadata

    def submit(self, request: ReprocessRequest) -> JobView:
        message = reprocess_request_to_proto(request)
        return job_from_proto(self._unary(self._stub.SubmitReprocess, message, SUBMIT_TIMEOUT_S))

    def get(self, job_id: str) -> JobView:
        return job_from_proto(self._unary(self._stub.GetJob, jobs_pb2.GetJobRequest(job_id=job_id)))

    def list(self, camera_ids: Sequence[str] = (), states: Sequence[JobState] = (), limit: int = 0) -> list[JobView]:
        request = jobs_pb2.ListJobsRequest(
            camera_ids=list(camera_ids), states=[job_state_to_proto(s) for s in states], limit=limit
        )
        return [job_from_proto(j) for j in self._unary(self._stub.ListJobs, request).jobs]

    def cancel(self, job_id: str) -> JobView:
        return job_from_proto(self._unary(self._stub.CancelJob, jobs_pb2.CancelJobRequest(job_id=job_id)))

    def watch(self, job_id: str, interval_s: float = 0.0) -> Iterator[JobView]:
        """The job now and at each change until it is over; leaving the loop ends the call."""
        call = self._stub.WatchJob(
            jobs_pb2.WatchJobRequest(job_id=job_id, interval_s=interval_s), metadata=self._metadata
        )
        try:
            for message in call:
                yield job_from_proto(message)
        except grpc.RpcError as exc:
            if exc.code() is not grpc.StatusCode.CANCELLED:
                raise error_from_rpc(exc) from None
        finally:
            call.cancel()
