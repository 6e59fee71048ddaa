"""One test per placement rule of `plan()` and `consolidate()`."""

from __future__ import annotations

import math
import random

import pytest

from cluster.scheduler.model import CameraDemand, MoveReason, NodeCapacity, PlacementError, UnplacedReason
from cluster.scheduler.placement import consolidate, plan


def nodes(*specs: tuple[str, float] | tuple[str, float, bool]) -> list[NodeCapacity]:
    return [NodeCapacity(*spec) for spec in specs]


def cams(**costs: float) -> list[CameraDemand]:
    return [CameraDemand(cid, cost) for cid, cost in costs.items()]


def uniform(prefix: str, count: int, cost: float) -> list[CameraDemand]:
    return [CameraDemand(f"{prefix}{i:02d}", cost) for i in range(count)]


def on(node_id: str, cameras: list[CameraDemand]) -> dict[str, str]:
    return {c.camera_id: node_id for c in cameras}


def imbalance(p) -> float:
    return sum(p.load[n] ** 2 / u for n, u in p.usable.items())


# --- new cameras -----------------------------------------------------------------------------------


def test_new_camera_goes_to_the_least_utilised_node():
    existing = uniform("old", 2, 0.1)
    p = plan(nodes(("a", 2.0), ("b", 2.0)), existing + cams(new=0.1), on("a", existing), headroom=0.0)
    assert p.assignments["new"] == "b", f"b is empty, a is at 0.2 cores: {p.assignments}"
    assert p.started == ("new",), "a new camera is started, not moved"
    assert p.moves == (), "placing a new camera moves nothing"


def test_utilisation_is_relative_to_node_size():
    # big carries more cores (0.5 of 4) than small (0.2 of 1) but is less utilised.
    big_cams, small_cams = uniform("b", 5, 0.1), uniform("s", 2, 0.1)
    current = on("big", big_cams) | on("small", small_cams)
    fleet = nodes(("big", 4.0), ("small", 1.0))
    p = plan(fleet, big_cams + small_cams + cams(new=0.1), current, headroom=0.0)
    assert p.assignments["new"] == "big", f"big ends at 15% and small would at 30%: {p.assignments}"


def test_biggest_cameras_are_placed_first():
    # Smallest-first onto the emptier node would strand one 0.5; biggest-first fits all exactly.
    demand = cams(a_small=0.2, b_small=0.3, x_big=0.5, y_big=0.5, z_big=0.5)  # ids sort small first
    p = plan(nodes(("a", 1.0), ("b", 1.0)), demand, {}, headroom=0.0)
    assert p.unplaced == (), f"first-fit decreasing fits all five cameras, got unplaced {p.unplaced}"
    assert max(p.load.values()) <= 1.0 + 1e-9, f"no node may exceed its capacity: {p.load}"


def test_headroom_is_kept_free():
    p = plan(nodes(("a", 1.0)), uniform("c", 10, 0.1), {}, headroom=0.2)
    assert len(p.assignments) == 8, f"1 core with 20% headroom holds 8 cameras of 0.1, got {len(p.assignments)}"
    assert p.load["a"] <= 0.8 + 1e-9, f"load {p.load['a']} eats into the headroom"


# --- stickiness and hysteresis ---------------------------------------------------------------------


def test_small_imbalance_does_not_cause_moves():
    a_cams, b_cams = uniform("a", 5, 0.1), uniform("b", 4, 0.1)
    current = on("a", a_cams) | on("b", b_cams)
    p = plan(nodes(("a", 1.0), ("b", 1.0)), a_cams + b_cams, current, headroom=0.0, hysteresis=0.15, max_moves=10)
    assert p.moves == (), f"a spread of 0.1 is under the 0.15 hysteresis, yet moves {p.moves}"
    assert p.assignments == current, "every camera should stay where it is"


def test_imbalance_above_hysteresis_rebalances():
    a_cams = uniform("a", 8, 0.1)
    p = plan(nodes(("a", 1.0), ("b", 1.0)), a_cams, on("a", a_cams), headroom=0.0, hysteresis=0.15, max_moves=10)
    assert all(m.reason is MoveReason.REBALANCE for m in p.moves), f"unexpected reasons in {p.moves}"
    assert p.spread <= 0.15 + 1e-9, f"rebalancing should bring the spread within the hysteresis, got {p.spread}"
    assert len(p.moves) == 4, f"0.8/0.0 -> 0.4/0.4 takes 4 moves (0.5/0.3 is still outside), got {len(p.moves)}"
    assert p.converged, "the budget was not exhausted"


def test_rebalancing_stops_once_inside_the_hysteresis_band():
    a_cams = uniform("a", 8, 0.1)
    p = plan(nodes(("a", 1.0), ("b", 1.0)), a_cams, on("a", a_cams), headroom=0.0, hysteresis=0.25, max_moves=10)
    assert len(p.moves) == 3, f"0.5/0.3 is within 0.25, so the 4th move is churn; got {len(p.moves)} moves"


def test_node_join_rebalance_is_bounded_by_max_moves():
    a_cams, b_cams = uniform("a", 10, 0.15), uniform("b", 10, 0.15)
    current = on("a", a_cams) | on("b", b_cams)
    fleet = nodes(("a", 2.0), ("b", 2.0), ("new", 2.0))
    p = plan(fleet, a_cams + b_cams, current, max_moves=2)
    assert len(p.moves) == 2, f"max_moves=2 but {len(p.moves)} moves"
    assert {m.to_node for m in p.moves} == {"new"}, f"moves should fill the joined node: {p.moves}"
    assert not p.converged, "the budget ran out with imbalance left, so the plan is not converged"


def test_each_rebalance_move_strictly_reduces_imbalance():
    a_cams = uniform("a", 12, 0.1) + cams(big=0.4)
    fleet = nodes(("a", 2.0), ("b", 2.0), ("c", 1.0))
    current = on("a", a_cams)
    previous = imbalance(plan(fleet, a_cams, current, max_moves=0))
    for step in range(20):
        p = plan(fleet, a_cams, current, max_moves=1)
        if not p.moves:
            break
        now = imbalance(p)
        assert now < previous - 1e-12, f"step {step}: move {p.moves} raised imbalance {previous} -> {now}"
        previous, current = now, p.assignments
    else:
        pytest.fail("rebalancing one move at a time did not settle in 20 plans")


# --- evacuation ------------------------------------------------------------------------------------


def test_cameras_on_a_dead_node_are_evacuated_without_a_move_cap():
    dead_cams = uniform("d", 6, 0.1)
    fleet = nodes(("dead", 2.0, False), ("a", 2.0), ("b", 2.0))
    p = plan(fleet, dead_cams, on("dead", dead_cams), max_moves=0)
    assert len(p.moves) == 6, f"all 6 cameras of the dead node must move despite max_moves=0: {p.moves}"
    assert all(m.reason is MoveReason.NODE_DEAD and m.from_node == "dead" for m in p.moves), f"{p.moves}"
    assert p.load["a"] == pytest.approx(0.3) and p.load["b"] == pytest.approx(0.3), f"spread evenly: {p.load}"
    assert p.voluntary_moves == 0, "evacuations are not voluntary"


def test_camera_on_an_unlisted_node_counts_as_dead():
    p = plan(nodes(("a", 2.0)), cams(x=0.1), {"x": "vanished"})
    assert [(m.camera_id, m.from_node, m.reason) for m in p.moves] == [("x", "vanished", MoveReason.NODE_DEAD)]


def test_draining_node_is_emptied_and_receives_nothing():
    d_cams = uniform("d", 4, 0.2)
    fleet = nodes(("drain", 2.0), ("a", 2.0))
    p = plan(fleet, d_cams + cams(new=0.1), on("drain", d_cams), max_moves=0, draining={"drain"})
    assert set(p.assignments.values()) == {"a"}, f"nothing may stay on or go to a draining node: {p.assignments}"
    assert sorted(m.reason for m in p.moves) == [MoveReason.NODE_DRAINING] * 4, f"{p.moves}"
    assert p.load["drain"] == 0.0, "the drained node should end empty"


def test_draining_without_room_keeps_cameras_running_and_asks_for_capacity():
    d_cams = uniform("d", 4, 0.4)
    fleet = nodes(("drain", 2.0), ("a", 1.0))
    p = plan(fleet, d_cams, on("drain", d_cams), headroom=0.0, draining={"drain"})
    assert len(p.moves) == 2, f"a has room for two 0.4 cameras: {p.moves}"
    assert len(p.stranded) == 2, f"the other two stay on the draining node: {p.stranded}"
    assert all(p.assignments[c] == "drain" for c in p.stranded), "stranded cameras keep running where they are"
    assert p.autoscaler_demand == ({"CPU": 0.4}, {"CPU": 0.4}), f"stranded cameras need room: {p.autoscaler_demand}"


def test_node_without_capacity_is_treated_as_draining():
    p = plan(nodes(("head", 0.0), ("a", 2.0)), cams(x=0.1), {"x": "head"})
    assert p.assignments == {"x": "a"}, "a camera must leave a node that offers no CPU"
    assert p.moves[0].reason is MoveReason.NODE_DRAINING, f"{p.moves}"


# --- overload --------------------------------------------------------------------------------------


def test_overloaded_node_is_relieved_within_max_moves():
    a_cams = uniform("a", 10, 0.12)  # 1.2 cores on a node with 1.0 usable: costs grew
    fleet = nodes(("a", 1.0), ("b", 1.0))
    p = plan(fleet, a_cams, on("a", a_cams), headroom=0.0, hysteresis=10.0, max_moves=2)
    assert [m.reason for m in p.moves] == [MoveReason.OVERLOAD] * 2, f"{p.moves}"
    assert p.overloaded_nodes == (), f"two moves of 0.12 relieve 0.2 of overload: {p.load}"


def test_overload_stays_visible_when_moves_are_not_allowed():
    a_cams = uniform("a", 10, 0.12)
    p = plan(nodes(("a", 1.0), ("b", 1.0)), a_cams, on("a", a_cams), headroom=0.0, max_moves=0)
    assert p.moves == (), "max_moves=0 forbids voluntary moves"
    assert p.overloaded_nodes == ("a",), "the overload must be reported"
    assert not p.converged, "relief was possible but not allowed"


# --- unplaced and autoscaler demand ----------------------------------------------------------------


def test_oversize_camera_is_unplaced_with_reason():
    p = plan(nodes(("a", 2.0), ("b", 1.0)), cams(huge=1.7, ok=0.2), {}, headroom=0.2)
    assert p.assignments == {"ok": "a"}, f"{p.assignments}"
    (u,) = p.unplaced
    assert (u.camera_id, u.reason) == ("huge", UnplacedReason.TOO_BIG), f"{u}"
    assert "1.600" in u.detail, f"the detail should name the largest usable capacity: {u.detail}"
    assert p.autoscaler_demand == (), "more nodes of the same size cannot hold it"


def test_missing_capacity_becomes_autoscaler_demand():
    a_cams = uniform("a", 7, 0.2)
    p = plan(nodes(("a", 2.0)), a_cams + cams(n1=0.3, n2=0.25), on("a", a_cams), headroom=0.2)
    assert {u.camera_id for u in p.unplaced} == {"n1", "n2"}, f"a has 0.2 cores free: {p.unplaced}"
    assert all(u.reason is UnplacedReason.NO_CAPACITY for u in p.unplaced), f"{p.unplaced}"
    assert p.autoscaler_demand == ({"CPU": 0.375}, {"CPU": 0.3125}), (
        f"bundles are cost / (1 - headroom), biggest first: {p.autoscaler_demand}"
    )


def test_no_schedulable_node_asks_for_everything():
    p = plan(nodes(("gone", 4.0, False)), cams(x=0.5, y=3.0), {}, headroom=0.5)
    assert {u.reason for u in p.unplaced} == {UnplacedReason.NO_CAPACITY}, f"{p.unplaced}"
    assert p.autoscaler_demand == ({"CPU": 6.0}, {"CPU": 1.0}), f"{p.autoscaler_demand}"


def test_camera_that_fits_after_rebalancing_is_placed_in_the_same_plan():
    # big has 2.0 free, small is empty: the 2.5 camera fits nowhere until one 1.0 camera
    # moves from big to small, which rebalancing does anyway.
    big_cams = uniform("b", 8, 1.0)
    fleet = nodes(("big", 10.0), ("small", 1.0))
    p = plan(fleet, big_cams + cams(wide=2.5), on("big", big_cams), headroom=0.0, max_moves=4)
    assert p.assignments.get("wide") == "big", f"the freed room should be used: {p.assignments}, {p.unplaced}"
    assert p.converged, "nothing is left to do"


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fleet", "demand", "options", "message"),
    [
        (nodes(("a", 1.0)), cams(x=0.1) + cams(x=0.2), {}, "duplicate camera id 'x'"),
        (nodes(("a", 1.0), ("a", 2.0)), [], {}, "duplicate node id 'a'"),
        (nodes(("a", 1.0)), cams(x=-0.1), {}, "camera 'x' has cost -0.1"),
        (nodes(("a", 1.0)), cams(x=math.nan), {}, "camera 'x' has cost nan"),
        (nodes(("a", -1.0)), [], {}, "node 'a' has capacity -1.0"),
        (nodes(("a", 1.0)), [], {"headroom": 1.0}, "headroom"),
        (nodes(("a", 1.0)), [], {"max_moves": -1}, "max_moves"),
        (nodes(("a", 1.0)), [], {"hysteresis": -0.1}, "hysteresis"),
        (nodes(("a", 1.0), ("b", 1.0, False)), [], {"draining": {"a"}}, "cannot drain a"),
    ],
)
def test_impossible_requests_raise_placement_error(fleet, demand, options, message):
    with pytest.raises(PlacementError, match=message):
        plan(fleet, demand, {}, **options)


def test_placement_error_is_a_value_error():
    assert issubclass(PlacementError, ValueError), "callers may catch ValueError"


def test_current_entries_of_removed_cameras_are_ignored():
    p = plan(nodes(("a", 1.0)), cams(x=0.1), {"x": "a", "removed": "a"})
    assert p.assignments == {"x": "a"} and p.moves == (), f"{p}"


def test_plan_does_not_depend_on_input_order():
    fleet = nodes(("a", 2.0), ("b", 2.0), ("c", 1.0), ("d", 1.0, False))
    demand = [CameraDemand(f"c{i:02d}", 0.05 + (i * 7 % 11) / 20) for i in range(20)]
    current = {c.camera_id: "abd"[i % 3] for i, c in enumerate(demand[:15])}
    reference = plan(fleet, demand, current, max_moves=3)
    rng = random.Random(7)
    for _ in range(5):
        shuffled_nodes, shuffled_demand = fleet[:], demand[:]
        rng.shuffle(shuffled_nodes)
        rng.shuffle(shuffled_demand)
        assert plan(shuffled_nodes, shuffled_demand, current, max_moves=3) == reference, "plan depends on order"


# --- consolidation ---------------------------------------------------------------------------------


def test_consolidate_empties_the_least_loaded_node():
    a_cams, b_cams, c_cams = uniform("a", 3, 0.2), uniform("b", 2, 0.2), uniform("c", 1, 0.2)
    current = on("a", a_cams) | on("b", b_cams) | on("c", c_cams)
    p = consolidate(nodes(("a", 2.0), ("b", 2.0), ("c", 2.0)), a_cams + b_cams + c_cams, current, max_moves=4)
    assert p.idle_nodes == ("b", "c"), f"c (1 camera) then b (2 cameras) can be emptied: {p.load}"
    assert all(m.reason is MoveReason.CONSOLIDATE for m in p.moves) and len(p.moves) == 3, f"{p.moves}"


def test_consolidate_respects_max_moves_per_node():
    a_cams, b_cams = uniform("a", 2, 0.2), uniform("b", 3, 0.2)
    current = on("a", a_cams) | on("b", b_cams)
    p = consolidate(nodes(("a", 2.0), ("b", 2.0)), a_cams + b_cams, current, max_moves=1)
    assert p.moves == (), f"emptying a needs 2 moves, b needs 3; max_moves=1 allows neither: {p.moves}"


def test_consolidate_only_if_the_rest_fit():
    a_cams, b_cams = uniform("a", 4, 0.2), uniform("b", 4, 0.2)
    current = on("a", a_cams) | on("b", b_cams)
    p = consolidate(nodes(("a", 1.0), ("b", 1.0)), a_cams + b_cams, current, headroom=0.2, max_moves=10)
    assert p.moves == (), f"1.6 cores do not fit one node of 0.8 usable: {p.moves}"


def test_consolidate_does_nothing_while_capacity_is_short():
    a_cams, b_cams = uniform("a", 1, 0.1), uniform("b", 7, 0.1)
    current = on("a", a_cams) | on("b", b_cams)
    p = consolidate(nodes(("a", 1.0), ("b", 1.0)), a_cams + b_cams + cams(wide=0.95), current, headroom=0.0)
    assert p.moves == () and p.unplaced, f"with a camera unplaced, demand has not dropped: {p}"


def test_consolidate_never_empties_the_last_node():
    a_cams = uniform("a", 2, 0.1)
    p = consolidate(nodes(("a", 2.0), ("idle", 2.0)), a_cams, on("a", a_cams), max_moves=10)
    assert p.moves == () and p.idle_nodes == ("idle",), f"only idle may go, a has nowhere to send cameras: {p}"
