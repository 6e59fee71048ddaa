"""The batch side of `matthan serve` on a real Ray, for tests: scheduler (with the
cameras), event writer and job manager actors in a namespace and state directory of
the test's own; `stop()` ends them all."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ray
from ray.exceptions import RayError

from cluster.batch.progress import JobView
from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from cluster.domain import Event
from cluster.events import EventFilter, Order
from cluster.eventwriter.actor import ensure_event_writer
from cluster.eventwriter.client import EventWriterClient
from cluster.eventwriter.settings import EventWriterSettings
from cluster.jobrunner.actor import ensure_job_manager
from cluster.jobrunner.client import JobManagerClient, JobManagerUnavailable
from cluster.jobrunner.settings import JobRunnerSettings
from tests.fixtures.serve_path import ServePath


@dataclass
class BatchPath:
    serve: ServePath
    writer: EventWriterClient
    jobs: JobManagerClient
    settings: JobRunnerSettings

    @classmethod
    async def start(cls, state_dir: Path, cameras: Iterable[CameraConfig], batch: BatchConfig) -> BatchPath:
        state_dir = state_dir.resolve()
        serve = await ServePath.start(state_dir, cameras, prefix="batch")
        namespace = serve.namespace
        writer = EventWriterClient(
            ensure_event_writer(EventWriterSettings(namespace=namespace, state_dir=state_dir)), namespace
        )
        settings = JobRunnerSettings(namespace=namespace, state_dir=state_dir, batch=batch)
        jobs = JobManagerClient(ensure_job_manager(settings), namespace)
        return cls(serve, writer, jobs, settings)

    def restart_job_manager(self) -> None:
        """Kill the manager actor as a crash would; Ray restarts it from its records."""
        ray.kill(ensure_job_manager(self.settings), no_restart=False)

    async def wait(self, job_id: str, done, timeout_s: float = 240.0) -> JobView:
        """The job's view once `done(view)` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        view = None
        while loop.time() < deadline:
            try:
                view = await self.jobs.get(job_id)
            except JobManagerUnavailable:  # the manager is restarting
                view = None
            if view is not None and done(view):
                return view
            await asyncio.sleep(0.2)
        raise AssertionError(f"job {job_id} did not get there in {timeout_s} s: {view}")

    async def events_of(self, job_id: str) -> list[Event]:
        events: list[Event] = []
        cursor = None
        while True:
            page = await self.writer.query(
                EventFilter(job_ids=frozenset({job_id})), order=Order.OLDEST_FIRST, page_size=500, cursor=cursor
            )
            events.extend(page.events)
            cursor = page.cursor
            if not page.has_more:
                return events

    async def stop(self) -> None:
        for actor in (self.jobs._caller.actor, self.writer._caller.actor):
            with contextlib.suppress(ValueError, RayError):
                ray.kill(actor, no_restart=True)
        await self.serve.stop()
