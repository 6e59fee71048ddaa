"""Priorities in `plan()` (issue 15, item 10): when capacity is short the higher
priorities run, lower ones are shed first, equal priorities never displace each other."""

from __future__ import annotations

import dataclasses
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster.scheduler.model import LOAD_EPSILON, CameraDemand, MoveReason, NodeCapacity
from cluster.scheduler.placement import plan

from .test_placement_properties import Scenario, scenarios

# Generating prioritised scenarios is slow on a loaded machine: not a failure of the property.
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def prioritised(draw) -> Scenario:
    s = draw(scenarios())
    levels = draw(st.lists(st.integers(0, 100), min_size=1, max_size=3))
    cameras = [dataclasses.replace(c, priority=draw(st.sampled_from(levels))) for c in s.cameras]
    return dataclasses.replace(s, cameras=cameras)


@PROPERTY_SETTINGS
@given(prioritised())
def test_an_unplaced_camera_would_not_fit_even_without_every_lower_priority_camera(s: Scenario):
    p = s.run()
    priority = {c.camera_id: c.priority for c in s.cameras}
    costs = {c.camera_id: c.cost for c in s.cameras}
    for u in p.unplaced:
        for node, usable in p.usable.items():
            kept = math.fsum(
                costs[c] for c, n in p.assignments.items() if n == node and priority[c] >= priority[u.camera_id]
            )
            assert kept + u.cost > usable + LOAD_EPSILON, (
                f"{u.camera_id} (priority {priority[u.camera_id]}, {u.cost:.3f} cores) is unplaced although node "
                f"{node} would take it without cameras of lower priority ({kept:.3f} of {usable:.3f} cores kept)"
            )


@PROPERTY_SETTINGS
@given(prioritised())
def test_every_camera_appears_exactly_once_and_shed_ones_are_unplaced(s: Scenario):
    p = s.run()
    placed, unplaced = set(p.assignments), {u.camera_id for u in p.unplaced}
    assert placed | unplaced == {c.camera_id for c in s.cameras} and not placed & unplaced
    assert set(p.shed) <= unplaced, f"shed cameras are unplaced: {p.shed}"
    assert set(p.shed) <= set(s.current), f"only running cameras are shed: {p.shed}"


@PROPERTY_SETTINGS
@given(scenarios(), st.integers(0, 100))
def test_equal_priorities_give_the_plan_without_priorities(s: Scenario, level: int):
    same = dataclasses.replace(s, cameras=[dataclasses.replace(c, priority=level) for c in s.cameras])

    p, q = s.run(), same.run()

    assert (p.assignments, p.moves, p.unplaced) == (q.assignments, q.moves, q.unplaced), "priority changed the plan"
    assert not q.shed and not any(m.reason is MoveReason.PREEMPTED for m in q.moves), "equal priorities displaced"


def test_after_a_restart_the_higher_priorities_are_placed_whatever_their_ids() -> None:
    cameras = [CameraDemand(f"a-cam-{i}", 0.5, priority=10) for i in range(4)]
    cameras += [CameraDemand("z-rtsp-1", 0.5, priority=90), CameraDemand("z-rtsp-2", 0.5, priority=90)]

    p = plan([NodeCapacity("n1", 2.0)], cameras, {}, headroom=0.0)

    assert {"z-rtsp-1", "z-rtsp-2"} <= set(p.assignments), f"the high priorities run: {p.assignments}"
    assert len(p.unplaced) == 2 and all(u.camera_id.startswith("a-cam") for u in p.unplaced), p.unplaced


def test_a_lost_node_sheds_the_lowest_priority_cameras_elsewhere() -> None:
    nodes = [NodeCapacity("n1", 1.0), NodeCapacity("n2", 1.0, alive=False)]
    cameras = [CameraDemand("low-1", 0.5, priority=10), CameraDemand("low-2", 0.5, priority=20)]
    cameras += [CameraDemand("high", 0.5, priority=90)]
    current = {"low-1": "n1", "low-2": "n1", "high": "n2"}

    p = plan(nodes, cameras, current, headroom=0.0)

    assert p.assignments.get("high") == "n1", f"the lost high-priority camera takes a place: {p.assignments}"
    assert p.shed == ("low-1",), f"the lowest priority goes first: shed {p.shed}"
    assert p.assignments.get("low-2") == "n1", "the next lowest keeps running"
