"""A chain of a job's segments as a Ray generator task (`num_returns="streaming"`).

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
    segments: Sequence[Segment],
    path: str,
    footage_start: float,
    max_tail_s: float,
    nice: int,
    threads: int = 1,
) -> Iterator[SegmentResult]:
    lower_priority(nice)
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
run_chain_task = ray.remote(max_retries=0, num_returns="streaming")(_run)
