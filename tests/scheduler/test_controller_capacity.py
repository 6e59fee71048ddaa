"""The control loop without Ray: asking the autoscaler for room, and consolidating
so idle nodes can be released."""

from __future__ import annotations

import pytest

from cluster.scheduler.prior import estimate_cost
from cluster.scheduler.requests import AddCamera, RemoveCamera

from .fakes import TEST_SETTINGS, Harness, camera

COST = estimate_cost(camera("x"))  # about 0.23 cores: 3 fit the 0.8 usable cores of a 1-CPU node
AUTOSCALING = TEST_SETTINGS.replace(autoscaling=True, consolidate_every_s=10.0, max_moves_per_minute=8)


def add(h: Harness, *ids: str, **kwargs) -> None:
    for cid in ids:
        h.ctl.submit(AddCamera(camera(cid, **kwargs)))
    h.steps(1)


def test_cameras_beyond_capacity_ask_the_autoscaler_for_the_whole_demand_then_withdraw():
    h = Harness()
    h.cluster.add_node("head", 1.0, head=True)
    add(h, "a", "b", "c", "d", "e")
    assert sorted(u.camera_id for u in h.ctl.report().unplaced) == ["d", "e"]
    (request,) = h.cluster.capacity_requests
    assert len(request) == 5, "request_resources sizes the whole cluster: every camera, not only the waiting"
    assert request[0]["CPU"] == pytest.approx(COST / 0.8, abs=1e-3), "each bundle keeps the headroom free"
    h.cluster.add_node("w1", 1.0)
    h.steps(2)
    assert {"d", "e"} <= set(h.cluster.on("w1")), "the waiting cameras go to the new node"
    assert set(h.phases().values()) == {"running"}, h.phases()
    assert h.cluster.capacity_requests[-1] == [], "the request is withdrawn once all run"
    h.steps(3)
    assert len(h.cluster.capacity_requests) == 2, "and not repeated while nothing changes"


def test_degraded_cameras_ask_the_autoscaler_for_room_at_their_full_rates_then_withdraw():
    h = Harness()
    h.cluster.add_node("head", 1.0, head=True)
    for cid in ("a", "b", "c"):
        config = camera(cid, fps=10.0)
        h.ctl.submit(
            AddCamera(config.model_copy(update={"analysis": config.analysis.model_copy(update={"min_fps": 1.0})}))
        )
    h.steps(2)
    assert set(h.phases().values()) == {"running"}, f"their floors fit the node: {h.phases()}"
    assert h.cluster.capacity_requests == [], "nothing asked while every camera keeps its rate"
    h.cluster.named["a"].degraded = True
    h.steps(1)
    (request,) = h.cluster.capacity_requests
    full = estimate_cost(camera("x", fps=10.0))
    assert len(request) == 3, "the whole demand, as for waiting cameras"
    assert all(b["CPU"] == pytest.approx(full / 0.8, abs=1e-3) for b in request), f"at full rate: {request}"
    assert 3 * full > 0.8, "at full rate they would not fit the node: what the new room is for"
    h.cluster.named["a"].degraded = False
    h.steps(1)
    assert h.cluster.capacity_requests[-1] == [], "withdrawn once no camera is degraded"


def test_a_camera_too_big_for_any_node_is_not_asked_of_the_autoscaler():
    h = Harness(TEST_SETTINGS.replace(max_node_cpus=16.0))
    h.cluster.add_node("head", 1.0, head=True)
    add(h, "big", fps=10.0, detector_size=640)
    assert [u.reason.value for u in h.ctl.report().unplaced] == ["too_big"]
    assert h.cluster.capacity_requests == [], "more 1-CPU nodes would not help"


def test_when_demand_drops_a_worker_is_emptied_for_release_but_the_head_never_is():
    h = Harness(AUTOSCALING)
    for node in ("head", "w1", "w2"):
        h.cluster.add_node(node, 1.0, head=node == "head")
    add(h, *[f"c{i}" for i in range(9)])
    h.steps(2)
    assert all(len(h.cluster.on(n)) == 3 for n in ("head", "w1", "w2")), "all three nodes are needed"
    for cid in h.cluster.on("head") + h.cluster.on("w1")[:1]:
        h.do(RemoveCamera(cid))  # head empty, w1 has 2, w2 has 3: 5 cameras fit two nodes
    h.steps(3, advance=5.0)
    report = h.ctl.report()
    busy = {n.node_id: len(n.cameras) for n in report.nodes}
    released = [n.node_id for n in report.nodes if n.releasing]
    assert busy["head"] >= 1, f"the head is kept and takes cameras: {busy}"
    assert len(released) >= 1 and all(busy[n] == 0 for n in released), f"emptied for release: {busy} {released}"
    assert all(m.reason in ("consolidate", "rebalance") for m in report.recent_moves), report.recent_moves
    h.steps(5, advance=5.0)
    assert all(busy[n] == 0 for n in released) and not any(h.cluster.on(n) for n in released), (
        "rebalancing does not refill a node left for release"
    )


def test_a_node_left_for_release_takes_cameras_again_when_demand_grows():
    h = Harness(AUTOSCALING)
    h.cluster.add_node("head", 1.0, head=True)
    h.cluster.add_node("w1", 1.0)
    add(h, "a", "b")
    h.steps(3, advance=5.0)
    assert h.cluster.on("w1") == [] and h.ctl.state.releasing.keys() == {"w1"}, "idle w1 is left for release"
    add(h, "c", "d", "e")  # 5 cameras: more than the head's 3
    h.steps(2)
    assert len(h.cluster.on("w1")) >= 2, "w1 is used again rather than waiting for a new node"
    assert h.ctl.report().unplaced == ()


def test_a_released_node_is_forgotten():
    h = Harness(AUTOSCALING)
    h.cluster.add_node("head", 1.0, head=True)
    h.cluster.add_node("w1", 1.0)
    add(h, "a")
    h.steps(3, advance=5.0)
    del h.cluster.nodes["w1"]  # the autoscaler terminated it
    h.steps(1)
    assert h.ctl.state.releasing == {}
    assert [n.node_id for n in h.ctl.report().nodes] == ["head"]
