"""The scheduler actor's operator-facing tunables (the rest keep their defaults)."""

from __future__ import annotations

from pydantic import Field

from .base import StrictModel


class SchedulerConfig(StrictModel):
    """Placement, balancing and healing. Applied when the scheduler actor is created; a
    running scheduler (it is detached) keeps its settings until it is restarted."""

    headroom: float = Field(
        0.2, ge=0.0, lt=1.0, description="Share of each node's CPUs kept free (decode spikes, reconnects)."
    )
    hysteresis: float = Field(
        0.15, gt=0.0, le=1.0, description="Utilisation spread between nodes tolerated before cameras move."
    )
    max_moves_per_minute: int = Field(
        8, ge=0, le=1000, description="Voluntary moves per minute; each costs a reconnect and a model warm-up."
    )
    use_head_node: bool = Field(True, description="Place cameras on the Ray head node too.")
    heartbeat_timeout_s: float = Field(
        20.0, gt=0.0, le=600.0, description="A camera actor silent this long is killed and recreated."
    )
    learn_costs: bool = Field(True, description="Refine each camera's CPU estimate from its measured use.")
    autoscaling: bool = Field(
        False, description="The cluster has an autoscaler: consolidate cameras so idle nodes can be released."
    )
    max_node_cpus: float | None = Field(
        None, gt=0.0, le=1024.0,
        description="CPUs of the largest node the autoscaler can add (accept cameras bigger than today's nodes).",
    )
