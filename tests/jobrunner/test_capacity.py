"""Room for batch segments from the scheduler's own report (`cluster/jobrunner/capacity.py`):
the report comes from a real scheduler controller over the in-memory cluster of the
scheduler tests, with cameras placed and measured."""

from __future__ import annotations

import dataclasses
import math

import pytest

from cluster.jobrunner.capacity import FALLBACK_SEGMENTS, SlotPlan, camera_use, plan_slots
from cluster.scheduler.report import NodeReport
from cluster.scheduler.requests import AddCamera, DrainNode
from tests.scheduler.fakes import Harness, camera


def scheduler_with_cameras(nodes: dict[str, float], cameras: int) -> Harness:
    h = Harness()
    for number, (node_id, cpus) in enumerate(nodes.items()):
        h.cluster.add_node(node_id, cpus, head=number == 0)
    for i in range(cameras):
        h.ctl.submit(AddCamera(camera(f"cam{i}")))
    h.steps(3)
    assert set(h.phases().values()) == ({"running"} if cameras else set()), f"the cameras run: {h.phases()}"
    return h


def node(report_nodes, node_id: str) -> NodeReport:
    return next(n for n in report_nodes if n.node_id == node_id)


def test_a_node_offers_its_usable_cpus_minus_what_its_cameras_reserve():
    h = scheduler_with_cameras({"head": 4.0}, cameras=3)
    nodes = h.ctl.report().nodes
    head = node(nodes, "head")
    assert head.reserved > 0.5 and head.measured < head.reserved, f"three cameras reserved, measured less: {head}"
    plan = plan_slots(nodes, cpus_per_segment=0.5, live_reserve_cpus=0.0, running={})
    expected = math.floor((head.usable - head.reserved) / 0.5)
    assert plan.per_node == {"head": expected}, f"usable {head.usable} - reserved {head.reserved}: {plan}"
    assert head.usable == pytest.approx(4.0 * (1 - h.ctl.settings.headroom)), "the headroom is not batch's"


def test_cameras_that_measure_more_than_their_estimate_count_at_their_measurement():
    h = scheduler_with_cameras({"head": 4.0}, cameras=2)
    for actor in h.cluster.named.values():
        actor.cpu_percent = 120.0  # learn_costs is off: the estimates stay the priors
    h.steps(2)
    head = node(h.ctl.report().nodes, "head")
    assert head.measured == pytest.approx(2.4) and head.measured > head.reserved, head
    plan = plan_slots(h.ctl.report().nodes, cpus_per_segment=0.25, live_reserve_cpus=0.0, running={})
    assert camera_use(head) == pytest.approx(2.4), "the larger of reserved and measured"
    assert plan.per_node == {"head": math.floor((head.usable - 2.4) / 0.25 + 1e-9)}, plan


def test_segments_already_running_on_a_node_take_their_share_of_its_room():
    h = scheduler_with_cameras({"head": 4.0}, cameras=1)
    nodes = h.ctl.report().nodes
    free = plan_slots(nodes, cpus_per_segment=1.0, live_reserve_cpus=0.0, running={}).total
    assert free >= 2, f"room for two segments on an almost empty 4-CPU node: {free}"
    assert plan_slots(nodes, cpus_per_segment=1.0, live_reserve_cpus=0.0, running={"head": 2}).total == free - 2
    assert plan_slots(nodes, cpus_per_segment=1.0, live_reserve_cpus=0.0, running={"head": free}).total == 0


def test_the_live_reserve_stays_idle_in_the_cluster_as_a_whole():
    h = scheduler_with_cameras({"head": 4.0, "worker": 4.0}, cameras=2)
    nodes = h.ctl.report().nodes
    rooms = [n.usable - camera_use(n) for n in nodes]
    idle = sum(n.cpus - camera_use(n) for n in nodes)
    for reserve in (0.0, 3.5, 5.5):
        plan = plan_slots(nodes, cpus_per_segment=1.0, live_reserve_cpus=reserve, running={})
        assert idle - plan.total >= reserve - 1e-9, f"reserve {reserve} stays idle: {plan.total} of {idle:.2f}"
        fits = min(sum(math.floor(r) for r in rooms), math.floor(idle - reserve))
        assert plan.total == fits, f"reserve {reserve}: every slot that keeps it is offered ({rooms}): {plan}"


def test_the_headroom_counts_toward_the_reserve_on_a_small_node():
    h = scheduler_with_cameras({"head": 2.0}, cameras=0)
    nodes = h.ctl.report().nodes
    assert node(nodes, "head").usable == pytest.approx(1.6), "20% headroom"
    plan = plan_slots(nodes, cpus_per_segment=1.0, live_reserve_cpus=1.0, running={})
    assert plan.per_node == {"head": 1}, f"one segment, 1.0 idle (0.4 of it the headroom): {plan}"


def test_dead_draining_and_releasing_nodes_take_no_segment():
    h = scheduler_with_cameras({"head": 4.0, "worker": 4.0}, cameras=1)
    h.do(DrainNode("worker"))
    nodes = h.ctl.report().nodes
    assert node(nodes, "worker").draining, "the worker is draining"
    plan = plan_slots(nodes, cpus_per_segment=1.0, live_reserve_cpus=0.0, running={})
    assert "worker" not in plan.per_node and plan.per_node.get("head", 0) > 0, f"only the head: {plan}"
    head = node(nodes, "head")
    for gone in (
        dataclasses.replace(head, usable=0.0),  # the head node, with use_head_node off
        dataclasses.replace(head, alive=False),
        dataclasses.replace(head, suspect=True),
        dataclasses.replace(head, releasing=True),
        dataclasses.replace(head, draining=True),
    ):
        assert plan_slots([gone], cpus_per_segment=1.0, live_reserve_cpus=0.0, running={}).total == 0, gone


def test_nodes_with_the_most_room_are_filled_first():
    big = NodeReport("b", "10.0.0.2", True, cpus=8.0, usable=8.0, load=1.0, cameras=("x",))
    small = NodeReport("a", "10.0.0.1", True, cpus=2.0, usable=2.0, load=0.0, cameras=())
    plan = plan_slots([small, big], cpus_per_segment=1.0, live_reserve_cpus=6.0, running={})
    assert plan.per_node == {"b": 3}, f"7 + 2 free, 6 kept: the three go to the roomier node: {plan}"
    assert [plan.take() for _ in range(3)] == ["b", "b", "b"]
    with pytest.raises(LookupError):
        plan.take()


def test_without_the_scheduler_the_fallback_is_one_segment_placed_by_ray():
    plan = plan_slots(None, cpus_per_segment=1.0, live_reserve_cpus=1.0, running={})
    assert (plan.total, plan.anywhere, plan.from_scheduler) == (FALLBACK_SEGMENTS, FALLBACK_SEGMENTS, False), plan
    assert plan.take() is None, "Ray places it"
    assert plan_slots(None, cpus_per_segment=1.0, live_reserve_cpus=0.0, running={"head": 1}).total == 0, (
        "a segment running anywhere uses the fallback's slot"
    )


def test_segments_ray_placed_count_against_the_cluster_once_the_scheduler_answers():
    only = NodeReport("a", "10.0.0.1", True, cpus=4.0, usable=4.0, load=0.0, cameras=())
    assert plan_slots([only], cpus_per_segment=1.0, live_reserve_cpus=1.0, running={}).total == 3
    assert plan_slots([only], cpus_per_segment=1.0, live_reserve_cpus=1.0, running={None: 1}).total == 2


def test_a_plan_hands_out_its_slots_most_first():
    plan = SlotPlan(per_node={"a": 1, "b": 2})
    assert [plan.take() for _ in range(3)] == ["b", "a", "b"], "ties by node id"
    assert plan.total == 0


# ---------------------------------------------------------------- why a plan has no slot


def test_a_plan_with_slots_has_no_waiting_reason():
    only = NodeReport("a", "10.0.0.1", True, cpus=4.0, usable=4.0, load=0.0, cameras=())
    plan = plan_slots([only], cpus_per_segment=1.0, live_reserve_cpus=0.0, running={})
    assert plan.total and plan.waiting == "", plan


def test_no_room_on_any_node_names_what_a_segment_needs_and_the_roomiest_node():
    h = scheduler_with_cameras({"head": 2.0, "worker-node-1": 4.0}, cameras=2)
    nodes = h.ctl.report().nodes
    worker = node(nodes, "worker-node-1")
    plan = plan_slots(nodes, cpus_per_segment=8.0, live_reserve_cpus=0.0, running={})
    assert plan.total == 0, plan
    free = worker.usable - camera_use(worker)
    assert plan.waiting == (
        f"waiting for room: a segment needs 8.00 cores and the most any node has free is {free:.2f} "
        f"(node worker-n: {worker.usable:.2f} usable, its cameras {camera_use(worker):.2f}, 0 segment(s) running)"
    ), plan.waiting


def test_the_live_reserve_is_named_when_it_is_what_keeps_a_segment_out():
    only = NodeReport("a", "10.0.0.1", True, cpus=4.0, usable=4.0, load=0.0, cameras=())
    plan = plan_slots([only], cpus_per_segment=1.0, live_reserve_cpus=3.5, running={})
    assert plan.total == 0, plan
    assert plan.waiting == (
        "waiting for room: the cluster keeps 3.50 cores idle for live cameras (batch.live_reserve_cpus) "
        "and 4.00 are idle"
    ), plan.waiting


def test_nodes_that_take_no_work_are_named_as_the_reason():
    draining = NodeReport("a", "10.0.0.1", True, cpus=4.0, usable=4.0, load=0.0, cameras=(), draining=True)
    plan = plan_slots([draining], cpus_per_segment=1.0, live_reserve_cpus=0.0, running={})
    assert plan.waiting.startswith("waiting for room: none of the 1 node(s) takes batch work"), plan.waiting


def test_a_silent_scheduler_with_the_fallback_used_says_so():
    plan = plan_slots(None, cpus_per_segment=1.0, live_reserve_cpus=0.0, running={None: 1})
    assert plan.waiting == (
        "waiting for room: the scheduler does not answer, and until it does at most 1 segment(s) run in the "
        "cluster (1 running)"
    ), plan.waiting
