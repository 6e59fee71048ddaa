"""What nodes can take and what cameras count, shared by planning, requests and views.

Reservations (issue 9). Ray fixes an actor's `num_cpus` when it starts, but a
camera's real cost is only known once it runs, and changes with its settings. So
every camera actor declares the same small `RAY_CPUS_PER_CAMERA` to Ray, and the
scheduler's own accounting is the admission control: a camera is *reserved* its
estimated cost (`cost.py`), which follows its measurement while it runs, without
a restart. Ray's view stays consistent with it:

- Ray never refuses an actor the plan pins to a node: every estimate is at least
  `MIN_CAMERA_COST` >= `RAY_CPUS_PER_CAMERA`, and the plan fills a node only up to
  its usable share, so what Ray holds there never exceeds the node's CPUs;
- a node with cameras is never idle to Ray's autoscaler (their reservations are
  not zero), and an emptied one is;
- the autoscaler is asked in the scheduler's own units (planning.capacity_request).

An actor started with a bigger declaration (by a scheduler before issue 9) is
counted at max(declared, estimate) until it restarts: never below what Ray holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import CameraConfig
from ..domain import CameraState
from .boundary import NodeInfo
from .cost import CostModel
from .model import NodeCapacity
from .placement import RAY_RESOURCE_GRANULARITY
from .prior import MIN_CAMERA_COST, SourceInfo, cost_breakdown
from .records import CameraRecord
from .settings import SchedulerSettings
from .state import SchedulerState

# What every camera actor declares to Ray: 1% of a core. Small enough that Ray's
# accounting never binds before the scheduler's does, not zero so that a node with
# cameras counts as busy.
RAY_CPUS_PER_CAMERA = 0.01
if RAY_CPUS_PER_CAMERA > MIN_CAMERA_COST:
    raise ImportError("the scheduler must never count a camera below its Ray reservation")

# Label a node may carry to tell its kind (CPU model, instance type) for the cost
# calibration; without it, nodes of one CPU count are taken to be of one kind.
NODE_KIND_LABEL = "matthan.io/node-kind"


def reservation(cost: float) -> float:
    """CPUs to declare for `cost` cores: rounded up to Ray's resource granularity."""
    steps = max(1, math.ceil(round(cost / RAY_RESOURCE_GRANULARITY, 6)))
    return round(steps * RAY_RESOURCE_GRANULARITY, 4)


def node_kind(node: NodeInfo) -> str:
    """The node's kind for the cost calibration (see NODE_KIND_LABEL)."""
    return node.labels.get(NODE_KIND_LABEL) or f"{node.cpus:g}-cpu"


def may_host(node: NodeInfo | None, settings: SchedulerSettings) -> bool:
    """The node has CPUs and the settings allow cameras there (the head node may be excluded)."""
    return node is not None and node.cpus > 0 and (settings.use_head_node or not node.is_head)


def usable(node: NodeInfo, settings: SchedulerSettings) -> float:
    """CPU cores cameras may use on the node: its CPUs minus the headroom."""
    return node.cpus * (1.0 - settings.headroom) if may_host(node, settings) else 0.0


def counted_cost(record: CameraRecord, active: bool, cost: CostModel, *, full_rate: bool = False) -> float:
    """What the scheduler reserves for the camera: its estimate (at its floor, if it may
    lower its rate, unless `full_rate`), never below what its actor declared to Ray (see
    the module docstring).

    A camera whose actor reports FAILED (a permanent error: a bad URL, a missing or
    corrupt file) only idles until it is changed, so it keeps no more than what Ray
    holds for it: healthy cameras waiting for room get its share. An update of the
    camera restarts it and its estimate counts again."""
    if active and failed_permanently(record):
        return max(record.reserved or RAY_CPUS_PER_CAMERA, MIN_CAMERA_COST)
    estimate = cost.cost(record.camera_id)
    if not full_rate:
        estimate = at_floor(record.config, estimate, cost.source_of(record.config.source.url))
    if active and record.reserved is not None:
        return max(record.reserved, estimate)
    return estimate


def at_floor(config: CameraConfig, estimate: float, source: SourceInfo | None) -> float:
    """What a camera that may lower its analysis rate is admitted at (graceful overload,
    issue 16): its estimate, which is always at its full `analysis.fps` (a degraded
    camera's measurement is scaled back up, `demanded_cores`), times the share of its
    prior that is left at `analysis.min_fps`. Decoding every frame and the actor's base
    cost are paid at any rate; the per-frame, motion and detector shares follow it.

    So a node holds cameras whose floors fit; when their full rates do not, each camera
    lowers its own rate toward its floor (`cluster/video/rate_control.py`) instead of
    some of them waiting unplaced or being shed. A camera without `min_fps` counts in full.
    """
    floor = config.analysis.min_fps
    if floor is None or floor >= config.analysis.fps:
        return estimate
    full = cost_breakdown(config, source).raw_total
    lowered = cost_breakdown(config, source, analysis_fps=floor).raw_total
    if full <= 0:
        return estimate
    return max(MIN_CAMERA_COST, estimate * min(1.0, lowered / full))


def failed_permanently(record: CameraRecord) -> bool:
    """The camera's actor last reported FAILED (it stays so until the camera changes)."""
    return record.status is not None and record.status.state is CameraState.FAILED


def measured_cores(record: CameraRecord) -> float:
    """What the camera's actor last measured of its own CPU, in cores (0 without a status)."""
    return max(0.0, record.status.cpu_percent) / 100.0 if record.status is not None else 0.0


# A camera analysing less than this share of the frames it is asked to is starved of CPU.
STARVED_BELOW = 0.8
# The most a starved camera's measurement is scaled up by (a camera analysing almost
# nothing would otherwise be costed at anything).
MAX_STARVATION_SCALE = 4.0


def demanded_cores(record: CameraRecord) -> float:
    """What the camera needs, from what it measured: a camera starved of CPU (analysing
    fewer frames per second than asked: `analysis.fps`, or the source's rate if lower)
    skips the rest, so its analysis uses less than it needs, by about the share it skips.
    Decoding is paid for every frame, analysed or not (the capture loop grabs them all),
    so the prior's decode share of what it used is not scaled. On an overloaded node every
    camera measures only what it gets; counting that would hide the overload (and re-admit
    a shed camera at a fraction of its cost).

    A degraded camera (it lowered its own rate to `target_fps`, graceful overload) is
    scaled back up by exactly the share it chose to skip, and by at most
    MAX_STARVATION_SCALE for what it skips beyond that: its estimate stays its cost
    at the full rate, which `at_floor` then counts at the floor."""
    used = measured_cores(record)
    status = record.status
    if status is None:
        return used
    asked = record.config.analysis.fps if status.fps_in <= 0 else min(record.config.analysis.fps, status.fps_in)
    if status.fps_out <= 0 or asked <= 0:
        return used
    running_at = min(asked, status.target_fps) if status.target_fps > 0 else asked
    starved = running_at / status.fps_out if status.fps_out < STARVED_BELOW * running_at else 1.0
    scale = asked / running_at * min(MAX_STARVATION_SCALE, starved)
    if scale <= 1.0:
        return used
    source = SourceInfo(status.source_width or None, status.source_height or None, status.source_fps or None)
    decode = min(used, cost_breakdown(record.config, source).decode)
    return decode + (used - decode) * scale


@dataclass(frozen=True, slots=True)
class NodeUse:
    """One node's cameras as the scheduler accounts them: reserved (their estimates)
    and measured (what their actors last reported), in cores."""

    cameras: tuple[str, ...] = ()
    reserved: float = 0.0
    measured: float = 0.0


def node_use(state: SchedulerState, cost: CostModel) -> dict[str, NodeUse]:
    """Reserved and measured CPU of the active cameras of every node that has some."""
    cameras: dict[str, list[str]] = {}
    reserved: dict[str, list[float]] = {}
    measured: dict[str, list[float]] = {}
    for rec in state.cameras.active():
        if rec.node_id is None:
            continue
        cameras.setdefault(rec.node_id, []).append(rec.camera_id)
        reserved.setdefault(rec.node_id, []).append(counted_cost(rec, True, cost))
        measured.setdefault(rec.node_id, []).append(measured_cores(rec))
    return {n: NodeUse(tuple(cameras[n]), math.fsum(reserved[n]), math.fsum(measured[n])) for n in cameras}


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
