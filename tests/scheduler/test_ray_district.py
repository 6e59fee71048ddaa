"""The scheduler actor on a real multi-node Ray cluster: 64 cameras, nodes joining
and dying, a killed camera actor, a drain from the CLI, a scheduler restart.

One cluster for the module (starting 64 camera actors is the expensive part, about
a minute here); the tests run in file order, each starting from "all 64 live" and
leaving it so (the drain test, last, leaves a rebalance in progress). Nodes have 2
logical CPUs, this machine's own size (until issue 9 they had 12, because a camera of
an unknown source reserved 0.23 cores). The tiny clip is probed before its cameras
start, so each is costed at the floor (`MIN_CAMERA_COST`, 0.01 cores, about what it
measures); measurements are held off (`cost_warmup_s`) so that placement, and so the
moves, are deterministic. Cameras this cheap barely load a node, so the hysteresis is
lowered to 0.05 for joins and drains to rebalance at all.

Balance tolerance: the utilisation spread of the scheduler's nodes stays within
its hysteresis plus one camera's share, and per-node camera counts within 3 of the
mean.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import ray
from ray.cluster_utils import Cluster

from cluster.actors.camera_actor import actor_name
from cluster.control import CameraExists, CameraNotFound, ClusterStatus, NodeNotFound
from cluster.scheduler.actor import ensure_scheduler
from cluster.scheduler.client import SchedulerClient
from cluster.scheduler.prior import MIN_CAMERA_COST
from cluster.scheduler.report import SchedulerReport
from cluster.scheduler.settings import SCHEDULER_ACTOR_NAME, SchedulerSettings
from tests.ray_cluster import add_node, start_cluster

from .ray_helpers import FAST_NODE_FAILURE_DETECTION, named_camera_actors, run, tiny_camera, tiny_clip, wait_until

pytestmark = pytest.mark.slow

NAMESPACE = "district-test"
CAMERAS = [f"cam{i:02d}" for i in range(64)]
NODE_CPUS = 2
SETTINGS = SchedulerSettings(
    namespace=NAMESPACE,
    tick_s=0.5,
    heartbeat_timeout_s=60.0,
    start_timeout_s=240.0,
    max_moves_per_minute=30,
    hysteresis=0.05,
    cost_warmup_s=3600.0,
)
SPREAD_TOLERANCE = SETTINGS.hysteresis + MIN_CAMERA_COST / (NODE_CPUS * (1 - SETTINGS.headroom))
COUNT_TOLERANCE = 3


@dataclass
class District:
    cluster: Cluster
    client: SchedulerClient
    clip: Path

    def report(self) -> SchedulerReport:
        return run(self.client.report())

    def status(self) -> ClusterStatus:
        return run(self.client.cluster_status())

    def all_live(self, expected: int = len(CAMERAS)) -> ClusterStatus | None:
        status = self.status()
        return status if status.cameras_live == status.cameras_configured == expected else None

    def ready(self, workers: int = 2) -> None:
        """What every test starts from, whatever ran before it: at least `workers` alive
        worker nodes and all 64 cameras live (AddCamera of the same config is a no-op)."""
        for _ in range(workers - len(self.cluster.worker_nodes)):  # removed nodes leave this set
            add_node(self.cluster, num_cpus=NODE_CPUS)
        self.cluster.wait_for_nodes()

        async def add_all():
            await asyncio.gather(*(self.client.add_camera(tiny_camera(c, self.clip)) for c in CAMERAS))

        run(add_all())
        wait_until(self.all_live, 300, self.describe, poll_s=2.0)

    def describe(self) -> str:
        report = self.report()
        nodes = {n.node_id[:8]: (n.alive, len(n.cameras)) for n in report.nodes}
        return f"phases {report.phase_counts()}, nodes {nodes}, last error {report.last_error}"


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    if ray.is_initialized():
        ray.shutdown()  # the session's single-node Ray, if a test started it
    clip = tiny_clip(tmp_path_factory.mktemp("clips"))
    cluster = start_cluster(
        {"num_cpus": NODE_CPUS, "include_dashboard": False, "_system_config": FAST_NODE_FAILURE_DETECTION},
        workers=[{"num_cpus": NODE_CPUS}] * 2,
    )
    try:
        ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False, logging_level="WARNING")
        settings = SETTINGS.replace(state_dir=tmp_path_factory.mktemp("scheduler-state"))
        client = SchedulerClient(ensure_scheduler(settings), NAMESPACE)
        yield District(cluster, client, clip)
    finally:
        ray.shutdown()
        cluster.shutdown()


def spread(report: SchedulerReport) -> float:
    utils = [n.utilisation for n in report.nodes if n.alive and n.usable > 0 and not n.draining]
    return max(utils) - min(utils)


def test_64_cameras_are_placed_balanced_and_pinned_to_their_nodes(district):
    started = time.monotonic()

    async def add_all():
        await asyncio.gather(*(district.client.add_camera(tiny_camera(c, district.clip)) for c in CAMERAS))

    run(add_all())
    wait_until(district.all_live, 300, district.describe, poll_s=2.0)
    print(f"\n64 cameras added and live in {time.monotonic() - started:.1f} s")
    views = run(district.client.list_cameras())
    misplaced = [v.config.id for v in views if v.status.node_id != v.node_id]
    assert not misplaced, f"each actor runs on the node the scheduler pinned it to: {misplaced}"
    assert named_camera_actors(NAMESPACE) == CAMERAS, "exactly one actor per camera"
    report = district.report()
    counts = [len(n.cameras) for n in report.nodes]
    assert spread(report) <= SPREAD_TOLERANCE, f"utilisation spread {spread(report):.3f}: {report.nodes}"
    assert max(counts) - min(counts) <= 2 * COUNT_TOLERANCE, f"cameras per node {counts}"
    assert all(abs(c - 64 / 3) <= COUNT_TOLERANCE for c in counts), f"cameras per node {counts}"


def test_a_joining_node_takes_cameras_with_bounded_moves(district):
    district.ready()
    moves_before = len(district.report().recent_moves)
    node = add_node(district.cluster, num_cpus=NODE_CPUS)
    started = time.monotonic()

    def rebalanced():
        report = district.report()
        on_new = next((n for n in report.nodes if n.node_id == node.node_id), None)
        return (
            on_new is not None
            and on_new.cameras
            and spread(report) <= SPREAD_TOLERANCE
            and district.all_live()
            and report
        )

    report = wait_until(rebalanced, 180, district.describe, poll_s=2.0)
    moves = report.recent_moves[moves_before:]
    print(f"\nnode join: {len(moves)} moves, balanced and live again in {time.monotonic() - started:.1f} s")
    assert all(m.to_node == node.node_id and m.reason == "rebalance" for m in moves), moves
    moved = [m.camera_id for m in moves]
    assert len(moved) == len(set(moved)), f"no camera moved twice: {moved}"
    assert len(moved) <= len(CAMERAS) // 4 + 1, f"at most an even share moves to the new node: {len(moved)}"


def test_a_dead_node_s_cameras_run_elsewhere_within_seconds(district):
    district.ready()
    report = district.report()
    on_node = {n.node_id: n.cameras for n in report.nodes}
    victim = max(district.cluster.worker_nodes, key=lambda n: len(on_node.get(n.node_id, ())))
    lost = set(on_node[victim.node_id])
    restarts = {c.camera_id: c.restarts for c in report.cameras}
    district.cluster.remove_node(victim, allow_graceful=False)  # SIGKILL, like a power cut
    started = time.monotonic()

    def recovered():
        status = district.all_live()
        return status and not any(n.node_id == victim.node_id and n.alive for n in status.nodes) and status

    status = wait_until(recovered, 180, district.describe, poll_s=1.0)
    print(f"\nnode death: {len(lost)} cameras live elsewhere after {time.monotonic() - started:.1f} s")
    assert lost, "the victim had cameras"
    placed = {c for n in status.nodes if n.alive for c in n.cameras}
    assert lost <= placed, f"every lost camera placed on a live node: {sorted(lost - placed)}"
    after = {c.camera_id: c.restarts for c in district.report().cameras}
    assert after == restarts, "a node death does not count as the cameras' crashes"


def test_a_killed_camera_actor_is_back_and_counted(district):
    district.ready()
    victim = "cam05"
    old_pid = run(district.client.get_camera(victim)).status.pid
    restarts = district.report().camera(victim).restarts
    ray.kill(ray.get_actor(actor_name(victim), namespace=NAMESPACE), no_restart=True)

    def back():
        view = run(district.client.get_camera(victim))
        return view.status is not None and view.status.pid != old_pid and view.status.state.value == "live"

    wait_until(back, 60, district.describe)
    assert district.report().camera(victim).restarts == restarts + 1, "the kill is counted once"
    assert named_camera_actors(NAMESPACE) == CAMERAS


def test_camera_handles_from_the_scheduler_reach_the_camera_actors(district):
    district.ready()
    handle = run(district.client.handle("cam10"))

    async def use():
        return await handle.status(), await handle.latest_jpeg(0, 10.0), await handle.pull_detections(0, 5, 5.0)

    status, jpeg, pull = run(use())
    assert status.camera_id == "cam10" and status.state.value == "live", status
    assert jpeg is not None and (jpeg.width, jpeg.height) == (160, 96), jpeg
    assert pull.newest_sequence >= 1, "the camera publishes detection batches"
    with pytest.raises(CameraNotFound):
        run(district.client.handle("nope"))


def test_bad_requests_get_clear_errors_and_change_nothing(district):
    district.ready()
    changed = tiny_camera("cam01", district.clip).model_copy(update={"name": "another camera"})
    with pytest.raises(CameraExists, match="cam01"):
        run(district.client.add_camera(changed))
    with pytest.raises(NodeNotFound, match="no-such-node"):
        run(district.client.drain_node("no-such-node"))
    with pytest.raises(CameraNotFound, match="nope"):
        run(district.client.remove_camera("nope"))
    assert district.all_live(), district.describe()


def matthan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cluster.cli.main",
            "cluster",
            *args,
            "--address",
            district_address(),
            "--namespace",
            NAMESPACE,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # the tests assert the exit code themselves
    )


def district_address() -> str:
    return ray.get_runtime_context().gcs_address


def settled(district: District) -> bool:
    """All live, and nothing left to move."""
    report = district.report()
    return (
        report.phase_counts() == {"running": len(CAMERAS)}
        and spread(report) <= SPREAD_TOLERANCE
        and bool(district.all_live())
    )


def test_a_restarted_scheduler_adopts_every_camera_without_duplicates_or_losses(district):
    district.ready()
    wait_until(lambda: settled(district), 180, district.describe)
    pids = {v.config.id: v.status.pid for v in run(district.client.list_cameras())}
    ticks_before = district.report().ticks
    ray.kill(ray.get_actor(SCHEDULER_ACTOR_NAME, namespace=NAMESPACE), no_restart=False)  # Ray restarts it

    def resumed():
        report = district.report()
        return report.ticks < ticks_before and report.phase_counts() == {"running": 64} and district.all_live()

    wait_until(resumed, 120, district.describe)
    after = {v.config.id: v.status.pid for v in run(district.client.list_cameras())}
    assert after == pids, "the same camera processes run: adopted, not restarted"
    assert named_camera_actors(NAMESPACE) == CAMERAS, "no duplicate, no loss"


def test_cli_drains_a_node_and_shows_it(district):
    district.ready()
    report = district.report()
    worker = next(n for n in report.nodes if n.alive and not n.is_head and n.cameras)
    drained = matthan("drain", worker.node_id[:12])
    assert drained.returncode == 0, drained.stderr
    assert f"moved {len(worker.cameras)} camera(s)" in drained.stdout, drained.stdout

    def emptied():
        status = district.all_live()
        return status and not next(n for n in status.nodes if n.node_id == worker.node_id).cameras

    # A drain restarts the node's 20-odd cameras elsewhere: as long as all_live's own wait (the
    # CI of 2026-12-03 saw 28 of them still starting after 120 s on a slow VM).
    wait_until(emptied, 300, district.describe, poll_s=2.0)
    shown = matthan("status")
    assert shown.returncode == 0, shown.stderr
    assert "draining" in shown.stdout and worker.node_id[:12] in shown.stdout, shown.stdout
    assert "64 camera(s): 64 running; 64 live" in shown.stdout, shown.stdout
    moves_before = len(district.report().recent_moves)
    assert matthan("undrain", worker.node_id[:12]).returncode == 0

    def moving_back():
        report = district.report()
        node = next(n for n in report.nodes if n.node_id == worker.node_id)
        back = [m for m in report.recent_moves[moves_before:] if m.to_node == worker.node_id]
        return not node.draining and back

    # The first rebalance move onto the undrained node shows it takes cameras again;
    # waiting for the whole rebalance (20-odd actor starts) is the join test's, and
    # this test runs last so that nothing after it waits for that either.
    back = wait_until(moving_back, 120, district.describe)
    assert all(m.reason == "rebalance" for m in back), f"cameras go back by rebalancing: {back}"
