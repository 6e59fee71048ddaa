"""The scheduler's record of one desired camera, and the failure bookkeeping on it.

A record does not know its phase: the `CameraBuckets` container (state.py) that
holds it does, so "every camera is in exactly one phase" cannot be broken by a
record and its container disagreeing.
"""

from __future__ import annotations

import collections
import random
from dataclasses import dataclass, field

from ..config import CameraConfig
from ..domain import CameraStatus
from ..support.backoff import Backoff
from .model import Unplaced
from .report import CameraPhase
from .settings import SchedulerSettings

# Phases that have (or are getting) an actor, and so are part of the placement.
ACTIVE_PHASES = frozenset({CameraPhase.STARTING, CameraPhase.RUNNING})


@dataclass
class CameraRecord:
    config: CameraConfig
    backoff: Backoff
    node_id: str | None = None  # node its actor is pinned to (or, once it answered, reports)
    lost_from: str | None = None  # node it ran on when that node died: reported as a NODE_DEAD move
    actor: object | None = None
    reserved: float | None = None  # num_cpus its actor declared to Ray (see capacity.py)
    started_at: float | None = None  # monotonic: actor created (or adopted)
    last_heartbeat: float | None = None  # monotonic: its actor last answered a status poll
    missed_polls: int = 0  # status polls in a row its actor did not answer
    reported_unresponsive: bool = False  # logged as unresponsive (once per silence)
    healthy_since: float | None = None
    live_since: float | None = None  # LIVE without a break since then (cost measurements count after warm-up)
    stopped_at: float | None = None  # monotonic: we last stopped its actor (its name may linger)
    status: CameraStatus | None = None
    restarts: int = 0
    failures: collections.deque[float] = field(default_factory=collections.deque)
    # Node and time of its last counted actor death: if that node proves dead soon
    # after, the death was the node's (see `retract_failure`).
    died_on: tuple[str, float] | None = None
    retry_at: float | None = None
    reason: str = ""
    unplaced: Unplaced | None = None
    shed_note: str | None = None  # why it was shed (stopped for room): kept in its reason while it waits
    push_config: bool = False  # the running actor may have an older config: send it
    # Its new settings no longer fit its node (UpdateCamera): why it must move (or wait for room).
    must_move: str | None = None

    @property
    def camera_id(self) -> str:
        return self.config.id

    def forget_actor(self) -> None:
        self.actor = None
        self.status = None
        self.last_heartbeat = None
        self.missed_polls = 0
        self.reported_unresponsive = False
        self.healthy_since = None
        self.live_since = None
        self.started_at = None
        self.push_config = False

    def silent_for(self, now: float) -> float | None:
        """Seconds since its actor last answered, if it missed the polls since then
        (None while it answers, or before it ever answered)."""
        if self.missed_polls == 0 or self.last_heartbeat is None:
            return None
        return now - self.last_heartbeat


def initial_phase(config: CameraConfig) -> CameraPhase:
    return CameraPhase.PENDING if config.enabled else CameraPhase.DISABLED


def new_record(config: CameraConfig, settings: SchedulerSettings, rng: random.Random) -> CameraRecord:
    """A record for a camera just added (its phase is `initial_phase(config)`)."""
    return CameraRecord(
        config=config,
        backoff=Backoff(settings.restart_policy, rng),
        reason="waiting for a node" if config.enabled else "disabled",
    )


def record_failure(record: CameraRecord, reason: str, now: float, settings: SchedulerSettings) -> CameraPhase:
    """Count a death (or lost heartbeat, or failed start) and schedule the restart.

    Returns the phase the camera goes to (BACKING_OFF, or FAILED in a crash loop);
    `record.reason` says what happens next. The actor is forgotten: the caller has
    already killed it or found it dead.
    """
    record.forget_actor()
    record.restarts += 1
    record.failures.append(now)
    while record.failures and now - record.failures[0] > settings.crash_loop_window_s:
        record.failures.popleft()
    delay = record.backoff.next_delay()
    if len(record.failures) >= settings.crash_loop_failures:
        phase = CameraPhase.FAILED
        delay = max(delay, settings.crash_loop_retry_s)
        record.reason = (
            f"crash loop: {len(record.failures)} failures within {settings.crash_loop_window_s:.0f} s, "
            f"last: {reason}; next try in {delay:.0f} s (or update the camera)"
        )
    else:
        phase = CameraPhase.BACKING_OFF
        record.reason = f"{reason}; restart #{record.restarts} in {delay:.1f} s"
    record.retry_at = now + delay
    return phase


def retract_failure(record: CameraRecord) -> None:
    """Take back the last `record_failure`: its death turned out to be its node's.

    The caller moves the camera on (re-placing it at once, without the backoff).
    """
    record.restarts = max(0, record.restarts - 1)
    if record.failures:
        record.failures.pop()
    if not record.failures:
        record.backoff.reset()
    record.died_on = None
    record.retry_at = None


def forgive(record: CameraRecord) -> None:
    """Forget past failures: after a long healthy run, or when the operator changed the config."""
    record.backoff.reset()
    record.failures.clear()
