"""Everything the scheduler knows, in one explicit value: `SchedulerState`.

The controller owns one; the step's functions (observation.py, planning.py,
request_handling.py) transform it and the views (views.py) read it. Nothing in
it refers back to the controller, the cluster or a thread.

Cameras live in `CameraBuckets`, one bucket per `CameraPhase` (like Ray Serve's
`ReplicaStateContainer`). Invariant, kept by every method and checked by
`check()`: every desired camera is in exactly one bucket, under its own id, and
the phase index names that bucket. A record has no phase of its own, so the two
cannot disagree.
"""

from __future__ import annotations

import collections
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..domain import CameraNotFound
from .boundary import NodeInfo
from .cost import CostModel
from .model import EVACUATION_REASONS, Move, PlacementPlan
from .records import ACTIVE_PHASES, CameraRecord, initial_phase, new_record
from .report import CameraPhase, MoveRecord
from .settings import SchedulerSettings
from .store import PersistedState, Placement

logger = logging.getLogger(__name__)

MOVE_WINDOW_S = 60.0  # `max_moves_per_minute` counts voluntary moves in this sliding window
HISTORY_LENGTH = 200  # recent moves kept for the report


class BucketInvariantError(AssertionError):
    """The camera buckets disagree with their index (a bug, never user input)."""


class CameraBuckets:
    """The desired cameras by phase. Listing methods return sorted snapshots, so a
    caller may move the cameras it iterates over."""

    def __init__(self) -> None:
        self._buckets: dict[CameraPhase, dict[str, CameraRecord]] = {phase: {} for phase in CameraPhase}
        self._phase_of: dict[str, CameraPhase] = {}

    # ---- changes -----------------------------------------------------------------------

    def add(self, record: CameraRecord, phase: CameraPhase) -> None:
        camera_id = record.camera_id
        if camera_id in self._phase_of:
            raise ValueError(f"camera {camera_id!r} is already in the {self._phase_of[camera_id].value} bucket")
        self._buckets[phase][camera_id] = record
        self._phase_of[camera_id] = phase

    def remove(self, camera_id: str) -> CameraRecord:
        phase = self._phase_of.pop(camera_id, None)
        if phase is None:
            raise CameraNotFound(camera_id)
        return self._buckets[phase].pop(camera_id)

    def move(self, camera_id: str, phase: CameraPhase) -> None:
        """Put the camera in the bucket of `phase` (no change if it is there already)."""
        current = self._phase_of.get(camera_id)
        if current is None:
            raise CameraNotFound(camera_id)
        if current is not phase:
            self._buckets[phase][camera_id] = self._buckets[current].pop(camera_id)
            self._phase_of[camera_id] = phase

    # ---- reads -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._phase_of)

    def __contains__(self, camera_id: object) -> bool:
        return camera_id in self._phase_of

    def get(self, camera_id: str) -> CameraRecord | None:
        phase = self._phase_of.get(camera_id)
        return None if phase is None else self._buckets[phase][camera_id]

    def require(self, camera_id: str) -> CameraRecord:
        record = self.get(camera_id)
        if record is None:
            raise CameraNotFound(camera_id)
        return record

    def phase_of(self, camera_id: str) -> CameraPhase:
        try:
            return self._phase_of[camera_id]
        except KeyError:
            raise CameraNotFound(camera_id) from None

    def is_active(self, camera_id: str) -> bool:
        """Has (or is getting) an actor: STARTING or RUNNING."""
        return self._phase_of.get(camera_id) in ACTIVE_PHASES

    def ids(self) -> list[str]:
        return sorted(self._phase_of)

    def records(self) -> list[CameraRecord]:
        return [record for _, record in self.entries()]

    def entries(self) -> list[tuple[CameraPhase, CameraRecord]]:
        """(phase, record) of every camera, by camera id."""
        return [(phase, self._buckets[phase][cid]) for cid, phase in sorted(self._phase_of.items())]

    def in_phase(self, *phases: CameraPhase) -> list[CameraRecord]:
        return sorted((r for p in phases for r in self._buckets[p].values()), key=lambda r: r.camera_id)

    def active(self) -> list[CameraRecord]:
        return self.in_phase(*ACTIVE_PHASES)

    def count(self, phase: CameraPhase) -> int:
        return len(self._buckets[phase])

    def __iter__(self) -> Iterator[CameraRecord]:
        return iter(self.records())

    def check(self) -> None:
        """Raise BucketInvariantError unless every camera is in exactly one bucket,
        under its own id, and the index names that bucket."""
        seen: dict[str, CameraPhase] = {}
        for phase, bucket in self._buckets.items():
            for camera_id, record in bucket.items():
                if camera_id in seen:
                    raise BucketInvariantError(f"camera {camera_id!r} is in both {seen[camera_id]} and {phase}")
                if record.camera_id != camera_id:
                    raise BucketInvariantError(f"the record of {record.camera_id!r} is filed as {camera_id!r}")
                seen[camera_id] = phase
        if seen != self._phase_of:
            raise BucketInvariantError(f"phase index {self._phase_of} does not match the buckets {seen}")


@dataclass
class MoveLog:
    """Voluntary moves in the sliding window (the move cap), and recent moves of any kind."""

    voluntary: collections.deque[float] = field(default_factory=collections.deque)  # monotonic times
    history: collections.deque[MoveRecord] = field(default_factory=lambda: collections.deque(maxlen=HISTORY_LENGTH))

    def record(self, move: Move, now: float, wall_now: float) -> None:
        if move.reason not in EVACUATION_REASONS:
            self.voluntary.append(now)
        self.history.append(MoveRecord(wall_now, move.camera_id, move.from_node, move.to_node, move.reason.value))

    def voluntary_in_window(self, now: float) -> int:
        return sum(1 for at in self.voluntary if now - at <= MOVE_WINDOW_S)

    def forget_before_window(self, now: float) -> None:
        while self.voluntary and now - self.voluntary[0] > MOVE_WINDOW_S:
            self.voluntary.popleft()


@dataclass
class SchedulerState:
    cameras: CameraBuckets = field(default_factory=CameraBuckets)
    nodes: dict[str, NodeInfo] = field(default_factory=dict)  # the newest node list, by id
    draining: set[str] = field(default_factory=set)  # DrainNode: no camera runs there
    suspect_nodes: dict[str, float] = field(default_factory=dict)  # node -> since when its actors died en masse
    releasing: dict[str, float] = field(default_factory=dict)  # node -> when consolidation emptied it
    paused: bool = False  # StopAllCameras: no camera starts until ResumeCameras
    persisted: bool = False  # a desired set exists on disk (or was seeded / changed)
    adopted: bool = False  # running actors of a previous scheduler were taken over (first step)
    placement_hints: dict[str, Placement] = field(default_factory=dict)  # persisted placements, used once
    moves: MoveLog = field(default_factory=MoveLog)
    last_plan: PlacementPlan | None = None
    plan_costs: dict[str, float] = field(default_factory=dict)  # camera -> cost the last plan counted
    last_consolidation: float | None = None
    requested: tuple[dict[str, float], ...] = ()  # the standing request to the autoscaler
    dirty: bool = False  # placement facts changed since the last save

    def alive_nodes(self) -> set[str]:
        return {node_id for node_id, node in self.nodes.items() if node.alive}


def persisted_form(state: SchedulerState, cost: CostModel) -> PersistedState:
    """What is saved: the desired set and the placement facts."""
    records = state.cameras.records()
    return PersistedState(
        cameras=[rec.config for rec in records],
        placements={
            rec.camera_id: Placement(rec.node_id, rec.reserved)
            for rec in records
            if rec.actor is not None and rec.node_id is not None and rec.reserved is not None
        },
        draining=set(state.draining),
        restarts={rec.camera_id: rec.restarts for rec in records if rec.restarts},
        costs={rec.camera_id: c for rec in records if (c := cost.learned(rec.camera_id)) is not None},
        learnt=cost.learnt(),
    )


def restored_state(
    saved: PersistedState, settings: SchedulerSettings, cost: CostModel, rng: random.Random, now: float
) -> SchedulerState:
    """The state a scheduler resumes from (its actors are adopted in the first step)."""
    state = SchedulerState(persisted=True, draining=set(saved.draining), placement_hints=dict(saved.placements))
    if settings.learn_costs:
        cost.restore_learnt(saved.learnt)
    for config in saved.cameras:
        record = new_record(config, settings, rng)
        record.restarts = saved.restarts.get(config.id, 0)
        state.cameras.add(record, initial_phase(config))
        cost.update_config(config)
        if config.id in saved.costs:
            cost.restore(config.id, saved.costs[config.id], now)
    return state
