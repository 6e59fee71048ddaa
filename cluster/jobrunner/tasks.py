"""A chain of a job's segments as a Ray generator task (`num_returns="streaming"`).

The task runs below every other Ray worker (`run_below_live`). Ray starts all its
workers, camera actors included, at the raylet's `worker_niceness` (15 by default),
so a segment that only asked for niceness 10 ran level with the cameras: the
niceness is *added* to the one the worker started with (capped at 19, Linux's
lowest), and with `batch.worker_idle_class` the task's thread also enters Linux's
`SCHED_IDLE` class, which the kernel runs only when nothing else of the node wants
the CPU. Both are one-way for an unprivileged process, and Ray would hand an idle
worker to the next task or actor of any kind (a camera actor started at
`SCHED_IDLE` would starve), so a segment worker serves one chain and exits
(`max_calls=1`; a chain is minutes of work, a worker's start about a CPU second).
Both apply to the task's thread, where the decoder and the analysis run; threads it
starts inherit them. The task also sizes OpenCV's thread pool to the CPU it reserved
(`batch.cpus_per_segment`, at least one thread): OpenCV's default is one thread
per core of the machine, so a one-CPU segment on a busy node split every resize
and MOG2 update across threads that wait for each other and for the cameras
(measured: about 16% more CPU per frame on the loaded 2-core machine;
`docs/benchmarks.md`).

It reports progress to the job manager actor (fire and forget: a lost report
only makes the progress bar a little late) under the chain's first segment key,
and yields each segment's `SegmentResult` as soon as it is complete
(`runner.run_chain`), so the manager stores and marks it done while the chain goes
on. Its events are written by the manager, not here, so a task killed half-way
leaves nothing behind but the results it already yielded. A failure reaches the
manager as the exception of the generator's next object (`executor.py`).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import ray

from ..batch.runner import SegmentProgress, SegmentResult, run_chain
from ..batch.segments import Segment
from ..config import CameraConfig

LOWEST_NICENESS = 19
# The niceness this worker process started with (Ray's `worker_niceness`): the module is
# imported once per worker, before its first segment lowers the priority.
STARTED_NICENESS = os.nice(0)


def run_below_live(added_nice: int, idle_class: bool, started: int = STARTED_NICENESS) -> int:
    """Lower the calling thread's priority below the worker's start: niceness `started` +
    `added_nice` (at most 19; never raised back), and with `idle_class` the `SCHED_IDLE`
    scheduling class. Returns the niceness now."""
    target = min(LOWEST_NICENESS, started + added_nice)
    current = os.nice(0)
    if target > current:
        current = os.nice(target - current)
    if idle_class and os.sched_getscheduler(0) != os.SCHED_IDLE:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    return current


def analysis_threads(cpus: float) -> int:
    """OpenCV threads for a task that reserved `cpus` CPU: its whole cores, at least one."""
    return max(1, math.floor(cpus + 1e-9))


def _run(
    manager: Any,
    job_id: str,
    camera: CameraConfig,
    segments: Sequence[Segment],
    path: str,
    footage_start: float,
    max_tail_s: float,
    nice: int,
    idle_class: bool,
    threads: int = 1,
) -> Iterator[SegmentResult]:
    run_below_live(nice, idle_class)
    cv2.setNumThreads(threads)
    chain_key = segments[0].key

    def report(progress: SegmentProgress) -> None:
        if manager is not None:
            manager.report_progress.remote(job_id, chain_key, progress)

    node_id = ray.get_runtime_context().get_node_id()
    for result in run_chain(
        camera, segments, Path(path), job_id=job_id, footage_start=footage_start, max_tail_s=max_tail_s, progress=report
    ):
        yield dataclasses.replace(result, worker=node_id)


TASK_NAME_PREFIX = "matthan-segment:"  # + job id and the chain's first segment key

# max_retries=0: the manager retries a failed chain's segments itself (and counts the attempts).
# max_calls=1: the worker leaves with its lowered priority instead of serving anything else.
run_chain_task = ray.remote(max_retries=0, num_returns="streaming", max_calls=1)(_run)
