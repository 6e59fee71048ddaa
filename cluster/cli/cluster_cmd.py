"""`matthan cluster status|drain|undrain`: nodes, load and camera placement, from the scheduler actor."""

from __future__ import annotations

import asyncio
import collections
import logging
import sys

from rich.console import Console
from rich.table import Table

from ..control import ControlError
from ..scheduler.cost import CostBasis
from ..scheduler.report import CameraPhase, NodeReport, SchedulerReport

NODE_ID_SHOWN = 12  # leading hex digits of a node id; enough to be unique, and accepted as a prefix
PROBLEM_PHASES = (CameraPhase.BACKING_OFF, CameraPhase.FAILED)
COST_BASIS_WORDS = {
    CostBasis.MEASURED: "measured",
    CostBasis.SHAPE: "from measured cameras of their shape",
    CostBasis.SETTINGS: "from measured cameras with their settings",
    CostBasis.PRIOR: "from the prior",
}


def register(sub) -> None:
    import argparse

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--address", default="auto", help="Ray cluster to talk to (default: the local one)")
    common.add_argument("--namespace", default="matthan", help="Ray namespace of the scheduler actor")
    parser = sub.add_parser("cluster", help="nodes, load and camera placement; drain a node")
    actions = parser.add_subparsers(dest="cluster_command", required=True, metavar="ACTION")
    status = actions.add_parser(
        "status", parents=[common], help="table of nodes, load, cameras per node, unplaced cameras"
    )
    status.add_argument("--cameras", action="store_true", help="also list the cameras of each node")
    status.set_defaults(func=run_status)
    drain = actions.add_parser("drain", parents=[common], help="move every camera off a node before maintenance")
    drain.add_argument("node", help="node id, or a unique prefix of it (as shown by `cluster status`)")
    drain.set_defaults(func=run_drain)
    undrain = actions.add_parser("undrain", parents=[common], help="let a drained node take cameras again")
    undrain.add_argument("node", help="node id or unique prefix")
    undrain.set_defaults(func=run_undrain)


def _client(args):
    import ray

    from ..scheduler.client import SchedulerClient

    ray.init(address=args.address, namespace=args.namespace, logging_level=logging.ERROR, log_to_driver=False)
    return SchedulerClient.connect(args.namespace)


def _fail(message: str) -> int:
    print(f"matthan: cluster: {message}", file=sys.stderr)
    return 1


def run_status(args) -> int:
    try:
        report = asyncio.run(_client(args).report())
    except (ConnectionError, ControlError) as exc:
        return _fail(str(exc))
    # A pipe gets 80 columns by default, which would cut node ids short.
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(node_table(report))
    if args.cameras:
        for node in report.nodes:
            if node.cameras:
                console.print(
                    f"{node.node_id[:NODE_ID_SHOWN]}: {', '.join(node.cameras)}", markup=False, highlight=False
                )
    for line in summary_lines(report):
        console.print(line, markup=False, highlight=False)
    for line in problem_lines(report):
        console.print(line, style="yellow", markup=False, highlight=False)
    return 0


def run_drain(args) -> int:
    try:
        client = _client(args)
        node_id = resolve_node(args.node, asyncio.run(client.report()))
        result = asyncio.run(client.drain_node(node_id))
    except (ConnectionError, ControlError) as exc:
        return _fail(str(exc))
    print(
        f"draining {node_id}: moved {len(result.moved_camera_ids)} camera(s)"
        + (f": {', '.join(result.moved_camera_ids)}" if result.moved_camera_ids else "")
    )
    if result.stranded_camera_ids:
        print(f"still there, waiting for room elsewhere: {', '.join(result.stranded_camera_ids)}")
    return 0


def run_undrain(args) -> int:
    try:
        client = _client(args)
        node_id = resolve_node(args.node, asyncio.run(client.report()), include_dead=True)
        asyncio.run(client.undrain_node(node_id))
    except (ConnectionError, ControlError) as exc:
        return _fail(str(exc))
    print(f"node {node_id} takes cameras again")
    return 0


def resolve_node(prefix: str, report: SchedulerReport, *, include_dead: bool = False) -> str:
    """The one node whose id starts with `prefix`; ControlError names the candidates otherwise."""
    nodes = [n for n in report.nodes if include_dead or n.alive]
    matches = [n.node_id for n in nodes if n.node_id.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(n.node_id[:NODE_ID_SHOWN] for n in nodes) or "none"
    if not matches:
        raise ControlError(f"no alive node id starts with {prefix!r}; nodes: {known}")
    raise ControlError(f"{prefix!r} matches {len(matches)} nodes; give more of the id ({known})")


def _node_state(node: NodeReport) -> str:
    if not node.alive:
        return "[red]dead[/red]"
    if node.suspect:
        return "[red]suspect[/red]"
    if node.draining:
        return "[yellow]draining[/yellow]"
    if node.releasing:
        return "[cyan]releasing[/cyan]"
    return "[green]alive[/green]"


def node_table(report: SchedulerReport) -> Table:
    """One row per node. `reserved` is what the scheduler holds for the node's cameras
    (their estimated costs: what admission counts), `measured` what their actors last
    measured of themselves; `util` is reserved over usable."""
    table = Table(title="nodes")
    for col in ("node", "address", "role", "state", "CPUs", "usable", "reserved", "measured", "util", "cameras"):
        table.add_column(col, no_wrap=True)
    for node in report.nodes:
        cameras = str(len(node.cameras))
        table.add_row(
            node.node_id[:NODE_ID_SHOWN],
            node.address,
            "head" if node.is_head else "worker",
            _node_state(node),
            f"{node.cpus:g}",
            f"{node.usable:.2f}",
            f"{node.reserved:.2f}",
            f"{node.measured:.2f}",
            f"{node.utilisation:.0%}" if node.usable > 0 else "-",
            cameras,
        )
    return table


def summary_lines(report: SchedulerReport) -> list[str]:
    counts = report.phase_counts()
    phases = ", ".join(f"{counts[p.value]} {p.value.replace('_', ' ')}" for p in CameraPhase if p.value in counts)
    live = sum(1 for c in report.cameras if c.state == "live")
    lines = [f"{len(report.cameras)} camera(s): {phases or 'none'}; {live} live"]
    lines.append(f"{len(report.unplaced)} unplaced; {report.moves_last_minute} voluntary move(s) in the last minute")
    bases = collections.Counter(c.cost_basis for c in report.cameras if c.cost_basis)
    if bases:
        named = ", ".join(f"{bases[b.value]} {COST_BASIS_WORDS[b]}" for b in CostBasis if b.value in bases)
        lines.append(f"costs: {named}")
    if report.requested_bundles:
        total = sum(b.get("CPU", 0.0) for b in report.requested_bundles)
        lines.append(
            f"asking the autoscaler for room for {len(report.requested_bundles)} camera(s), {total:.2f} CPU in total"
        )
    if report.last_error:
        lines.append(f"last error the control loop survived: {report.last_error}")
    return lines


def problem_lines(report: SchedulerReport) -> list[str]:
    """One line per camera that needs attention: unplaced, backing off, crash-looping."""
    lines = [f"unplaced {u.camera_id}: {u.reason.value}: {u.detail}" for u in report.unplaced]
    for cam in report.cameras:
        if cam.phase in PROBLEM_PHASES:
            lines.append(f"{cam.phase.value.replace('_', ' ')} {cam.camera_id} ({cam.restarts} restarts): {cam.reason}")
        elif cam.state not in (None, "live") and cam.phase is CameraPhase.RUNNING:
            lines.append(f"{cam.camera_id} on {(cam.node_id or '')[:NODE_ID_SHOWN]}: {cam.state}")
    return lines
