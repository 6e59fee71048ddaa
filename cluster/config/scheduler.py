"""Every tunable of the scheduler actor, validated here and nowhere else.

`cluster.scheduler.settings.SchedulerSettings` is this model plus where the
scheduler lives (Ray namespace, state directory); the `scheduler:` section of
`cameras.yaml` is this model itself. Times are seconds.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import StrictModel

DAY_S = 86400.0


class SchedulerConfig(StrictModel):
    """Placement, balancing and healing. Applied when the scheduler actor is created; a
    running scheduler (it is detached) keeps its settings until it is restarted."""

    # ---- control loop ---------------------------------------------------------------------
    tick_s: float = Field(
        1.0, gt=0.0, le=60.0, description="Control loop period; a step also runs at once when a request arrives."
    )
    status_timeout_s: float = Field(
        2.0,
        gt=0.0,
        le=60.0,
        description="Deadline of one status poll of the camera actors: a silent actor makes a step last this long.",
    )
    unresponsive_after_s: float = Field(
        6.0,
        gt=0.0,
        le=600.0,
        description="A running camera whose actor has not answered for this long is reported unresponsive "
        "(and left running until heartbeat_timeout_s); must be below heartbeat_timeout_s.",
    )
    heartbeat_timeout_s: float = Field(
        20.0, gt=0.0, le=600.0, description="A camera actor silent this long is killed and recreated."
    )
    start_timeout_s: float = Field(
        120.0,
        gt=0.0,
        le=3600.0,
        description="A camera actor not answering this long after its creation is killed and recreated "
        "(pending resources, broken node, hung import).",
    )
    stop_timeout_s: float = Field(
        2.0, gt=0.0, le=60.0, description="How long a camera actor gets to stop gracefully before it is killed."
    )
    suspect_node_s: float = Field(
        60.0,
        gt=0.0,
        le=3600.0,
        description="A node whose camera actors died together takes no camera for this long (or until Ray "
        "declares it dead).",
    )

    # ---- placement ------------------------------------------------------------------------
    headroom: float = Field(
        0.2, ge=0.0, lt=1.0, description="Share of each node's CPUs kept free (decode spikes, reconnects)."
    )
    hysteresis: float = Field(
        0.15,
        ge=0.0,
        le=10.0,
        description="Utilisation spread between nodes tolerated before cameras move (10 never rebalances).",
    )
    max_moves_per_minute: int = Field(
        8, ge=0, le=1000, description="Voluntary moves per minute; each costs a reconnect and a model warm-up."
    )
    max_starts_per_cpu: float = Field(
        2.0,
        gt=0.0,
        le=100.0,
        description="Camera actors being created at once on a node, per CPU of the node (at least one): each "
        "start burns a core-second or more of worker start and imports, so starting more at once only makes "
        "every start slower and can push them past start_timeout_s (a start storm); the rest wait their turn.",
    )
    use_head_node: bool = Field(True, description="Place cameras on the Ray head node too.")
    max_node_cpus: float | None = Field(
        None,
        gt=0.0,
        le=1024.0,
        description="CPUs of the largest node the autoscaler can add (accept cameras bigger than today's nodes).",
    )

    # ---- cost model -----------------------------------------------------------------------
    learn_costs: bool = Field(
        True,
        description="Learn what cameras cost: each camera's measured CPU (its reservation follows it), cameras of "
        "the same shape, node kinds' calibration, sources' real size (file sources are probed before they start). "
        "Off: every camera is costed by the prior from its settings alone (an unknown source counts as 720p, 15 fps).",
    )
    cost_warmup_s: float = Field(
        20.0,
        ge=0.0,
        le=3600.0,
        description="CPU samples count only after a camera has been live this long (opening a stream burns CPU).",
    )
    cost_smoothing_s: float = Field(
        60.0,
        ge=1.0,
        le=3600.0,
        description="Time constant of the smoothing of measured CPU: a reservation absorbs 63% of a step change "
        "in what its camera measures after this long (shorter follows faster, and follows noise more).",
    )

    # ---- restarts (same bounds as a source's reconnect policy, which they become) ---------
    restart_initial_s: float = Field(1.0, gt=0.0, le=60.0, description="First restart delay of a dead camera actor.")
    restart_max_s: float = Field(300.0, gt=0.0, le=600.0, description="Upper bound of the restart delay.")
    restart_multiplier: float = Field(
        2.0, ge=1.0, le=10.0, description="Growth of the restart delay per consecutive failure."
    )
    restart_jitter: float = Field(0.2, ge=0.0, le=1.0, description="Random +/- fraction applied to each delay.")
    crash_loop_failures: int = Field(
        5, ge=1, le=1000, description="This many failures within crash_loop_window_s make a camera FAILED."
    )
    crash_loop_window_s: float = Field(600.0, gt=0.0, le=DAY_S, description="Window of the crash-loop count.")
    crash_loop_retry_s: float = Field(
        600.0, gt=0.0, le=DAY_S, description="A FAILED camera is retried after this long (or when updated)."
    )
    healthy_reset_s: float = Field(
        120.0, gt=0.0, le=DAY_S, description="Running this long without failing forgives past failures."
    )

    # ---- autoscaling ----------------------------------------------------------------------
    autoscaling: bool = Field(
        False, description="The cluster has an autoscaler: consolidate cameras so idle nodes can be released."
    )
    consolidate_every_s: float = Field(
        60.0, gt=0.0, le=DAY_S, description="How often consolidation looks for a node it can empty."
    )
    release_grace_s: float = Field(
        300.0,
        gt=0.0,
        le=DAY_S,
        description="A node emptied for release that is still there after this long takes cameras again.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> SchedulerConfig:
        if self.restart_max_s < self.restart_initial_s:
            raise ValueError(
                f"restart_max_s ({self.restart_max_s:g}) must be >= restart_initial_s ({self.restart_initial_s:g})"
            )
        if self.unresponsive_after_s >= self.heartbeat_timeout_s:
            raise ValueError(
                f"unresponsive_after_s ({self.unresponsive_after_s:g}) must be below heartbeat_timeout_s "
                f"({self.heartbeat_timeout_s:g}): a camera is reported unresponsive before it is replaced"
            )
        return self
