"""The controller's record of one desired camera, and the failure bookkeeping on it."""

from __future__ import annotations

import collections
import random
from dataclasses import dataclass, field

from ..support.backoff import Backoff
from ..domain import CameraStatus
from ..config import CameraConfig
from .model import Unplaced
from .report import CameraPhase
from .settings import SchedulerSettings

# Phases that have (or are getting) an actor, and so are part of the placement.
ACTIVE_PHASES = frozenset({CameraPhase.STARTING, CameraPhase.RUNNING})


@dataclass
class CameraRecord:
    config: CameraConfig
    phase: CameraPhase
    backoff: Backoff
    node_id: str | None = None  # node its actor is pinned to (or, once it answered, reports)
    lost_from: str | None = None  # node it ran on when that node died: reported as a NODE_DEAD move
    actor: object | None = None
    reserved: float | None = None  # num_cpus its actor declared to Ray
    started_at: float | None = None  # monotonic: actor created (or adopted)
    last_heartbeat: float | None = None
    healthy_since: float | None = None
    live_since: float | None = None  # LIVE without a break since then (cost measurements count after warm-up)
    stopped_at: float | None = None  # monotonic: we last stopped its actor (its name may linger)
    status: CameraStatus | None = None
    restarts: int = 0
    failures: collections.deque[float] = field(default_factory=collections.deque)
    retry_at: float | None = None
    reason: str = ""
    unplaced: Unplaced | None = None
    push_config: bool = False  # the running actor may have an older config: send it

    @property
    def camera_id(self) -> str:
        return self.config.id

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    def forget_actor(self) -> None:
        self.actor = None
        self.status = None
        self.last_heartbeat = None
        self.healthy_since = None
        self.live_since = None
        self.started_at = None
        self.push_config = False


def new_record(config: CameraConfig, settings: SchedulerSettings, rng: random.Random) -> CameraRecord:
    phase = CameraPhase.PENDING if config.enabled else CameraPhase.DISABLED
    return CameraRecord(
        config=config,
        phase=phase,
        backoff=Backoff(settings.restart_policy, rng),
        reason="waiting for a node" if config.enabled else "disabled",
    )


def record_failure(record: CameraRecord, reason: str, now: float, settings: SchedulerSettings) -> str:
    """Count a death (or lost heartbeat, or failed start) and schedule the restart.

    Returns a log line saying what happens next. The actor is forgotten: the
    caller has already killed it or found it dead.
    """
    record.forget_actor()
    record.restarts += 1
    record.failures.append(now)
    while record.failures and now - record.failures[0] > settings.crash_loop_window_s:
        record.failures.popleft()
    delay = record.backoff.next_delay()
    if len(record.failures) >= settings.crash_loop_failures:
        record.phase = CameraPhase.FAILED
        delay = max(delay, settings.crash_loop_retry_s)
        record.reason = (
            f"crash loop: {len(record.failures)} failures within {settings.crash_loop_window_s:.0f} s, "
            f"last: {reason}; next try in {delay:.0f} s (or update the camera)"
        )
    else:
        record.phase = CameraPhase.BACKING_OFF
        record.reason = f"{reason}; restart #{record.restarts} in {delay:.1f} s"
    record.retry_at = now + delay
    return record.reason


def forgive(record: CameraRecord) -> None:
    """Forget past failures: after a long healthy run, or when the operator changed the config."""
    record.backoff.reset()
    record.failures.clear()
