"""`JobControl`: what the front door needs of the job manager (the Jobs service).

In `matthan serve` it is `cluster.jobrunner.client.JobManagerClient`. Errors:
`RequestError` (a field of the request, INVALID_ARGUMENT), `JobNotFound`
(NOT_FOUND), anything else raised by an implementation that cannot answer
(`JobsUnavailable`: UNAVAILABLE).
"""

from __future__ import annotations

from typing import Protocol

from .job import JobState
from .planning import ReprocessRequest
from .progress import JobView


class JobsUnavailable(RuntimeError):
    """The job manager did not answer in time (not running, restarting, overloaded)."""


class JobControl(Protocol):
    async def submit(self, request: ReprocessRequest, *, submitted_by: str) -> JobView: ...

    async def get(self, job_id: str) -> JobView: ...

    async def jobs(
        self, *, camera_ids: frozenset[str] | None = None, states: frozenset[JobState] | None = None
    ) -> list[JobView]: ...

    async def cancel(self, job_id: str) -> JobView: ...
