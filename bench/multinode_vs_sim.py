"""A real multi-node Ray cluster beside the simulation of the same shape (issue 16).

    python -m bench.multinode_vs_sim --cameras 64 --nodes 3

Runs `bench.scheduler_recovery` (a real `ray.cluster_utils.Cluster` on this machine: start N
cameras, a node joins, a node is SIGKILLed), then `bench.district_sim` with the same nodes,
CPUs per node, cameras, hysteresis and move cap, every camera costed at what the real run's
scheduler counted per camera before the join (and at the floor, `MIN_CAMERA_COST`, if that
differs), and prints the two side by side: cameras per node after the start, the join's moves
and time to balance (simulated steps x the loop period beside real seconds), and after the kill
how many cameras were placed again, in how many scheduler steps and where they went.

Real times include what the simulation does not model: starting Ray worker processes on two
cores, a moved camera's stop and start, and Ray's node failure detection.
"""

from __future__ import annotations

import argparse
import math

from cluster.scheduler.prior import MIN_CAMERA_COST

from .cluster_run import ClusterRun, format_counts
from .common import print_table
from .district_sim import DistrictShape, simulate
from .scheduler_recovery import add_run_options
from .scheduler_recovery import run as run_real

SIM_STEADY_STEPS = 10  # the step times are district_sim's subject, not this comparison's


def sim_costs(real: ClusterRun) -> list[float]:
    """The floor, and the real run's mean cost if it is not the floor (to 4 decimals, as Ray)."""
    measured = round(real.join_cost, 4)
    return [MIN_CAMERA_COST] if math.isclose(measured, MIN_CAMERA_COST) else [MIN_CAMERA_COST, measured]


def simulated(real: ClusterRun, cost: float) -> ClusterRun:
    shape = DistrictShape(
        cameras=real.cameras,
        nodes=real.nodes,
        node_cpus=real.node_cpus,
        camera_cost=cost,
        hysteresis=real.hysteresis,
        max_moves_per_minute=real.max_moves_per_minute,
    )
    return simulate(shape, SIM_STEADY_STEPS)["run"]


def seconds_and_steps(seconds: float, steps: int) -> str:
    return f"{seconds:.1f} s, {steps} steps"


def ratio(real: float, sim: float) -> str:
    return f"x{real / sim:.1f}" if sim > 0 and math.isfinite(real) else "-"


def comparison_rows(real: ClusterRun, sims: list[ClusterRun]) -> list[list[str]]:
    """measure | real | each simulation | real / the last simulation (times only)."""
    last = sims[-1]

    def row(measure: str, of, times: tuple[float, float] | None = None) -> list[str]:
        return [measure, of(real), *(of(s) for s in sims), ratio(*times) if times else ""]

    min_cost, max_cost = real.join_cost_range
    return [
        row("cost per camera before the join", lambda r: f"{r.join_cost:.4f}"),
        row("  real: lowest-highest", lambda r: f"{min_cost:.4f}-{max_cost:.4f}" if r is real else ""),
        row("start: all live", lambda r: seconds_and_steps(r.start_s, r.start_steps), (real.start_s, last.start_s)),
        row("start: cameras per node", lambda r: format_counts(r.placed)),
        row("join: rebalancing moves", lambda r: str(r.join_moves)),
        row(
            "join: last move after",
            lambda r: f"{r.join_last_move_s:.1f} s",
            (real.join_last_move_s, last.join_last_move_s),
        ),
        row(
            "join: balanced, all live",
            lambda r: seconds_and_steps(r.join_balanced_s, r.join_steps),
            (real.join_balanced_s, last.join_balanced_s),
        ),
        row("join: cameras per node", lambda r: format_counts(r.after_join)),
        row("kill: node, its cameras", lambda r: f"{r.victim}, {r.lost}"),
        row(
            "kill: noticed",
            lambda r: seconds_and_steps(r.loss_noticed_s, r.loss_noticed_steps),
            (real.loss_noticed_s, last.loss_noticed_s),
        ),
        row(
            "kill: all live again",
            lambda r: seconds_and_steps(r.loss_live_s, r.loss_steps),
            (real.loss_live_s, last.loss_live_s),
        ),
        row("kill: where they went", lambda r: format_counts(r.went_to)),
        row("kill: cameras per node", lambda r: format_counts(r.after_loss)),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_options(parser)
    args = parser.parse_args(argv)
    if args.nodes < 2:
        parser.error("--nodes must be at least 2 (a worker node is killed)")
    rows, real = run_real(args)
    print_table("real cluster: start, rebalance, recovery", ["measure", "value", "note"], rows)
    sims = [simulated(real, cost) for cost in sim_costs(real)]
    columns = ["measure", "real", *(f"simulated, cost {s.join_cost:.4f}" for s in sims), "real / last sim (times)"]
    title = (
        f"{real.cameras} cameras on {real.nodes} nodes (+1 joining) of {real.node_cpus:g} CPUs, "
        f"hysteresis {real.hysteresis:g}, {real.max_moves_per_minute} moves/min: real beside simulated"
    )
    print_table(title, columns, comparison_rows(real, sims))


if __name__ == "__main__":
    main()
