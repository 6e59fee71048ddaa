"""The scheduler's own control loop on a simulated district: 200 to 2,000 cameras on
5 to 50 nodes.

    python -m bench.district_sim --cameras 200 500 1000 2000

The real `Controller` (adoption, heartbeats, cost model, admission, `placement.plan`,
actions, replies) runs over `FakeCluster`, the in-memory `ClusterBoundary` the
controller tests use (named actors, pinned placement, CPU accounting), with a fake
clock, so what is timed is the scheduler's Python and nothing else. One node per 40
cameras, 16 CPUs each; cameras are 720p network cameras of unknown size (prior about
0.23 cores), so the district is about 60% full.

For each size it measures:
- the first placement: every camera added in one burst, steps until all run;
- the steady state: step time p50/p99 over `--steps` steps with every camera
  heartbeating (the step the scheduler runs every `tick_s`), after the first
  refresh of the frozen heap (`cluster/support/heap.py`: the scheduler actor's loop
  freezes its long-lived objects out of the garbage collector 30 s after it starts,
  and collects them between steps every 5 minutes); the refresh's own pause is
  reported beside it, and `--no-freeze` measures without it, as before;
- a node joining: moves made and steps until no camera moves any more;
- a node lost: cameras re-placed, and whether that took one step.

Goal (issue 16): a step under 100 ms p99 at 2,000 cameras, growth no worse than n log n.

`--nodes`, `--node-cpus`, `--camera-cost`, `--hysteresis` and `--max-moves-per-minute` give
it a real run's shape (`bench.multinode_vs_sim` does, beside `bench.scheduler_recovery`);
the lost node is the worker with the most cameras, as in the real run. With `--nodes` it also
prints the cameras per node after the start, the join and the loss.
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster.config import CameraConfig
from cluster.scheduler.cost import CostModel
from cluster.scheduler.prior import SourceInfo
from cluster.scheduler.report import CameraPhase
from cluster.scheduler.requests import AddCamera
from cluster.scheduler.store import SchedulerStateStore
from cluster.support.heap import LongLivedHeap
from tests.scheduler.fakes import TEST_SETTINGS, FakeClock, FakeCluster, camera

from .cluster_run import (
    ClusterRun,
    cameras_per_node,
    cost_range,
    format_counts,
    mean_cost,
    node_labels,
    rebalance_moves,
    where_they_went,
)
from .common import percentile, print_table

CAMERAS_PER_NODE = 40
NODE_CPUS = 16.0
TICK_S = 1.0
MAX_JOIN_STEPS = 900  # 15 simulated minutes: at 8 moves a minute, 120 moves


def running(ctl) -> int:
    return sum(1 for c in ctl.report().cameras if c.phase is CameraPhase.RUNNING)


def timed_step(ctl, clock: FakeClock, heap: LongLivedHeap | None = None) -> float:
    """One step's time; then, between steps as the actor's loop does, the heap's refresh if due."""
    clock.advance(TICK_S)
    started = time.perf_counter()
    ctl.step()
    took = time.perf_counter() - started
    if heap is not None:
        heap.refresh_if_due()
    return took


@dataclass(frozen=True)
class DistrictShape:
    """What is simulated; the defaults are the district of the module docstring."""

    cameras: int
    nodes: int | None = None  # None: one node per CAMERAS_PER_NODE cameras (at least 2)
    node_cpus: float = NODE_CPUS
    camera_cost: float | None = None  # cores per camera; None: the prior of an unknown 720p source
    hysteresis: float = TEST_SETTINGS.hysteresis
    max_moves_per_minute: int = 60
    state_dir: Path | None = None  # the scheduler's state store (every change saved, as in the actor); None: none

    @property
    def node_count(self) -> int:
        return self.nodes if self.nodes is not None else max(2, self.cameras // CAMERAS_PER_NODE)


class PinnedCosts(CostModel):
    """Every camera costs the same given figure (a real run's, to simulate it), whatever its settings."""

    def __init__(self, cores: float, **options: float) -> None:
        super().__init__(**options)
        self.cores = cores

    def update_config(self, camera: CameraConfig, source: SourceInfo | None = None) -> float:
        return self.set_prior(camera.id, self.cores)


def new_controller(shape: DistrictShape, cluster: FakeCluster, clock: FakeClock):
    from cluster.scheduler.controller import Controller

    settings = TEST_SETTINGS.replace(
        max_moves_per_minute=shape.max_moves_per_minute, tick_s=TICK_S, hysteresis=shape.hysteresis
    )
    store = SchedulerStateStore(shape.state_dir) if shape.state_dir is not None else None
    ctl = Controller(cluster, settings, store=store, clock=clock, wall_clock=clock, rng=random.Random(0))
    if shape.camera_cost is not None:
        ctl.cost = PinnedCosts(shape.camera_cost, time_constant_s=settings.cost_smoothing_s)
    return ctl


def most_loaded_worker(cluster: FakeCluster) -> str:
    """The node the real run kills: the worker (not the head) with the most cameras, the first on ties."""
    workers = [n.node_id for n in cluster.nodes.values() if n.alive and not n.is_head]
    return max(workers, key=lambda node_id: len(cluster.on(node_id)))


def settled(ctl, cameras: int) -> bool:
    """The last plan wanted no more moves and every camera runs: what the real run calls balanced."""
    plan = ctl.state.last_plan
    return plan is not None and plan.converged and not plan.moves and running(ctl) == cameras


def simulate(shape: DistrictShape, steady_steps: int, *, freeze: bool = True) -> dict[str, Any]:
    cameras, nodes = shape.cameras, shape.node_count
    cluster = FakeCluster()
    for i in range(nodes):
        cluster.add_node(f"node-{i:03d}", shape.node_cpus, head=(i == 0))
    labels = node_labels(list(cluster.nodes))
    clock = FakeClock()
    ctl = new_controller(shape, cluster, clock)
    heap = LongLivedHeap(clock=clock) if freeze else None
    ctl.step()  # adopt (nothing runs yet)
    run = ClusterRun("simulated", cameras, nodes, shape.node_cpus, shape.hysteresis, shape.max_moves_per_minute)

    for i in range(cameras):
        ctl.submit(AddCamera(camera(f"cam{i:04d}")))
    first = []
    while running(ctl) < cameras and len(first) < 50:
        first.append(timed_step(ctl, clock, heap))
    report = ctl.report()
    run.start_steps, run.start_s = len(first), len(first) * TICK_S
    run.placed, run.start_cost = cameras_per_node(report, labels), mean_cost(report)
    while heap is not None and not heap.refreshes:
        timed_step(ctl, clock, heap)  # settling: until the first refresh, as in the actor

    steady = [timed_step(ctl, clock, heap) for _ in range(steady_steps)]

    report = ctl.report()
    run.join_cost, run.join_cost_range = mean_cost(report), cost_range(report)
    cluster.add_node("joined", shape.node_cpus)
    labels = node_labels(list(cluster.nodes)[:nodes], "joined")
    joined_at = clock()
    join_steps = 0
    while join_steps < MAX_JOIN_STEPS:
        timed_step(ctl, clock, heap)
        join_steps += 1
        if settled(ctl, cameras):
            break
    report = ctl.report()
    moves = rebalance_moves(report, joined_at)
    run.join_moves, run.join_steps = len(moves), join_steps
    run.join_last_move_s = max(moves) - joined_at if moves else 0.0
    run.join_balanced_s = join_steps * TICK_S
    run.after_join = cameras_per_node(report, labels)

    victim = most_loaded_worker(cluster)
    lost = cluster.on(victim)
    run.victim, run.lost = labels[victim], len(lost)
    cluster.kill_node(victim)
    loss_steps = [timed_step(ctl, clock, heap)]  # the step that notices the node is gone
    noticed = 1 if not any(n.alive for n in ctl.report().nodes if n.node_id == victim) else 0
    while running(ctl) < cameras and len(loss_steps) < 50:
        loss_steps.append(timed_step(ctl, clock, heap))
        if not noticed and not any(n.alive for n in ctl.report().nodes if n.node_id == victim):
            noticed = len(loss_steps)
    report = ctl.report()
    run.loss_noticed_steps, run.loss_noticed_s = noticed, noticed * TICK_S
    run.loss_steps, run.loss_live_s = len(loss_steps), len(loss_steps) * TICK_S
    run.went_to, run.after_loss = where_they_went(lost, report, labels), cameras_per_node(report, labels)
    return {
        "cameras": cameras,
        "nodes": nodes,
        "first_steps": len(first),
        "first_s": sum(first),
        "p50_ms": percentile(steady, 50) * 1000,
        "p99_ms": percentile(steady, 99) * 1000,
        "join_moves": run.join_moves,
        "join_steps": round(run.join_last_move_s / TICK_S),
        "lost": len(lost),
        "loss_steps": len(loss_steps),
        "loss_step_ms": max(loss_steps, default=0.0) * 1000,
        "all_running": "yes" if running(ctl) == cameras else f"no ({running(ctl)})",
        "refresh_ms": heap.last_pause_s * 1000 if heap is not None else float("nan"),
        "run": run,
    }


def add_shape_options(parser: argparse.ArgumentParser) -> None:
    """The options that make the simulation take a real run's shape (`bench.scheduler_recovery`)."""
    shape = parser.add_argument_group("shape (defaults: the simulated district)")
    shape.add_argument(
        "--nodes", type=int, default=None, help=f"nodes before the join (default: cameras / {CAMERAS_PER_NODE})"
    )
    shape.add_argument("--node-cpus", type=float, default=NODE_CPUS, help="logical CPUs per node")
    shape.add_argument(
        "--camera-cost", type=float, default=None, help="cores every camera costs (default: the prior of a 720p camera)"
    )
    shape.add_argument("--hysteresis", type=float, default=TEST_SETTINGS.hysteresis)
    shape.add_argument("--max-moves-per-minute", type=int, default=60)
    shape.add_argument(
        "--store", action="store_true", help="save the state to disk on every change, as the actor does (default: not)"
    )


def shape_of_args(args: argparse.Namespace, cameras: int, state_dir: Path | None = None) -> DistrictShape:
    if args.nodes is not None and args.nodes < 2:
        raise SystemExit("--nodes must be at least 2 (a worker node is lost)")
    return DistrictShape(
        cameras=cameras,
        nodes=args.nodes,
        node_cpus=args.node_cpus,
        camera_cost=args.camera_cost,
        hysteresis=args.hysteresis,
        max_moves_per_minute=args.max_moves_per_minute,
        state_dir=state_dir,
    )


def print_per_node(runs: list[ClusterRun]) -> None:
    rows = [
        [
            str(r.cameras),
            f"{r.start_cost:.4f}",
            format_counts(r.placed),
            f"{r.join_moves} in {r.join_last_move_s:.0f} s",
            format_counts(r.after_join),
            f"{r.lost} of {r.victim}",
            format_counts(r.went_to),
            format_counts(r.after_loss),
        ]
        for r in runs
    ]
    columns = ["cameras", "cost", "placed", "join: moves", "after the join", "lost", "went to", "after the loss"]
    print_table("Cameras per node (simulated seconds: steps x 1 s)", columns, rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[200, 500, 1000, 2000])
    parser.add_argument("--steps", type=int, default=50, help="steady-state steps timed per size")
    parser.add_argument("--no-freeze", action="store_true", help="without the frozen heap (the loop before it)")
    add_shape_options(parser)
    args = parser.parse_args(argv)
    results = []
    for n in args.cameras:
        with tempfile.TemporaryDirectory(prefix="district-sim-") as state_dir:
            shape = shape_of_args(args, n, Path(state_dir) if args.store else None)
            results.append(simulate(shape, args.steps, freeze=not args.no_freeze))
    rows = [
        [
            str(r["cameras"]),
            str(r["nodes"]),
            f"{r['first_steps']} ({r['first_s']:.2f} s)",
            f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}",
            f"{r['refresh_ms']:.0f}",
            f"{r['join_moves']} in {r['join_steps']} steps",
            f"{r['lost']} in {r['loss_steps']} step(s), slowest {r['loss_step_ms']:.0f} ms",
            str(r["all_running"]),
        ]
        for r in results
    ]
    print_table(
        "The scheduler's control loop on a simulated district",
        [
            "cameras",
            "nodes",
            "first placement: steps",
            "steady step p50/p99 ms",
            "heap refresh ms (every 5 min)",
            "node joins",
            "node lost",
            "all run",
        ],
        rows,
    )
    if args.nodes is not None:
        print_per_node([r["run"] for r in results])
    base = results[0]
    for r in results[1:]:
        n_ratio = r["cameras"] / base["cameras"]  # type: ignore[operator]
        nlogn = n_ratio * math.log(r["cameras"]) / math.log(base["cameras"])  # type: ignore[arg-type]
        growth = r["p99_ms"] / base["p99_ms"]  # type: ignore[operator]
        print(
            f"{base['cameras']} -> {r['cameras']} cameras: p99 step x{growth:.1f} "
            f"(linear x{n_ratio:.1f}, n log n x{nlogn:.1f})"
        )


if __name__ == "__main__":
    main()
