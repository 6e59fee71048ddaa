"""End to end with Ray's own autoscaler (fake node provider): cameras beyond capacity
make it launch a worker node and the scheduler places them there; when cameras are
removed the scheduler consolidates and the idle worker is released.

Sizes: every node has 1 logical CPU, 0.8 of it usable with the 20% headroom, and
a camera of an unknown source is estimated at 0.23 cores (costs are not learnt
here, so they stay put): 3 cameras fill a node.
"""

from __future__ import annotations

import time

import pytest
import ray

from cluster.scheduler.actor import ensure_scheduler
from cluster.scheduler.client import SchedulerClient
from cluster.scheduler.settings import SchedulerSettings

from .autoscaling_cluster import LocalAutoscalingCluster
from .ray_helpers import run, tiny_camera, tiny_clip, wait_until

pytestmark = pytest.mark.slow

NAMESPACE = "autoscaling-test"
IDLE_TIMEOUT_S = 6.0


@pytest.fixture
def autoscaling(tmp_path):
    if ray.is_initialized():
        ray.shutdown()  # the session's single-node Ray, if a test started it
    cluster = LocalAutoscalingCluster(head_cpus=1, worker_cpus=1, max_workers=2, idle_timeout_s=IDLE_TIMEOUT_S)
    cluster.start()
    try:
        ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False, logging_level="WARNING")
        settings = SchedulerSettings(
            namespace=NAMESPACE,
            state_dir=tmp_path / "state",
            tick_s=0.5,
            learn_costs=False,
            autoscaling=True,
            consolidate_every_s=3.0,
            max_node_cpus=1.0,
            heartbeat_timeout_s=60.0,
            start_timeout_s=120.0,
        )
        yield SchedulerClient(ensure_scheduler(settings), NAMESPACE)
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_the_autoscaler_adds_a_node_for_waiting_cameras_and_releases_it_when_they_go(autoscaling, tmp_path):
    client = autoscaling
    clip = tiny_clip(tmp_path / "clips")
    head = next(n["NodeID"] for n in ray.nodes() if n["Alive"])

    def report():
        return run(client.report())

    def describe():
        r = report()
        return (
            f"phases {r.phase_counts()}, nodes {[(n.node_id[-6:], n.alive, n.cameras) for n in r.nodes]}, "
            f"unplaced {[u.camera_id for u in r.unplaced]}, request {len(r.requested_bundles)}"
        )

    def live(count):
        status = run(client.cluster_status())
        return status.cameras_live == status.cameras_configured == count and status

    for i in range(3):
        run(client.add_camera(tiny_camera(f"cam{i}", clip)))
    wait_until(lambda: live(3), 120, describe)
    assert [n.node_id for n in run(client.cluster_status()).nodes if n.cameras] == [head], "3 fit the head"

    started = time.monotonic()
    for i in range(3, 6):
        run(client.add_camera(tiny_camera(f"cam{i}", clip)))
    waiting = report()
    assert len(waiting.unplaced) == 3 and all(u.reason.value == "no_capacity" for u in waiting.unplaced), describe()
    assert len(waiting.requested_bundles) == 6, "the autoscaler is asked to fit the whole demand"
    status = wait_until(lambda: live(6), 180, describe)
    print(f"\nautoscaler: node launched and 3 waiting cameras live after {time.monotonic() - started:.1f} s")
    workers = [n for n in status.nodes if n.alive and n.node_id != head]
    assert len(workers) == 1 and len(workers[0].cameras) == 3, f"one new node runs the 3 waiting cameras: {status}"
    assert report().requested_bundles == (), "the request is withdrawn once every camera runs"

    # Leave one camera on the head and two on the worker: they fit the head, so the
    # scheduler moves them there and the idle worker is released.
    head_cameras = next(n.cameras for n in status.nodes if n.node_id == head)
    for cid in list(head_cameras[:2]) + list(workers[0].cameras[:1]):
        run(client.remove_camera(cid))
    started = time.monotonic()

    def released():
        nodes = {n["NodeID"]: n["Alive"] for n in ray.nodes()}
        return not nodes.get(workers[0].node_id, False) and live(3)

    status = wait_until(released, 180, describe)
    print(f"autoscaler: worker emptied and released after {time.monotonic() - started:.1f} s")
    assert [n.node_id for n in status.nodes if n.cameras] == [head], f"all 3 cameras on the head: {status}"
    moves = [m.reason for m in report().recent_moves]
    assert moves.count("consolidate") == 2, f"the worker's 2 cameras were consolidated: {moves}"
