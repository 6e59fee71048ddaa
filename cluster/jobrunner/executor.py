"""`RaySegmentExecutor`: chains of segments as Ray generator tasks, where the live cameras
leave room.

Outcomes. `finished` reads one item of each chain whose next item is ready
(`ray.wait` takes the generators): a `SegmentResult` (the chain goes on), `CHAIN_ENDED`
(the generator is exhausted), or the exception its next object raises (the chain
failed: an error in the analysis, a killed worker, a cancel); after a failure the
generator is exhausted, so the chain is over.

Capacity. Camera actors declare only a token 0.01 CPU to Ray, so Ray's free CPU
says nothing of what live cameras use; the room for segments is computed from the
scheduler's own accounting instead (`capacity.py`: per node, its usable CPUs after
the scheduler's headroom, minus what its cameras reserve or measured, minus the
segments already running there, with `batch.live_reserve_cpus` kept free in the
cluster), from reports a `SchedulerRoom` keeps fresh (`room.py`: every ask has a
deadline; without a recent answer the capacity is the conservative fallback, one
segment in the cluster). Each segment is pinned to the node its slot is on (hard
node affinity: a segment that Ray placed elsewhere would take room the plan gave
to nothing), and reserves `batch.cpus_per_segment` of Ray's CPU there as well.
Inside a node the tasks run below the cameras: niceness added to Ray's, and Linux's
`SCHED_IDLE` class (`tasks.py`).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

import ray
from ray import ObjectRefGenerator
from ray.exceptions import RayError, TaskCancelledError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from ..batch.job import JobRecord
from ..batch.ports import CHAIN_ENDED, BatchRoom
from ..batch.segments import Segment
from ..config.batch import BatchConfig
from .capacity import SlotPlan, plan_slots
from .room import SchedulerRoom
from .tasks import TASK_NAME_PREFIX, analysis_threads, run_chain_task


class RaySegmentExecutor:
    def __init__(self, config: BatchConfig, room: SchedulerRoom, manager_handle: Any = None) -> None:
        self.config = config
        self.room = room
        self.manager_handle = manager_handle
        self._placed: dict[Any, str | None] = {}  # running task -> the node it was pinned to (None: Ray's choice)
        self._plan: SlotPlan | None = None

    def submit(self, job: JobRecord, segments: Sequence[Segment]) -> Any:
        plan = self._plan if self._plan is not None and self._plan.total else self._new_plan()
        node_id = plan.take()  # LookupError without room: the manager submits only what capacity() allowed
        file = job.files[segments[0].file_index]
        name = f"{TASK_NAME_PREFIX}{job.job_id}:{segments[0].key}"  # the worker's process title: ray::<name>
        options: dict[str, Any] = {"num_cpus": self.config.cpus_per_segment, "name": name}
        if node_id is not None:
            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
        handle = run_chain_task.options(**options).remote(
            self.manager_handle,
            job.job_id,
            job.camera,
            list(segments),
            file.path,
            file.footage_start,
            self.config.max_tail_s,
            self.config.worker_nice,
            self.config.worker_idle_class,
            analysis_threads(self.config.cpus_per_segment),
        )
        self._placed[handle] = node_id
        return handle

    def finished(self, handles: Sequence[Any], timeout_s: float) -> list[tuple[Any, object]]:
        ready, _ = ray.wait(list(handles), num_returns=len(handles), timeout=timeout_s)
        outcomes: list[tuple[Any, object]] = []
        chain: ObjectRefGenerator
        for chain in ready:
            try:
                ref = next(chain)
            except StopIteration:
                self._placed.pop(chain, None)
                outcomes.append((chain, CHAIN_ENDED))
                continue
            try:
                outcomes.append((chain, ray.get(ref)))
            except (RayError, TaskCancelledError) as exc:
                self._placed.pop(chain, None)
                outcomes.append((chain, exc))
        return outcomes

    def cancel(self, handle: Any) -> None:
        with contextlib.suppress(RayError, ValueError, TypeError):  # already over
            ray.cancel(handle, force=True)

    def capacity(self) -> BatchRoom:
        """Segments that may start now (`submit` places them on the plan's nodes), and with none, why."""
        plan = self._new_plan()
        return BatchRoom(plan.total, plan.waiting)

    def _new_plan(self) -> SlotPlan:
        self._plan = plan_slots(
            self.room.nodes(),
            cpus_per_segment=self.config.cpus_per_segment,
            live_reserve_cpus=self.config.live_reserve_cpus,
            running=Counter(self._placed.values()),
        )
        return self._plan
