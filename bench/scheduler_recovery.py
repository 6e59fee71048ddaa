"""Scheduler actor on a local multi-node Ray cluster: how fast cameras start, move and heal.

    python -m bench.scheduler_recovery --cameras 64 --nodes 3

Measures, in one run:

- AddCamera of N cameras (issued concurrently) until every one is LIVE;
- a node joining: voluntary moves made until the load is balanced again, and how long that took
  (moves are capped per minute: `--max-moves-per-minute`, the scheduler's default unless given);
- a node SIGKILLed (like a power cut): time until the scheduler notices, and until every camera
  that ran there is LIVE on another node. Ray's own node failure detection is left at its
  defaults unless `--fast-detection` is given.

Nodes have `--node-cpus` logical CPUs, 2 by default: this machine's own size (before issue 9
they had 12, because a camera of an unknown source reserved 0.23 cores). The tiny looping clip
is probed before its cameras start, so each is reserved about what it costs (0.01 cores); cameras
that cheap barely load a node, so the join is measured with a lower `--hysteresis` (0.05) for the
load to be uneven enough to move anything. Timings are dominated by starting Ray worker processes
on the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from .cluster_run import (
    JOINED,
    ClusterRun,
    cameras_per_node,
    cost_range,
    format_counts,
    mean_cost,
    node_labels,
    rebalance_moves,
    where_they_went,
)
from .common import print_table

NAMESPACE = "bench-scheduler"
FAST_DETECTION = {
    "health_check_initial_delay_ms": 1000,
    "health_check_period_ms": 1000,
    "health_check_timeout_ms": 2000,
    "health_check_failure_threshold": 3,
}


class Deadline:
    """The whole run's time budget: every wait gets at most what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds

    def left(self, at_most: float) -> float:
        return max(0.0, min(at_most, self.until - time.monotonic()))


def _wait(condition, timeout: float, what: str, poll_s: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception:  # noqa: BLE001 - scheduler busy or restarting: poll again
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(poll_s)


def run(args) -> tuple[list[list[str]], ClusterRun]:
    import psutil
    import ray
    from ray.cluster_utils import Cluster

    from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
    from cluster.demo import ClipSpec, ensure_demo_clips
    from cluster.scheduler.actor import ensure_scheduler
    from cluster.scheduler.client import SchedulerClient
    from cluster.scheduler.settings import SchedulerSettings

    budget = Deadline(args.budget_s)
    work = Path(tempfile.mkdtemp(prefix="bench-scheduler-"))
    clip = ensure_demo_clips(work / "clips", (ClipSpec("tiny", 7, 1, 1, seconds=4.0, fps=4.0, width=160, height=96),))[
        0
    ]
    head_args = {"num_cpus": args.node_cpus, "include_dashboard": False}
    if args.fast_detection:
        head_args["_system_config"] = FAST_DETECTION
    cluster = Cluster(initialize_head=True, head_node_args=head_args)
    rows: list[list[str]] = []
    try:
        for _ in range(args.nodes - 1):
            cluster.add_node(num_cpus=args.node_cpus)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False, logging_level="ERROR")
        settings = SchedulerSettings(namespace=NAMESPACE, state_dir=work / "state")
        if args.max_moves_per_minute is not None:
            settings = settings.replace(max_moves_per_minute=args.max_moves_per_minute)
        settings = settings.replace(hysteresis=args.hysteresis)
        client = SchedulerClient(ensure_scheduler(settings), NAMESPACE)
        figures = ClusterRun(
            "real", args.cameras, args.nodes, args.node_cpus, settings.hysteresis, settings.max_moves_per_minute
        )
        labels = node_labels([cluster.head_node.node_id, *(n.node_id for n in cluster.worker_nodes)])

        def report():
            return asyncio.run(client.report())

        def all_live():
            status = asyncio.run(client.cluster_status())
            return status.cameras_live == status.cameras_configured == args.cameras

        def balanced():
            r = report()
            utils = [n.utilisation for n in r.nodes if n.alive and n.usable > 0]
            return max(utils) - min(utils) <= settings.hysteresis and r.phase_counts() == {"running": args.cameras}

        # ---- 1. add N cameras --------------------------------------------------------------
        configs = [
            CameraConfig(
                id=f"cam{i:03d}", source=SourceConfig(url=str(clip), loop=True), analysis=AnalysisConfig(fps=1.0)
            )
            for i in range(args.cameras)
        ]

        async def add_all():
            # At most --add-concurrency AddCameras in flight: a step answers its adds only after
            # registering every actor it starts, one GCS round trip each, and on 2 busy cores
            # that took 27-37 s for 30 actors; 64 at once made the last ones wait two such steps
            # and time out at 60 s.
            in_flight = asyncio.Semaphore(args.add_concurrency)

            async def add(config):
                async with in_flight:
                    await client.add_camera(config)

            await asyncio.gather(*(add(c) for c in configs))

        ticks = report().ticks
        start = time.monotonic()
        asyncio.run(add_all())
        answered = time.monotonic() - start
        _wait(all_live, budget.left(600), "all cameras live")
        live = time.monotonic() - start
        r = report()
        figures.start_s, figures.start_steps = live, r.ticks - ticks
        figures.placed, figures.start_cost = cameras_per_node(r, labels), mean_cost(r)
        in_flight = f"{args.add_concurrency} in flight"
        rows.append([f"AddCamera x{args.cameras} -> all answered", f"{answered:.1f} s", in_flight])
        rows.append(
            [
                f"AddCamera x{args.cameras} -> all live",
                f"{live:.1f} s",
                f"{args.nodes} nodes x {args.node_cpus} logical CPUs; {r.ticks - ticks} scheduler steps",
            ]
        )
        memory = psutil.virtual_memory()
        rows.append(["machine memory in use, all live", f"{(memory.total - memory.available) / 2**30:.1f} GiB", ""])

        # ---- 2. a node joins ---------------------------------------------------------------
        r = report()
        figures.join_cost, figures.join_cost_range = mean_cost(r), cost_range(r)
        joined_wall = time.time()
        joined = cluster.add_node(num_cpus=args.node_cpus)
        labels = {**labels, joined.node_id: JOINED}
        start, ticks = time.monotonic(), r.ticks
        _wait(lambda: any(n.node_id == joined.node_id for n in report().nodes), budget.left(60), "new node seen")
        _wait(lambda: balanced() and all_live(), budget.left(900), "balanced after the join")
        figures.join_balanced_s = time.monotonic() - start
        r = report()
        moves = rebalance_moves(r, joined_wall)
        figures.join_moves, figures.join_steps = len(moves), r.ticks - ticks
        figures.join_last_move_s = max(moves) - joined_wall if moves else 0.0
        figures.after_join = cameras_per_node(r, labels)
        low, high = figures.join_cost_range
        rows.append(
            [
                "node join: moves until balanced",
                str(len(moves)),
                f"cap {settings.max_moves_per_minute}/min; {args.cameras // (args.nodes + 1)} would be an even share; "
                f"costs {low:.4f}-{high:.4f}",
            ]
        )
        rows.append(["node join: balanced and live", f"{figures.join_balanced_s:.1f} s", f"{figures.join_steps} steps"])

        # ---- 3. a node dies ----------------------------------------------------------------
        r = report()
        on_node = {n.node_id: n.cameras for n in r.nodes}
        victim = max(cluster.worker_nodes, key=lambda n: len(on_node.get(n.node_id, ())))
        lost = list(on_node.get(victim.node_id, ()))
        figures.victim, figures.lost = labels[victim.node_id], len(lost)
        cluster.remove_node(victim, allow_graceful=False)
        start, ticks = time.monotonic(), r.ticks

        def noticed():
            node = next((n for n in report().nodes if n.node_id == victim.node_id), None)
            return node is None or not node.alive or node.suspect

        _wait(noticed, budget.left(300), "node death noticed", poll_s=0.1)
        figures.loss_noticed_s, figures.loss_noticed_steps = time.monotonic() - start, report().ticks - ticks
        _wait(all_live, budget.left(600), "cameras of the dead node live elsewhere", poll_s=0.1)
        figures.loss_live_s = time.monotonic() - start
        r = report()
        figures.loss_steps = r.ticks - ticks
        figures.went_to, figures.after_loss = where_they_went(lost, r, labels), cameras_per_node(r, labels)
        detection = "fast health checks (1 s x 3)" if args.fast_detection else "Ray's default health checks"
        rows.append(["node killed: scheduler notices", f"{figures.loss_noticed_s:.1f} s", detection])
        rows.append(
            [
                f"node killed: its {len(lost)} cameras live elsewhere",
                f"{figures.loss_live_s:.1f} s",
                f"{figures.loss_steps} steps; went to {format_counts(figures.went_to)}",
            ]
        )
    finally:
        ray.shutdown()
        cluster.shutdown()
    return rows, figures


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cameras", type=int, default=64)
    parser.add_argument("--nodes", type=int, default=3, help="nodes before the join (the head included)")
    parser.add_argument("--node-cpus", type=int, default=2, help="logical CPUs per node")
    parser.add_argument("--hysteresis", type=float, default=0.05, help="the scheduler's rebalancing threshold")
    parser.add_argument("--max-moves-per-minute", type=int, default=None)
    parser.add_argument("--fast-detection", action="store_true", help="Ray health checks every 1 s, 3 misses")
    parser.add_argument("--add-concurrency", type=int, default=16, help="AddCamera calls in flight at once")
    parser.add_argument(
        "--budget-s", type=float, default=660, help="the whole run's time limit (a heavy run holds the machine)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(parser)
    args = parser.parse_args()
    if args.nodes < 2:
        parser.error("--nodes must be at least 2 (a worker node is killed)")
    rows, _ = run(args)
    print_table("scheduler: start, rebalance, recovery", ["measure", "value", "note"], rows)


if __name__ == "__main__":
    main()
