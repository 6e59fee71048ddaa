"""Segment tasks run below every other Ray worker: on the session's real Ray, a task
that lowers itself as a segment does ends up below a plain worker's priority (Ray
starts every worker, camera actors included, at its `worker_niceness`)."""

from __future__ import annotations

import os

import pytest

from cluster.jobrunner.tasks import LOWEST_NICENESS, run_below_live

pytestmark = pytest.mark.slow


def _priority() -> tuple[int, int]:
    return os.nice(0), os.sched_getscheduler(0)


def test_a_segment_worker_runs_below_a_camera_s_worker(ray_local) -> None:
    import ray

    @ray.remote(num_cpus=0)
    def plain_worker() -> tuple[int, int]:
        return _priority()

    @ray.remote(num_cpus=0, max_calls=1)  # leaves with its priority: later tests' actors get other workers
    def segment_worker(added: int) -> tuple[int, int]:
        run_below_live(added, idle_class=True)
        return _priority()

    camera_nice, camera_class = ray.get(plain_worker.remote(), timeout=120)
    segment_nice, segment_class = ray.get(segment_worker.remote(10), timeout=120)
    assert segment_nice == min(LOWEST_NICENESS, camera_nice + 10), (
        f"the segment's niceness {segment_nice} is not 10 above a plain worker's {camera_nice} (capped at 19)"
    )
    assert segment_nice > camera_nice or camera_nice == LOWEST_NICENESS, "the segment does not run below the camera"
    assert camera_class == os.SCHED_OTHER, "a plain worker is in the normal scheduling class"
    assert segment_class == os.SCHED_IDLE, "the segment did not enter SCHED_IDLE"


def test_a_worker_that_ran_a_segment_serves_nothing_else(ray_local) -> None:
    import ray

    from cluster.jobrunner.tasks import run_chain_task

    def lowered():
        run_below_live(10, idle_class=True)
        yield os.getpid()

    # The segment task's own worker options, on a generator like it.
    segment = ray.remote(num_cpus=0, num_returns="streaming", max_calls=run_chain_task._default_options["max_calls"])
    pid = ray.get(next(segment(lowered).remote()), timeout=120)

    @ray.remote(num_cpus=0)
    def after() -> tuple[int, int, int]:
        return (os.getpid(), *_priority())

    for _ in range(4):  # more tasks than idle workers: none may land on the lowered one
        other, _nice, scheduling = ray.get(after.remote(), timeout=120)
        assert other != pid, "the lowered segment worker was reused"
        assert scheduling == os.SCHED_OTHER, "a later task runs in SCHED_IDLE"
