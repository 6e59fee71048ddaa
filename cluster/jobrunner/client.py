"""`JobManagerClient`: calls to the job manager actor, each with a deadline.

Reads (`get`, `jobs`) are retried with a fresh lookup of the named actor until
their deadline, like `EventWriterClient`: Ray may be restarting the actor.
`submit` and `cancel` are sent once (a retried submit could create two jobs) with
a longer deadline, since a submission indexes its files. A call without an answer
raises `JobManagerUnavailable`; `RequestError` and `JobNotFound` come back as
values and are raised as themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import ray
from ray.exceptions import RayActorError, RayError

from ..batch.api import JobsUnavailable
from ..batch.job import JobNotFound, JobState
from ..batch.planning import ReprocessRequest, RequestError
from ..batch.progress import JobView
from ..metrics.batch import BatchSnapshot
from .actor import get_job_manager

logger = logging.getLogger(__name__)

READ_ATTEMPT_S = 5.0
READ_DEADLINE_S = 15.0
SUBMIT_DEADLINE_S = 60.0  # indexing the files of a large job takes a few seconds
RETRY_PAUSE_S = 0.5

Call = Callable[[Any], Any]


JobManagerUnavailable = JobsUnavailable  # the job manager did not answer in time


class JobManagerClient:
    def __init__(self, actor: Any, namespace: str) -> None:
        self._actor = actor
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
        ref = call(self._actor)
        try:
            reply = await asyncio.wait_for(_result(ref), deadline_s)
        except (RayActorError, asyncio.TimeoutError) as exc:
            _cancel(ref)
            raise JobManagerUnavailable(
                f"the job manager did not answer {method} within {deadline_s:g} s: {exc}"
            ) from None
        return _unwrap(reply)

    async def _read(self, method: str, call: Call) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READ_DEADLINE_S
        while True:
            ref = None
            try:
                ref = call(self._actor)
                reply = await asyncio.wait_for(_result(ref), min(READ_ATTEMPT_S, max(0.1, deadline - loop.time())))
            except (RayActorError, asyncio.TimeoutError) as exc:
                if ref is not None:
                    _cancel(ref)
                if loop.time() + RETRY_PAUSE_S >= deadline:
                    raise JobManagerUnavailable(
                        f"the job manager did not answer {method} within {READ_DEADLINE_S:g} s: {exc}"
                    ) from None
                await asyncio.sleep(RETRY_PAUSE_S)
                self._actor = get_job_manager(self.namespace) or self._actor
                continue
            return _unwrap(reply)


def _unwrap(reply: Any) -> Any:
    if isinstance(reply, (RequestError, JobNotFound)):
        raise reply
    return reply


async def _result(ref: Any) -> Any:
    return await ref


def _cancel(ref: Any) -> None:
    try:
        ray.cancel(ref)
    except (RayError, ValueError) as exc:
        logger.debug("could not cancel a job manager call: %r", exc)
