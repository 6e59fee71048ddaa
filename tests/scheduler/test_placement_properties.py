"""Properties of `plan()` and `consolidate()` over generated clusters (hypothesis).

What is guaranteed, and so tested, is stated in cluster/scheduler/placement.py:
greedy first-fit decreasing never overfills and places a camera whenever it fits
some node at its turn; it is not an optimal bin packing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.scheduler.model import (
    EVACUATION_REASONS,
    LOAD_EPSILON,
    CameraDemand,
    MoveReason,
    NodeCapacity,
    PlacementError,
    PlacementPlan,
    UnplacedReason,
)
from cluster.scheduler.placement import consolidate, plan

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@dataclass(frozen=True)
class Scenario:
    nodes: list[NodeCapacity]
    cameras: list[CameraDemand]
    current: dict[str, str]
    max_moves: int
    headroom: float
    hysteresis: float
    draining: frozenset[str]

    def options(self) -> dict:
        return {
            "max_moves": self.max_moves,
            "headroom": self.headroom,
            "hysteresis": self.hysteresis,
            "draining": self.draining,
        }

    def schedulable(self) -> dict[str, float]:
        return {
            n.node_id: n.capacity * (1 - self.headroom)
            for n in self.nodes
            if n.alive and n.capacity > 0 and n.node_id not in self.draining
        }

    def drains_last_node(self) -> bool:
        drained = [n for n in self.nodes if n.alive and n.capacity > 0 and n.node_id in self.draining]
        return bool(drained) and not self.schedulable()

    def sticky_load(self) -> dict[str, float]:
        """Input load of each schedulable node from the cameras already on it."""
        usable = self.schedulable()
        costs = {c.camera_id: c.cost for c in self.cameras}
        return {n: math.fsum(costs[c] for c, node in self.current.items() if node == n and c in costs) for n in usable}

    def run(self) -> PlacementPlan:
        return plan(self.nodes, self.cameras, self.current, **self.options())


capacities = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0, 4.0]), st.floats(0.1, 8.0))
costs = st.one_of(st.sampled_from([0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0]), st.floats(0.0, 2.5))


@st.composite
def scenarios(draw, *, all_new: bool = False, all_sticky: bool = False, allow_last_drain: bool = False) -> Scenario:
    node_ids = [f"n{i}" for i in range(draw(st.integers(1, 6)))]
    nodes = [
        NodeCapacity(nid, draw(capacities), alive=all_sticky or draw(st.sampled_from([True, True, True, False])))
        for nid in node_ids
    ]
    draining = frozenset() if all_sticky else frozenset(draw(st.sets(st.sampled_from(node_ids), max_size=2)))
    cameras = [CameraDemand(f"cam-{i:02d}", draw(costs)) for i in range(draw(st.integers(0, 25)))]
    if all_new:
        current: dict[str, str] = {}
    elif all_sticky:
        targets = [n.node_id for n in nodes if n.capacity > 0] or [None]
        current = {c.camera_id: node for c in cameras if (node := draw(st.sampled_from(targets)))}
    else:
        choices = [None, "gone", *node_ids]
        current = {c.camera_id: node for c in cameras if (node := draw(st.sampled_from(choices)))}
        current["removed-camera"] = draw(st.sampled_from(node_ids))  # not in demand: ignored
    scenario = Scenario(
        nodes=nodes,
        cameras=cameras,
        current=current,
        max_moves=draw(st.integers(0, 6)),
        headroom=draw(st.sampled_from([0.0, 0.1, 0.2, 0.5])),
        hysteresis=draw(st.sampled_from([0.0, 0.05, 0.15, 0.5])),
        draining=draining,
    )
    if not allow_last_drain and scenario.drains_last_node():
        scenario = Scenario(**{**scenario.__dict__, "draining": frozenset()})
    return scenario


# --- plan() ----------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios(allow_last_drain=True))
def test_draining_the_last_node_is_the_only_drain_error(s: Scenario):
    if s.drains_last_node():
        with pytest.raises(PlacementError, match="cannot drain"):
            s.run()
    else:
        s.run()


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_camera_appears_exactly_once(s: Scenario):
    p = s.run()
    placed, unplaced = set(p.assignments), [u.camera_id for u in p.unplaced]
    assert len(unplaced) == len(set(unplaced)), f"a camera is unplaced twice: {unplaced}"
    assert not placed & set(unplaced), f"placed and unplaced at once: {placed & set(unplaced)}"
    assert placed | set(unplaced) == {c.camera_id for c in s.cameras}, "cameras missing or invented"
    moved = [m.camera_id for m in p.moves]
    assert len(moved) == len(set(moved)), f"a camera moves twice: {p.moves}"


@PROPERTY_SETTINGS
@given(scenarios())
def test_assignments_use_schedulable_nodes_except_stranded_cameras(s: Scenario):
    p = s.run()
    usable = s.schedulable()
    assert p.usable == pytest.approx(usable), "usable capacity is capacity * (1 - headroom) of schedulable nodes"
    for cam, node in p.assignments.items():
        if cam in p.stranded:
            assert node not in usable and s.current[cam] == node, f"stranded {cam} must stay on its draining node"
            assert next(n for n in s.nodes if n.node_id == node).alive, f"stranded {cam} is on a dead node"
        else:
            assert node in usable, f"{cam} assigned to unschedulable node {node}"


@PROPERTY_SETTINGS
@given(scenarios())
def test_no_node_ends_fuller_than_its_usable_capacity_or_its_sticky_load(s: Scenario):
    p = s.run()
    sticky = s.sticky_load()
    for node, usable in p.usable.items():
        bound = max(usable, sticky[node])
        assert p.load[node] <= bound + LOAD_EPSILON, f"{node} ends at {p.load[node]} > max(usable, sticky) {bound}"


@PROPERTY_SETTINGS
@given(scenarios(all_new=True))
def test_all_new_cameras_never_overfill(s: Scenario):
    p = s.run()
    assert p.overloaded_nodes == (), f"placing new cameras overfilled {p.overloaded_nodes}: {p.load} vs {p.usable}"


@PROPERTY_SETTINGS
@given(scenarios())
def test_unplaced_and_stranded_cameras_fit_nowhere(s: Scenario):
    p = s.run()
    costs = {c.camera_id: c.cost for c in s.cameras}
    for cam in [u.camera_id for u in p.unplaced] + list(p.stranded):
        room = {n: u - p.load[n] for n, u in p.usable.items()}
        fits = [n for n, free in room.items() if costs[cam] <= free + LOAD_EPSILON]
        assert not fits, f"{cam} ({costs[cam]}) is left out although it fits {fits}"


@PROPERTY_SETTINGS
@given(scenarios())
def test_unplaced_reason_and_autoscaler_demand(s: Scenario):
    p = s.run()
    largest = max(p.usable.values(), default=0.0)
    for u in p.unplaced:
        too_big = bool(p.usable) and u.cost > largest + LOAD_EPSILON
        expected = UnplacedReason.TOO_BIG if too_big else UnplacedReason.NO_CAPACITY
        assert u.reason is expected, f"{u} with largest usable {largest}"
    needy = [u for u in p.unplaced if u.reason is UnplacedReason.NO_CAPACITY]
    assert len(p.autoscaler_demand) == len(needy) + len(p.stranded), "one bundle per camera that needs room"
    costs = [u.cost for u in needy] + [next(c.cost for c in s.cameras if c.camera_id == x) for x in p.stranded]
    for bundle, cost in zip(p.autoscaler_demand, costs, strict=False):
        assert bundle["CPU"] >= cost / (1 - s.headroom) - 1e-12, f"bundle {bundle} too small for {cost}"
        assert bundle["CPU"] >= 1e-4, "a zero bundle would not ask for anything"


@PROPERTY_SETTINGS
@given(scenarios())
def test_voluntary_moves_are_capped_and_evacuations_are_not(s: Scenario):
    p = s.run()
    assert p.voluntary_moves <= s.max_moves, f"{p.voluntary_moves} voluntary moves > max_moves {s.max_moves}"
    usable = s.schedulable()
    for m in p.moves:
        assert m.from_node == s.current[m.camera_id], f"{m} does not start from the camera's node"
        assert m.to_node == p.assignments[m.camera_id] != m.from_node, f"{m} does not match the assignment"
        if m.reason is MoveReason.NODE_DEAD:
            assert m.from_node not in {n.node_id for n in s.nodes if n.alive}, f"{m}: its node is alive"
        elif m.reason is MoveReason.NODE_DRAINING:
            assert m.from_node not in usable, f"{m}: its node is schedulable"
        else:
            assert m.from_node in usable, f"{m}: voluntary moves leave healthy nodes only"
    evacuees = [c for c, n in s.current.items() if c in p.assignments and n not in usable]
    assert all(p.assignments[c] != s.current[c] or c in p.stranded for c in evacuees), "an evacuee stayed put"


@PROPERTY_SETTINGS
@given(scenarios())
def test_sticky_cameras_stay_unless_moved_voluntarily(s: Scenario):
    p = s.run()
    usable = s.schedulable()
    moves = {m.camera_id: m for m in p.moves}
    for cam in (c.camera_id for c in s.cameras):
        if s.current.get(cam) in usable and cam not in p.assignments:
            # Step 3b: a node still over its usable capacity sheds; nothing else drops a sticky camera.
            assert cam in p.overload_shed, f"sticky {cam} was dropped without being shed for overload: {p.unplaced}"
        elif s.current.get(cam) in usable and p.assignments[cam] != s.current[cam]:
            if moves[cam].reason is MoveReason.SHED:  # shed (3b), then placed where shedding freed room
                node = s.current[cam]
                costs = {c.camera_id: c.cost for c in s.cameras}
                on_input = math.fsum(costs[c] for c, n in s.current.items() if n == node and c in costs)
                assert on_input > p.usable[node] + LOAD_EPSILON, f"{cam} was shed from {node}, not over on input"
                continue
            assert moves[cam].reason not in EVACUATION_REASONS, f"sticky {cam} moved as {moves[cam]}"


@PROPERTY_SETTINGS
@given(scenarios())
def test_replanning_a_converged_plan_makes_no_moves(s: Scenario):
    first = s.run()
    again = plan(s.nodes, s.cameras, first.assignments, **s.options())
    if first.converged:
        assert again.moves == (), f"a converged plan should be stable, but re-planning moves {again.moves}"
        assert again.assignments == first.assignments, "re-planning changed assignments"
    else:
        assert first.voluntary_moves <= s.max_moves, "not converged means the budget ran out"


@PROPERTY_SETTINGS
@given(scenarios())
def test_projected_load_matches_assignments(s: Scenario):
    p = s.run()
    costs = {c.camera_id: c.cost for c in s.cameras}
    assert set(p.load) == {n.node_id for n in s.nodes}, "load should cover every input node"
    for node in p.load:
        expected = math.fsum(costs[c] for c, n in p.assignments.items() if n == node)
        assert p.load[node] == pytest.approx(expected, abs=1e-9), f"load of {node} is not the sum of its cameras"


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_plan_does_not_depend_on_input_order(s: Scenario, rnd):
    nodes, cameras = s.nodes[:], s.cameras[:]
    rnd.shuffle(nodes)
    rnd.shuffle(cameras)
    assert plan(nodes, cameras, s.current, **s.options()) == s.run(), "shuffled input gave another plan"


@PROPERTY_SETTINGS
@given(scenarios(all_sticky=True))
def test_balanced_feasible_cluster_is_left_alone(s: Scenario):
    p0 = plan(s.nodes, s.cameras, s.current, **{**s.options(), "max_moves": 0})
    feasible = not p0.overloaded_nodes
    if feasible and p0.spread <= s.hysteresis and not p0.unplaced:
        assert s.run().moves == (), "nothing overloaded, spread within hysteresis: no camera should move"


def _objective(p: PlacementPlan) -> tuple[float, float]:
    overload = math.fsum(max(0.0, p.load[n] - u) for n, u in p.usable.items())
    imbalance = math.fsum(p.load[n] ** 2 / u for n, u in p.usable.items())
    return overload, imbalance


@PROPERTY_SETTINGS
@given(scenarios(all_sticky=True))
def test_a_voluntary_move_strictly_lowers_overload_then_imbalance(s: Scenario):
    before = plan(s.nodes, s.cameras, s.current, **{**s.options(), "max_moves": 0})
    after = plan(s.nodes, s.cameras, s.current, **{**s.options(), "max_moves": 1})
    if before.unplaced or not after.moves:
        return
    (o0, i0), (o1, i1) = _objective(before), _objective(after)
    assert o1 < o0 - LOAD_EPSILON or (o1 <= o0 + LOAD_EPSILON and i1 < i0), (
        f"move {after.moves} went from overload/imbalance {o0}/{i0} to {o1}/{i1}"
    )


# --- consolidate() ---------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios())
def test_consolidation_is_safe_bounded_and_all_or_nothing(s: Scenario):
    p = consolidate(s.nodes, s.cameras, s.current, max_moves=s.max_moves, headroom=s.headroom, draining=s.draining)
    assert set(p.assignments) | {u.camera_id for u in p.unplaced} == {c.camera_id for c in s.cameras}
    consolidating = [m for m in p.moves if m.reason is MoveReason.CONSOLIDATE]
    assert len(consolidating) <= s.max_moves, f"{len(consolidating)} consolidation moves > {s.max_moves}"
    assert all(m.reason in EVACUATION_REASONS | {MoveReason.CONSOLIDATE} for m in p.moves), f"{p.moves}"
    sticky = s.sticky_load()
    for node, usable in p.usable.items():
        bound = max(usable, sticky[node])
        assert p.load[node] <= bound + LOAD_EPSILON, f"{node} ends at {p.load[node]} > {bound}"
    for node in {m.from_node for m in consolidating}:
        assert p.load[node] == 0.0 and node in p.idle_nodes, f"{node} was only partly emptied: {p.load}"
    if consolidating:
        assert set(p.usable) - set(p.idle_nodes), "consolidation emptied every node"
