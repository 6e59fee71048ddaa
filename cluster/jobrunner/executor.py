"""`RaySegmentExecutor`: segments as Ray tasks, as many as the live cameras leave room for.

Capacity. Camera actors reserve their estimated CPU cost as `num_cpus` (the
scheduler's cost model, `cluster/scheduler/cost.py`), so Ray's available CPU is
what the live cameras leave free. Batch tasks take `batch.cpus_per_segment` each
and start only while at least `batch.live_reserve_cpus` stays free beyond them,
room for a camera that is added or moved; the scheduler's placement is untouched
and a camera never waits for a segment. (Ray cannot resize a custom resource of a
running node, so the "batch resource" is this computed share of free CPU.)
Inside a node the tasks run at a higher niceness than the cameras (`tasks.py`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

import ray
from ray.exceptions import RayError, TaskCancelledError

from ..batch.job import JobRecord
from ..batch.segments import Segment
from ..config.batch import BatchConfig
from .tasks import TASK_NAME_PREFIX, run_segment_task


class RaySegmentExecutor:
    def __init__(self, config: BatchConfig, manager_handle: Any = None) -> None:
        self.config = config
        self.manager_handle = manager_handle

    def submit(self, job: JobRecord, segment: Segment) -> Any:
        file = job.files[segment.file_index]
        name = f"{TASK_NAME_PREFIX}{job.job_id}:{segment.key}"  # the worker's process title: ray::<name>
        return run_segment_task.options(num_cpus=self.config.cpus_per_segment, name=name).remote(
            self.manager_handle,
            job.job_id,
            job.camera,
            segment,
            file.path,
            file.footage_start,
            self.config.max_tail_s,
            self.config.worker_nice,
        )

    def finished(self, handles: Sequence[Any], timeout_s: float) -> list[tuple[Any, object]]:
        ready, _ = ray.wait(list(handles), num_returns=len(handles), timeout=timeout_s)
        outcomes: list[tuple[Any, object]] = []
        for ref in ready:
            try:
                outcomes.append((ref, ray.get(ref)))
            except (RayError, TaskCancelledError) as exc:
                outcomes.append((ref, exc))
        return outcomes

    def cancel(self, handle: Any) -> None:
        with contextlib.suppress(RayError, ValueError, TypeError):  # already over
            ray.cancel(handle, force=True)

    def capacity(self) -> int:
        free = float(ray.available_resources().get("CPU", 0.0)) - self.config.live_reserve_cpus
        return max(0, math.floor(free / self.config.cpus_per_segment + 1e-9))
