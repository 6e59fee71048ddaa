"""What nodes can take and what cameras count, shared by planning, requests and views.

Costs: Ray accounts what each actor declared when it started (`num_cpus`), fixed
until it restarts, while the estimate moves with measurements. The plan counts a
running camera at max(declared, estimate): never below what Ray holds for it (or
the plan could pin a new actor to a node Ray thinks is full, and it would stay
pending), above it when the camera measurably grew (an overloaded node then
sheds cameras).
"""

from __future__ import annotations

import math

from .boundary import NodeInfo
from .cost import CostModel
from .model import NodeCapacity
from .placement import RAY_RESOURCE_GRANULARITY
from .records import CameraRecord
from .settings import SchedulerSettings
from .state import SchedulerState


def reservation(cost: float) -> float:
    """CPUs to declare for `cost` cores: rounded up to Ray's resource granularity."""
    steps = max(1, math.ceil(round(cost / RAY_RESOURCE_GRANULARITY, 6)))
    return round(steps * RAY_RESOURCE_GRANULARITY, 4)


def may_host(node: NodeInfo | None, settings: SchedulerSettings) -> bool:
    """The node has CPUs and the settings allow cameras there (the head node may be excluded)."""
    return node is not None and node.cpus > 0 and (settings.use_head_node or not node.is_head)


def usable(node: NodeInfo, settings: SchedulerSettings) -> float:
    """CPU cores cameras may use on the node: its CPUs minus the headroom."""
    return node.cpus * (1.0 - settings.headroom) if may_host(node, settings) else 0.0


def counted_cost(record: CameraRecord, active: bool, cost: CostModel) -> float:
    """What the plan counts for the camera (see the module docstring)."""
    estimate = cost.cost(record.camera_id)
    if active and record.reserved is not None:
        return max(record.reserved, estimate)
    return estimate


def node_capacities(state: SchedulerState, settings: SchedulerSettings) -> list[NodeCapacity]:
    """The planner's view of the nodes, by node id: a node cameras may not use offers
    no capacity, a suspect node counts as dead."""
    return [
        NodeCapacity(
            node.node_id,
            node.cpus if may_host(node, settings) else 0.0,
            node.alive and node.node_id not in state.suspect_nodes,
        )
        for node in sorted(state.nodes.values(), key=lambda n: n.node_id)
    ]


def hosting_nodes(state: SchedulerState, settings: SchedulerSettings) -> list[str]:
    """Alive nodes that may run cameras, by id (draining ones included)."""
    return sorted(n for n, node in state.nodes.items() if node.alive and may_host(node, settings))
