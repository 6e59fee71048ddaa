"""A node over its usable capacity that no move can relieve sheds its lowest priorities
(`plan()` step 3b, issue 15's overload fault): cameras admitted at less than they turn
out to cost must not leave a node over its share for ever."""

from __future__ import annotations

import math

from hypothesis import given

from cluster.scheduler.model import LOAD_EPSILON, CameraDemand, MoveReason, NodeCapacity, UnplacedReason
from cluster.scheduler.placement import SHED_TOLERANCE, plan

from .test_placement_priority import PROPERTY_SETTINGS, prioritised
from .test_placement_properties import Scenario, scenarios


def demand(**specs: tuple[float, int]) -> list[CameraDemand]:
    """camera id -> (cost, priority)."""
    return [CameraDemand(cid, cost, priority) for cid, (cost, priority) in specs.items()]


def on(node_id: str, cameras: list[CameraDemand]) -> dict[str, str]:
    return {c.camera_id: node_id for c in cameras}


ONE_NODE = [NodeCapacity("a", 1.0)]


def test_an_overloaded_node_with_nowhere_to_move_sheds_its_lowest_priorities_until_it_fits():
    # Admitted at 0.2 each, they measure 0.35: 1.4 cores on a node with 1.0 usable.
    cameras = demand(high=(0.35, 90), mid=(0.35, 50), low=(0.35, 10), lowest=(0.35, 0))
    p = plan(ONE_NODE, cameras, on("a", cameras), headroom=0.0)

    assert p.overload_shed == ("lowest", "low"), f"the two lowest priorities are shed, no more: {p.overload_shed}"
    assert set(p.assignments) == {"high", "mid"}, f"the higher priorities keep running: {p.assignments}"
    assert p.overloaded_nodes == (), f"the node is back within its usable capacity: {p.load} of {p.usable}"
    assert p.shed == (), f"nothing was displaced for a camera of higher priority: {p.shed}"
    assert p.moves == () and p.started == (), f"the cameras kept do not restart: {p.moves} {p.started}"


def test_a_shed_camera_is_unplaced_for_lack_of_room_with_the_reason_naming_the_overload():
    cameras = demand(high=(0.6, 90), low=(0.6, 10))
    p = plan(ONE_NODE, cameras, on("a", cameras), headroom=0.0)

    (u,) = p.unplaced
    assert (u.camera_id, u.reason) == ("low", UnplacedReason.NO_CAPACITY), f"it waits for room: {u}"
    assert "shed" in u.detail and "node a" in u.detail, f"the detail says it was shed from its node: {u.detail}"
    assert "1.200" in u.detail and "1.000" in u.detail, f"and names the node's cost and usable CPU: {u.detail}"
    assert p.autoscaler_demand == ({"CPU": 0.6},), f"the shed camera is room to ask for: {p.autoscaler_demand}"


def test_among_equal_priorities_the_biggest_goes_first_and_a_smaller_lower_one_keeps_the_room_left():
    # Taking off `lowest` (0.1) leaves 1.35, `mid-big` (0.5) then 0.85: back within 1.0, and
    # `lowest` fits the 0.15 left, so it keeps running; `mid-small` is never touched.
    cameras = demand(high=(0.6, 90), **{"mid-big": (0.5, 50), "mid-small": (0.25, 50)}, lowest=(0.1, 0))
    p = plan(ONE_NODE, cameras, on("a", cameras), headroom=0.0)

    assert p.overload_shed == ("mid-big",), f"the biggest of the lowest priority needed goes: {p.overload_shed}"
    assert set(p.assignments) == {"high", "mid-small", "lowest"}, f"room left is used: {p.assignments}"
    assert p.overloaded_nodes == (), f"{p.load}"


def test_a_node_that_moves_can_relieve_is_relieved_by_moves_not_shedding():
    cameras = demand(x=(0.4, 10), y=(0.4, 10), z=(0.4, 90))
    p = plan([NodeCapacity("a", 1.0), NodeCapacity("b", 1.0)], cameras, on("a", cameras), headroom=0.0)

    assert p.overload_shed == () and p.unplaced == (), f"nothing shed while another node has room: {p.unplaced}"
    assert [m.reason for m in p.moves] == [MoveReason.OVERLOAD], f"one camera moves off: {p.moves}"


def test_nothing_is_shed_while_the_move_budget_stops_relief_that_moves_could_bring():
    cameras = demand(x=(0.4, 10), y=(0.4, 10), z=(0.4, 90))
    p = plan([NodeCapacity("a", 1.0), NodeCapacity("b", 1.0)], cameras, on("a", cameras), headroom=0.0, max_moves=0)

    assert p.overload_shed == () and p.unplaced == (), "a later plan moves one instead"
    assert p.overloaded_nodes == ("a",) and not p.converged, f"the overload stays visible meanwhile: {p.load}"


def test_a_node_is_not_shed_while_one_of_its_cameras_is_not_measured_yet():
    cameras = demand(high=(0.6, 90), low=(0.6, 10))
    p = plan(ONE_NODE, cameras, on("a", cameras), headroom=0.0, settling={"high"})

    assert p.overload_shed == () and p.unplaced == (), f"its load is a guess until then: {p.unplaced}"
    assert p.overloaded_nodes == ("a",), f"the overload stays visible: {p.load}"


def test_replanning_after_shedding_changes_nothing():
    cameras = demand(high=(0.35, 90), mid=(0.35, 50), low=(0.35, 10), lowest=(0.35, 0))
    first = plan(ONE_NODE, cameras, on("a", cameras), headroom=0.0)
    again = plan(ONE_NODE, cameras, first.assignments, headroom=0.0)

    assert (again.assignments, again.moves, again.started) == (first.assignments, (), ()), (
        f"the shed cameras wait; nothing is started or stopped again: {again}"
    )
    assert {u.camera_id for u in again.unplaced} == {"lowest", "low"}, f"{again.unplaced}"


def test_a_node_over_by_less_than_the_tolerance_is_left_to_its_headroom():
    cameras = demand(high=(0.52, 90), low=(0.52, 10))  # 1.04 of 1.0: measurement noise around a full node
    p = plan(ONE_NODE, cameras, on("a", cameras), headroom=0.0)

    assert SHED_TOLERANCE > 0.04 and p.overload_shed == () and p.unplaced == (), f"nothing shed: {p.unplaced}"


@PROPERTY_SETTINGS
@given(scenarios(all_sticky=True))
def test_a_converged_plan_leaves_no_node_over_its_usable_capacity_beyond_the_tolerance(s: Scenario):
    p = s.run()
    if p.converged:
        over = {n: p.load[n] for n, u in p.usable.items() if p.load[n] > u * (1 + SHED_TOLERANCE) + LOAD_EPSILON}
        assert not over, f"converged, yet over: {over} of {p.usable} (shed {p.overload_shed})"
        for node in {s.current[c] for c in p.overload_shed}:
            assert p.load[node] <= p.usable[node] + LOAD_EPSILON, f"{node} shed only to its tolerance: {p.load}"


@PROPERTY_SETTINGS
@given(prioritised())
def test_a_camera_is_shed_only_from_an_overloaded_node_and_never_before_a_lower_priority_there(s: Scenario):
    p = s.run()
    priority = {c.camera_id: c.priority for c in s.cameras}
    unplaced = {u.camera_id for u in p.unplaced}
    assert set(p.overload_shed) <= unplaced & set(s.current), f"shed cameras were running: {p.overload_shed}"
    for cam in p.overload_shed:
        node = s.current[cam]
        lower_kept = [c for c, n in p.assignments.items() if n == node and priority[c] < priority[cam]]
        if lower_kept:
            cost = {c.camera_id: c.cost for c in s.cameras}
            kept = math.fsum(cost[c] for c, n in p.assignments.items() if n == node and priority[c] >= priority[cam])
            assert kept + cost[cam] > p.usable[node] + LOAD_EPSILON, (
                f"{cam} was shed while {lower_kept} of lower priority run on {node}, and it would fit without them"
            )


def test_a_camera_too_big_for_its_node_alone_is_shed_as_too_big_and_says_it_was_shed():
    cameras = demand(high=(0.3, 90), huge=(1.5, 10))
    p = plan(ONE_NODE, cameras, on("a", cameras), headroom=0.0)

    (u,) = p.unplaced
    assert (u.camera_id, u.reason) == ("huge", UnplacedReason.TOO_BIG), f"no node could ever hold it: {u}"
    assert u.detail.startswith("shed from node a"), f"and it was running there until now: {u.detail}"
    assert p.autoscaler_demand == (), "more nodes of this size would not help"
