"""`JobManagerClient`: calls to the job manager actor, each with a deadline.

Reads (`get`, `jobs`) are retried with a fresh lookup of the named actor until
their deadline, like `EventWriterClient`: Ray may be restarting the actor.
`submit` and `cancel` are sent once (a retried submit could create two jobs) with
a longer deadline, since a submission indexes its files. A call without an answer
raises `JobManagerUnavailable`; `RequestError` and `JobNotFound` come back as
values and are raised as themselves.
"""

from __future__ import annotations

import logging
from typing import Any

from ..batch.api import JobsUnavailable
from ..batch.job import JobNotFound, JobState
from ..batch.planning import ReprocessRequest, RequestError
from ..batch.progress import JobView
from ..metrics.batch import BatchSnapshot
from ..support.detached import Call, SingletonCaller, Unanswered
from .actor import get_job_manager
from .settings import JOB_MANAGER_ACTOR_NAME

logger = logging.getLogger(__name__)

READ_ATTEMPT_S = 5.0
READ_DEADLINE_S = 15.0
SUBMIT_DEADLINE_S = 60.0  # indexing the files of a large job takes a few seconds


JobManagerUnavailable = JobsUnavailable  # the job manager did not answer in time


class JobManagerClient:
    def __init__(self, actor: Any, namespace: str) -> None:
        self._caller = SingletonCaller(actor, JOB_MANAGER_ACTOR_NAME, namespace)
        self.namespace = namespace

    @classmethod
    def connect(cls, namespace: str) -> JobManagerClient:
        actor = get_job_manager(namespace)
        if actor is None:
            raise JobManagerUnavailable(f"no job manager in Ray namespace {namespace!r}: is `matthan serve` running?")
        return cls(actor, namespace)

    async def submit(self, request: ReprocessRequest, *, submitted_by: str) -> JobView:
        return await self._once("submit", lambda a: a.submit.remote(request, submitted_by), SUBMIT_DEADLINE_S)

    async def cancel(self, job_id: str) -> JobView:
        return await self._once("cancel", lambda a: a.cancel.remote(job_id), READ_DEADLINE_S)

    async def get(self, job_id: str) -> JobView:
        return await self._read("get", lambda a: a.get.remote(job_id))

    async def jobs(
        self, *, camera_ids: frozenset[str] | None = None, states: frozenset[JobState] | None = None
    ) -> list[JobView]:
        return await self._read("jobs", lambda a: a.jobs.remote(camera_ids, states))

    async def batch_snapshot(self) -> BatchSnapshot:
        """The batch metrics (the front door's `BatchStatsSource`)."""
        return await self._read("batch_snapshot", lambda a: a.batch_snapshot.remote())

    async def backlog(self) -> int:
        return await self._read("backlog", lambda a: a.backlog.remote())

    async def pid(self) -> int:
        return await self._read("pid", lambda a: a.pid.remote())

    async def _once(self, method: str, call: Call, deadline_s: float) -> Any:
        try:
            reply = await self._caller.once(method, call, deadline_s)
        except Unanswered as exc:
            raise JobManagerUnavailable(
                f"the job manager did not answer {method} within {deadline_s:g} s: {exc.cause}"
            ) from None
        return _unwrap(reply)

    async def _read(self, method: str, call: Call) -> Any:
        try:
            reply = await self._caller.retrying(method, call, attempt_s=READ_ATTEMPT_S, deadline_s=READ_DEADLINE_S)
        except Unanswered as exc:
            raise JobManagerUnavailable(
                f"the job manager did not answer {method} within {READ_DEADLINE_S:g} s: {exc.cause}"
            ) from None
        return _unwrap(reply)


def _unwrap(reply: Any) -> Any:
    if isinstance(reply, (RequestError, JobNotFound)):
        raise reply
    return reply
