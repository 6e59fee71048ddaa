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

from .common import print_table

NAMESPACE = "bench-scheduler"
FAST_DETECTION = {
    "health_check_initial_delay_ms": 1000,
    "health_check_period_ms": 1000,
    "health_check_timeout_ms": 2000,
    "health_check_failure_threshold": 3,
}


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
            raise TimeoutError(f"{what} not reached within {timeout} s")
        time.sleep(poll_s)


def run(args) -> list[list[str]]:
    import ray
    from ray.cluster_utils import Cluster

    from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
    from cluster.demo import ClipSpec, ensure_demo_clips
    from cluster.scheduler.actor import ensure_scheduler
    from cluster.scheduler.client import SchedulerClient
    from cluster.scheduler.settings import SchedulerSettings

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
            await asyncio.gather(*(client.add_camera(c) for c in configs))

        start = time.monotonic()
        asyncio.run(add_all())
        answered = time.monotonic() - start
        _wait(all_live, 900, "all cameras live")
        live = time.monotonic() - start
        rows.append([f"AddCamera x{args.cameras} -> all answered", f"{answered:.1f} s", ""])
        rows.append(
            [
                f"AddCamera x{args.cameras} -> all live",
                f"{live:.1f} s",
                f"{args.nodes} nodes x {args.node_cpus} logical CPUs",
            ]
        )

        # ---- 2. a node joins ---------------------------------------------------------------
        moves_before = len(report().recent_moves)
        joined = cluster.add_node(num_cpus=args.node_cpus)
        start = time.monotonic()
        _wait(lambda: any(n.node_id == joined.node_id for n in report().nodes), 60, "new node seen")
        _wait(lambda: balanced() and all_live(), 900, "balanced after the join")
        converged = time.monotonic() - start
        moves = report().recent_moves[moves_before:]
        rows.append(
            [
                "node join: moves until balanced",
                str(len(moves)),
                f"cap {settings.max_moves_per_minute}/min; {args.cameras // (args.nodes + 1)} would be an even share",
            ]
        )
        rows.append(["node join: balanced and live", f"{converged:.1f} s", ""])

        # ---- 3. a node dies ----------------------------------------------------------------
        r = report()
        on_node = {n.node_id: n.cameras for n in r.nodes}
        victim = max(cluster.worker_nodes, key=lambda n: len(on_node.get(n.node_id, ())))
        lost = len(on_node.get(victim.node_id, ()))
        cluster.remove_node(victim, allow_graceful=False)
        start = time.monotonic()

        def noticed():
            node = next((n for n in report().nodes if n.node_id == victim.node_id), None)
            return node is None or not node.alive or node.suspect

        _wait(noticed, 300, "node death noticed", poll_s=0.1)
        detected = time.monotonic() - start
        _wait(all_live, 600, "cameras of the dead node live elsewhere", poll_s=0.1)
        recovered = time.monotonic() - start
        detection = "fast health checks (1 s x 3)" if args.fast_detection else "Ray's default health checks"
        rows.append(["node killed: scheduler notices", f"{detected:.1f} s", detection])
        rows.append([f"node killed: its {lost} cameras live elsewhere", f"{recovered:.1f} s", ""])
    finally:
        ray.shutdown()
        cluster.shutdown()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=64)
    parser.add_argument("--nodes", type=int, default=3, help="nodes before the join (the head included)")
    parser.add_argument("--node-cpus", type=int, default=2, help="logical CPUs per node")
    parser.add_argument("--hysteresis", type=float, default=0.05, help="the scheduler's rebalancing threshold")
    parser.add_argument("--max-moves-per-minute", type=int, default=None)
    parser.add_argument("--fast-detection", action="store_true", help="Ray health checks every 1 s, 3 misses")
    args = parser.parse_args()
    if args.nodes < 2:
        parser.error("--nodes must be at least 2 (a worker node is killed)")
    rows = run(args)
    print_table("scheduler: start, rebalance, recovery", ["measure", "value", "note"], rows)


if __name__ == "__main__":
    main()
