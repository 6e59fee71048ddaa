"""matthan.v1.Jobs: batch reprocessing of recorded footage.

Access: submitting and cancelling need the operator role and a camera the caller
sees; reading (GetJob, ListJobs, WatchJob) the viewer role, and a job is visible
only to callers who see its camera (others get NOT_FOUND, the same answer as for
an unknown job, so a scoped token cannot probe job ids). Every submission and
cancellation is one "job" line on the access log: who, which job, camera, files
(for a job over the camera's recordings: the segment files it reads, and the range).

A recorded range's job reads the camera's own segment files: callers below the
operator role see their names, never the server's recordings directory (as in
the Recordings service). A range the camera recorded nothing of is
FAILED_PRECONDITION naming the camera and the range.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os

import grpc

from ..batch.api import JobControl, JobsUnavailable
from ..batch.job import JobNotFound
from ..batch.planning import RequestError as BatchRequestError
from ..batch.progress import JobView
from ..batch.recorded import NothingRecorded
from ..config.server import Role
from ..contract import RequestError
from ..contract.jobs import job_state_from_proto, job_to_proto, reprocess_request_from_proto
from ..control import CameraNotFound
from ..proto.matthan.v1 import jobs_pb2, jobs_pb2_grpc
from .auth import Principal
from .rpc import GatewayState, StatusError, check_camera_id, check_camera_ids, request_cameras, status_for, unary

DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 1000
DEFAULT_WATCH_INTERVAL_S = 1.0
MIN_WATCH_INTERVAL_S = 0.2
MAX_WATCH_INTERVAL_S = 60.0
MAX_JOB_ID_LENGTH = 128


class JobsService(jobs_pb2_grpc.JobsServicer):
    def __init__(self, state: GatewayState, jobs: JobControl):
        self.state = state
        self.jobs = jobs

    @unary(Role.OPERATOR)
    async def SubmitReprocess(self, request, context, principal: Principal):
        check_camera_id("camera_id", request.camera_id)
        parsed = reprocess_request_from_proto(request)
        await self.state.visible_camera(principal, parsed.camera_id)  # NOT_FOUND / PERMISSION_DENIED first
        view = await self._call(self.jobs.submit(parsed, submitted_by=principal.name))
        self._log_job(principal, "submit", view, context)
        return job_to_proto(view)

    @unary(Role.VIEWER)
    async def GetJob(self, request, context, principal: Principal):
        return job_to_proto(shown_to(principal, await self._visible_job(principal, request.job_id)))

    @unary(Role.VIEWER)
    async def ListJobs(self, request, context, principal: Principal):
        cameras = frozenset(check_camera_ids("camera_ids", list(request.camera_ids))) or None
        states = frozenset(job_state_from_proto(s, "states") for s in request.states) or None
        limit = request.limit or DEFAULT_LIST_LIMIT
        if limit > MAX_LIST_LIMIT:
            raise RequestError("limit", f"at most {MAX_LIST_LIMIT}, got {limit}")
        views = await self._call(self.jobs.jobs(camera_ids=cameras, states=states))
        visible = [v for v in views if await self._sees(principal, v.camera_id)]
        return jobs_pb2.ListJobsResponse(jobs=[job_to_proto(shown_to(principal, v)) for v in visible[:limit]])

    @unary(Role.OPERATOR)
    async def CancelJob(self, request, context, principal: Principal):
        await self._visible_job(principal, request.job_id)
        view = await self._call(self.jobs.cancel(request.job_id))
        self._log_job(principal, "cancel", view, context)
        return job_to_proto(view)

    async def WatchJob(self, request, context: grpc.aio.ServicerContext) -> None:
        """Sends the job at once and then whenever it changes, at most every
        `interval_s`, until it is over. A cancelled call raises CancelledError in
        the sleep or the write: the loop ends with it, no poll outlives the stream."""
        state = self.state
        principal: Principal | None = None
        try:
            principal = state.authenticate(context)
            principal.require(Role.VIEWER, "WatchJob")
            interval = request.interval_s or DEFAULT_WATCH_INTERVAL_S
            if not MIN_WATCH_INTERVAL_S <= interval <= MAX_WATCH_INTERVAL_S:
                raise RequestError(
                    "interval_s", f"{interval:g} is out of range ({MIN_WATCH_INTERVAL_S:g}..{MAX_WATCH_INTERVAL_S:g})"
                )
            view = await self._visible_job(principal, request.job_id)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status code (status_for logs bugs)
            code, message = status_for(exc)
            state.access.call(
                principal, "WatchJob", request_cameras(request), context.peer(), status=code.name, detail=message
            )
            await context.abort(code, message)
            return
        record = state.access.stream_start(principal, "WatchJob", [view.camera_id], context.peer(), job_id=view.job_id)
        code, message = grpc.StatusCode.OK, ""
        try:
            sent = None
            while True:
                shown = job_to_proto(shown_to(principal, view))
                if shown != sent:
                    await context.write(shown)
                    record.messages += 1
                    sent = shown
                if view.state.final:
                    break
                await asyncio.sleep(interval)
                view = await self._call(self.jobs.get(view.job_id))
        except asyncio.CancelledError:
            record.end("CANCELLED", "cancelled by the client, its deadline, or server stop")
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status code
            code, message = status_for(exc)
        record.end(code.name, message)
        if code is not grpc.StatusCode.OK:
            await context.abort(code, message)

    # ---- helpers -------------------------------------------------------------------------

    async def _call(self, awaitable):
        """The job manager's answer, its errors as the gateway's."""
        try:
            return await awaitable
        except NothingRecorded as exc:
            raise StatusError(grpc.StatusCode.FAILED_PRECONDITION, exc.message) from None
        except BatchRequestError as exc:
            raise RequestError(exc.field, exc.message, message=f"{exc.field}: {exc.message}") from None
        except JobNotFound as exc:
            raise StatusError(grpc.StatusCode.NOT_FOUND, str(exc)) from None
        except JobsUnavailable as exc:
            raise StatusError(grpc.StatusCode.UNAVAILABLE, str(exc)) from None

    async def _visible_job(self, principal: Principal, job_id: str) -> JobView:
        job_id = job_id.strip()
        if not job_id or len(job_id) > MAX_JOB_ID_LENGTH:
            raise RequestError("job_id", f"{job_id[:64]!r} is not a job id")
        view = await self._call(self.jobs.get(job_id))
        if not await self._sees(principal, view.camera_id):
            raise StatusError(grpc.StatusCode.NOT_FOUND, str(JobNotFound(job_id)))
        return view

    async def _sees(self, principal: Principal, camera_id: str) -> bool:
        if principal.sees_by_id(camera_id):
            return True
        try:
            camera = await self.state.control.get_camera(camera_id)
        except CameraNotFound:
            return False  # a removed camera's jobs: only callers who see every camera, or it by id
        return principal.sees(camera.config)

    def _log_job(self, principal: Principal, action: str, view: JobView, context) -> None:
        self.state.access.emit(
            {
                "event": "job",
                **self.state.access.who(principal),
                "action": action,
                "job_id": view.job_id,
                "camera": view.camera_id,
                "files": [name for f in view.files for name in (f.segments or (f.path,))],
                **({"recorded": list(view.recorded_range)} if view.recorded_range is not None else {}),
                "state": view.state.value,
                "peer": context.peer(),
            }
        )


def shown_to(principal: Principal, view: JobView) -> JobView:
    """`view` as `principal` may see it: below the operator role, a recorded range's
    files by their names only (the recordings directory is the server's business)."""
    if view.recorded_range is None or principal.may(Role.OPERATOR):
        return view
    files = tuple(
        dataclasses.replace(
            f, path=os.path.basename(f.path), segments=tuple(os.path.basename(name) for name in f.segments)
        )
        for f in view.files
    )
    return dataclasses.replace(view, files=files)
