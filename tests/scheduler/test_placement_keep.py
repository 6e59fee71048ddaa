"""`consolidate(keep=...)`: nodes the autoscaler can never release are not emptied."""

from __future__ import annotations

from cluster.scheduler.model import CameraDemand, NodeCapacity
from cluster.scheduler.placement import consolidate


def test_a_kept_node_is_not_emptied_even_when_it_is_the_lightest():
    nodes = [NodeCapacity("head", 2.0), NodeCapacity("w1", 2.0), NodeCapacity("w2", 2.0)]
    cams = [CameraDemand(f"c{i}", 0.2) for i in range(5)]
    current = {"c0": "head", "c1": "w1", "c2": "w1", "c3": "w2", "c4": "w2"}
    without = consolidate(nodes, cams, current, headroom=0.0, max_moves=10)
    assert "head" in without.idle_nodes, f"the lightest node is emptied by default: {without.idle_nodes}"
    kept = consolidate(nodes, cams, current, headroom=0.0, max_moves=10, keep={"head"})
    assert kept.assignments["c0"] == "head", "the kept node keeps its camera"
    assert kept.idle_nodes and "head" not in kept.idle_nodes, f"another node is emptied: {kept.idle_nodes}"
    assert all(m.from_node != "head" for m in kept.moves), kept.moves
