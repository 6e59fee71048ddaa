"""Tunables of the scheduler actor, with the reasons for their defaults.

Plain frozen dataclass: it is pickled into the detached actor at creation, and
Ray re-runs the constructor with the same value when it restarts the actor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

from pydantic import ValidationError

from ..config.source import ReconnectConfig
from .placement import DEFAULT_HEADROOM, DEFAULT_HYSTERESIS

SCHEDULER_ACTOR_NAME = "matthan-scheduler"


@dataclass(frozen=True)
class SchedulerSettings:
    namespace: str = "matthan"
    # Where the desired set (cameras.json, shared with `CameraFleet`) and the
    # assignments (scheduler.json) are kept; None keeps nothing (tests).
    state_dir: Path | None = None

    # Control loop. A tick also runs at once when a request arrives.
    tick_s: float = 1.0
    status_timeout_s: float = 2.0  # one status poll; a silent actor costs the tick this long
    # A running actor silent this long is killed and recreated (counts as a restart).
    heartbeat_timeout_s: float = 20.0
    # An actor not answering this long after creation is killed and recreated: its
    # process never came up (pending resources, broken node, hung import).
    start_timeout_s: float = 120.0
    stop_timeout_s: float = 2.0  # graceful stop() before ray.kill
    # Several actors of one node dying at once make it suspect (its raylet is probably
    # gone before Ray says so): no camera goes there for this long or until Ray decides.
    suspect_node_s: float = 60.0

    # Placement (see placement.py).
    headroom: float = DEFAULT_HEADROOM
    hysteresis: float = DEFAULT_HYSTERESIS
    # Voluntary moves (rebalance, overload, consolidation) per sliding minute: each
    # is a reconnect plus the warm-up of the camera's background model.
    max_moves_per_minute: int = 8
    use_head_node: bool = True  # place cameras on the head node too
    # Largest node the autoscaler could add, in CPUs: a camera bigger than every
    # current node is still accepted if it would fit such a node.
    max_node_cpus: float | None = None

    # Cost model: refine the priors from the measured CPU of LIVE cameras, once they
    # have been live this long (opening the stream and warming up burn CPU that
    # says nothing about the steady cost: the first samples read 100%+).
    learn_costs: bool = True
    cost_warmup_s: float = 20.0

    # Restarts of dead or silent camera actors: exponential backoff with jitter.
    restart_initial_s: float = 1.0
    restart_max_s: float = 300.0
    restart_multiplier: float = 2.0
    restart_jitter: float = 0.2
    # This many failures within the window is a crash loop: the camera is FAILED,
    # reported, and retried only after `crash_loop_retry_s`.
    crash_loop_failures: int = 5
    crash_loop_window_s: float = 600.0
    crash_loop_retry_s: float = 600.0
    # Running this long without failing forgives past failures (backoff restarts small).
    healthy_reset_s: float = 120.0

    # Autoscaling clusters: consolidate cameras so idle worker nodes can be released.
    autoscaling: bool = False
    consolidate_every_s: float = 60.0
    # A node emptied for release that is still there after this long takes cameras again.
    release_grace_s: float = 300.0

    def __post_init__(self) -> None:
        positive = (
            "tick_s", "status_timeout_s", "heartbeat_timeout_s", "start_timeout_s", "stop_timeout_s", "suspect_node_s",
            "restart_initial_s", "restart_max_s", "crash_loop_window_s", "crash_loop_retry_s",
            "healthy_reset_s", "consolidate_every_s", "release_grace_s",
        )
        if not (isinstance(self.cost_warmup_s, (int, float)) and self.cost_warmup_s >= 0):
            raise ValueError(f"scheduler setting cost_warmup_s must be >= 0 seconds, got {self.cost_warmup_s!r}")
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"scheduler setting {name} must be a positive number of seconds, got {value!r}")
        if not self.namespace:
            raise ValueError("scheduler setting namespace must not be empty")
        if not (0.0 <= self.headroom < 1.0):
            raise ValueError(f"scheduler setting headroom must be within [0, 1), got {self.headroom}")
        if not (self.hysteresis >= 0):
            raise ValueError(f"scheduler setting hysteresis must be >= 0, got {self.hysteresis}")
        if self.max_moves_per_minute < 0:
            raise ValueError(f"scheduler setting max_moves_per_minute must be >= 0, got {self.max_moves_per_minute}")
        if self.crash_loop_failures < 1:
            raise ValueError(f"scheduler setting crash_loop_failures must be >= 1, got {self.crash_loop_failures}")
        if self.max_node_cpus is not None and not (self.max_node_cpus > 0):
            raise ValueError(f"scheduler setting max_node_cpus must be > 0, got {self.max_node_cpus}")
        try:
            self.restart_policy  # noqa: B018 - validates the restart_* values
        except ValidationError as exc:
            raise ValueError(f"scheduler restart settings: {exc.errors()[0]['msg']}") from None

    @property
    def restart_policy(self) -> ReconnectConfig:
        """The restart backoff, in the shape `cluster.actors.backoff.Backoff` takes."""
        return ReconnectConfig(
            initial_s=self.restart_initial_s,
            max_s=self.restart_max_s,
            multiplier=self.restart_multiplier,
            jitter=self.restart_jitter,
        )

    def replace(self, **changes) -> "SchedulerSettings":
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown scheduler settings: {', '.join(unknown)}")
        return SchedulerSettings(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})
