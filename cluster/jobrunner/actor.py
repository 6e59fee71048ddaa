"""The job manager as a Ray actor: named, detached, pinned to the node with the state.

Thin: `cluster.batch.manager.JobManager` does the work. Like the event writer
(`cluster/eventwriter/actor.py`): one per namespace (`matthan-job-manager`),
detached, pinned with `NodeAffinitySchedulingStrategy(soft=False)` to the node
whose disk holds `runtime.state_dir` (its `jobs/` records), `max_restarts=-1` (a
restarted actor resumes the unfinished jobs of its records), threaded and
reserving no CPU: the loop runs on its own thread, requests on Ray's call pool.

Answers that are errors (`RequestError`, `JobNotFound`) are returned as values,
not raised, and the client raises them again as themselves.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import ray
from prometheus_client import CollectorRegistry

from ..batch.job import JobNotFound, JobState
from ..batch.manager import JobManager
from ..batch.planning import ReprocessRequest, RequestError
from ..batch.progress import JobView
from ..batch.records import JobRecordStore
from ..batch.runner import SegmentProgress
from ..config import CameraConfig, RecordingStorageConfig
from ..domain import CameraNotFound, Event
from ..eventwriter.client import EventWriterClient
from ..metrics.batch import BatchJobMetrics, BatchSnapshot
from ..recordings import RecordingCatalog
from ..scheduler.client import SchedulerClient
from ..support.detached import find_or_create, named_actor
from ..support.threads import named_thread
from .executor import RaySegmentExecutor
from .room import SchedulerRoom, ask_scheduler
from .settings import JOB_MANAGER_ACTOR_NAME, JobRunnerSettings

log = logging.getLogger(__name__)

MAX_CONCURRENCY = 16
LOOP_JOIN_TIMEOUT_S = 10.0

Answer = Any  # a value, or the RequestError / JobNotFound to raise


class WriterSink:
    """The manager's `EventSink`: the event writer actor's `ingest`, with its deadlines."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def ingest(self, events: Sequence[Event]) -> int:
        if not events:
            return 0

        async def write() -> int:
            result = await EventWriterClient.connect(self.namespace).ingest(events)
            return result.inserted + result.updated

        return asyncio.run(write())


class SchedulerCameras:
    """The manager's `CameraLookup`: a camera's current config, from the scheduler."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def __call__(self, camera_id: str) -> CameraConfig:
        async def lookup() -> CameraConfig:
            return (await SchedulerClient.connect(self.namespace).get_camera(camera_id)).config

        try:
            return asyncio.run(lookup())
        except CameraNotFound:
            raise LookupError(camera_id) from None


class JobManagerActor:
    def __init__(self, settings: JobRunnerSettings):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._settings = settings
        handle = ray.get_runtime_context().current_actor
        self._metrics = BatchJobMetrics(CollectorRegistry())
        self._room = SchedulerRoom(
            ask_scheduler(settings.namespace, settings.capacity_deadline_s),
            refresh_s=settings.capacity_refresh_s,
            max_age_s=settings.capacity_max_age_s,
        )
        self._room.start()
        self._manager = JobManager(
            settings.batch,
            JobRecordStore(settings.records_dir),
            RaySegmentExecutor(settings.batch, self._room, handle),
            WriterSink(settings.namespace),
            SchedulerCameras(settings.namespace),
            metrics=self._metrics,
            # `matthan serve` gives every camera its absolute recording.directory; this is
            # the default place for one that has none.
            camera_dir=RecordingCatalog(RecordingStorageConfig(), settings.state_dir).camera_dir,
        )
        self._stop = threading.Event()
        self._thread = named_thread(self._manager.run, args=(self._stop,), name="job-manager")
        self._thread.start()
        log.info("job manager started (namespace %s, records in %s)", settings.namespace, settings.records_dir)

    def submit(self, request: ReprocessRequest, submitted_by: str) -> Answer:
        return _answer(lambda: self._manager.submit(request, submitted_by=submitted_by))

    def get(self, job_id: str) -> Answer:
        return _answer(lambda: self._manager.get(job_id))

    def jobs(self, camera_ids: frozenset[str] | None, states: frozenset[JobState] | None) -> list[JobView]:
        return self._manager.jobs(camera_ids=camera_ids, states=states)

    def cancel(self, job_id: str) -> Answer:
        return _answer(lambda: self._manager.cancel(job_id))

    def report_progress(self, job_id: str, key: str, progress: SegmentProgress) -> None:
        self._manager.report_progress(job_id, key, progress)

    def batch_snapshot(self) -> BatchSnapshot:
        self._manager.refresh_metrics()
        return self._metrics.snapshot()

    def backlog(self) -> int:
        return self._manager.backlog_segments()

    def pid(self) -> int:
        return os.getpid()

    def shutdown(self) -> None:
        self._stop.set()
        self._thread.join(LOOP_JOIN_TIMEOUT_S)
        self._room.stop()


def _answer(call) -> Answer:
    try:
        return call()
    except (RequestError, JobNotFound) as exc:
        exc.__traceback__ = None
        return exc


_REMOTE_MANAGER = ray.remote(JobManagerActor)


def get_job_manager(namespace: str) -> Any:
    """The running job manager actor of `namespace`, or None."""
    return named_actor(JOB_MANAGER_ACTOR_NAME, namespace)


def ensure_job_manager(settings: JobRunnerSettings, node_id: str | None = None) -> Any:
    """Find the job manager of `settings.namespace`, or create it on `node_id` (default:
    this process's node, where `settings.state_dir` is)."""
    return find_or_create(
        _REMOTE_MANAGER,
        settings,
        name=JOB_MANAGER_ACTOR_NAME,
        namespace=settings.namespace,
        max_concurrency=MAX_CONCURRENCY,
        node_id=node_id,
    )
