"""A segment of a job as a Ray task.

The task lowers its worker process's OS priority once (`os.nice` to
`batch.worker_nice`: Ray reuses workers, and niceness only goes up), so on a node
with live cameras the kernel runs the camera actors first and the segment takes
what is left. It also sizes OpenCV's thread pool to the CPU the task reserved
(`batch.cpus_per_segment`, at least one thread): OpenCV's default is one thread
per core of the machine, so a one-CPU segment on a busy node split every resize
and MOG2 update across threads that wait for each other and for the cameras
(measured: about 16% more CPU per frame on the loaded 2-core machine;
`docs/benchmarks.md`). Ray reuses the process only for segment tasks.

It reports progress to the job manager actor (fire and forget: a lost report
only makes the progress bar a little late) and returns the
`SegmentResult`; its events are written by the manager, not here, so a task
killed half-way leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import cv2
import ray

from ..batch.runner import SegmentProgress, SegmentResult, run_segment
from ..batch.segments import Segment
from ..config import CameraConfig


def lower_priority(target: int) -> int:
    """Raise this process's niceness to `target` (never lowers it); the niceness now."""
    current = os.nice(0)
    if target > current:
        current = os.nice(target - current)
    return current


def analysis_threads(cpus: float) -> int:
    """OpenCV threads for a task that reserved `cpus` CPU: its whole cores, at least one."""
    return max(1, math.floor(cpus + 1e-9))


def _run(
    manager: Any,
    job_id: str,
    camera: CameraConfig,
    segment: Segment,
    path: str,
    footage_start: float,
    max_tail_s: float,
    nice: int,
    threads: int = 1,
) -> SegmentResult:
    lower_priority(nice)
    cv2.setNumThreads(threads)

    def report(progress: SegmentProgress) -> None:
        if manager is not None:
            manager.report_progress.remote(job_id, segment.key, progress)

    result = run_segment(
        camera, segment, Path(path), job_id=job_id, footage_start=footage_start, max_tail_s=max_tail_s, progress=report
    )
    return dataclasses.replace(result, worker=ray.get_runtime_context().get_node_id())


TASK_NAME_PREFIX = "matthan-segment:"  # + job id and segment key

# max_retries=0: the manager retries a failed segment itself (and counts the attempts).
run_segment_task = ray.remote(max_retries=0)(_run)
