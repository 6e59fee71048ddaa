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
"""

from __future__ import annotations

import argparse
import math
import time

from cluster.scheduler.report import CameraPhase
from cluster.scheduler.requests import AddCamera
from cluster.support.heap import LongLivedHeap
from tests.scheduler.fakes import TEST_SETTINGS, FakeClock, FakeCluster, camera

from .common import percentile, print_table

CAMERAS_PER_NODE = 40
NODE_CPUS = 16.0
TICK_S = 1.0


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


def moves_so_far(ctl) -> int:
    return len(ctl.report().recent_moves)


def simulate(cameras: int, steady_steps: int, *, freeze: bool = True) -> dict[str, float | int | str]:
    import random

    from cluster.scheduler.controller import Controller

    nodes = max(2, cameras // CAMERAS_PER_NODE)
    cluster = FakeCluster()
    for i in range(nodes):
        cluster.add_node(f"node-{i:03d}", NODE_CPUS, head=(i == 0))
    clock = FakeClock()
    settings = TEST_SETTINGS.replace(max_moves_per_minute=60, tick_s=TICK_S)
    ctl = Controller(cluster, settings, clock=clock, wall_clock=clock, rng=random.Random(0))
    heap = LongLivedHeap(clock=clock) if freeze else None
    ctl.step()  # adopt (nothing runs yet)

    for i in range(cameras):
        ctl.submit(AddCamera(camera(f"cam{i:04d}")))
    first = []
    while running(ctl) < cameras and len(first) < 50:
        first.append(timed_step(ctl, clock, heap))
    while heap is not None and not heap.refreshes:
        timed_step(ctl, clock, heap)  # settling: until the first refresh, as in the actor

    steady = [timed_step(ctl, clock, heap) for _ in range(steady_steps)]

    cluster.add_node("joined", NODE_CPUS)
    join_steps, quiet = 0, 0
    while quiet < 5 and join_steps < 600:
        before = moves_so_far(ctl)
        timed_step(ctl, clock, heap)
        join_steps += 1
        quiet = quiet + 1 if moves_so_far(ctl) == before else 0
    join_moves = len(cluster.on("joined"))

    victim = "node-001"
    lost = len(cluster.on(victim))
    cluster.kill_node(victim)
    loss_steps = [timed_step(ctl, clock, heap)]  # the step that notices the node is gone
    while running(ctl) < cameras and len(loss_steps) < 50:
        loss_steps.append(timed_step(ctl, clock, heap))
    return {
        "cameras": cameras,
        "nodes": nodes,
        "first_steps": len(first),
        "first_s": sum(first),
        "p50_ms": percentile(steady, 50) * 1000,
        "p99_ms": percentile(steady, 99) * 1000,
        "join_moves": join_moves,
        "join_steps": join_steps - quiet,
        "lost": lost,
        "loss_steps": len(loss_steps),
        "loss_step_ms": max(loss_steps, default=0.0) * 1000,
        "all_running": "yes" if running(ctl) == cameras else f"no ({running(ctl)})",
        "refresh_ms": heap.last_pause_s * 1000 if heap is not None else float("nan"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[200, 500, 1000, 2000])
    parser.add_argument("--steps", type=int, default=50, help="steady-state steps timed per size")
    parser.add_argument("--no-freeze", action="store_true", help="without the frozen heap (the loop before it)")
    args = parser.parse_args(argv)
    results = [simulate(n, args.steps, freeze=not args.no_freeze) for n in args.cameras]
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
