"""The control loop without Ray: placement, node changes, drains, admin requests."""

from __future__ import annotations

import pytest

from cluster.control import CameraExists, CameraNotFound, CameraUnavailable, NodeNotFound, PlacementRejected
from cluster.domain import CameraState
from cluster.scheduler.capacity import RAY_CPUS_PER_CAMERA
from cluster.scheduler.prior import cost_breakdown, estimate_cost
from cluster.scheduler.requests import AddCamera, DrainNode, RemoveCamera, UndrainNode, UpdateCamera

from .fakes import TEST_SETTINGS, Harness, camera

COST = estimate_cost(camera("x"))  # about 0.23 cores


def three_nodes(h: Harness, cpus: float = 4.0) -> None:
    h.cluster.add_node("head", cpus, head=True)
    h.cluster.add_node("w1", cpus)
    h.cluster.add_node("w2", cpus)


def add_many(h: Harness, count: int, prefix: str = "cam") -> list[str]:
    ids = [f"{prefix}{i:02d}" for i in range(count)]
    for cid in ids:
        h.ctl.submit(AddCamera(camera(cid)))
    h.steps(1)
    return ids


def test_cameras_are_spread_evenly_and_pinned_where_planned():
    h = Harness()
    three_nodes(h)
    add_many(h, 12)
    h.steps(1)
    counts = {n: len(h.cluster.on(n)) for n in ("head", "w1", "w2")}
    assert counts == {"head": 4, "w1": 4, "w2": 4}, f"12 equal cameras on 3 equal nodes: {counts}"
    report = h.ctl.report()
    assert all(c.phase.value == "running" for c in report.cameras), h.phases()
    for cam in report.cameras:
        assert h.cluster.named[cam.camera_id].node_id == cam.node_id, f"{cam.camera_id} runs where it was placed"
        assert h.cluster.named[cam.camera_id].cpus == RAY_CPUS_PER_CAMERA, "declares the fixed Ray share"
    for node in report.nodes:
        costs = [c.cost for c in report.cameras if c.node_id == node.node_id]
        assert node.load == pytest.approx(sum(costs)), f"the scheduler reserves each camera's cost: {node}"


def test_a_step_with_nothing_new_changes_nothing():
    h = Harness()
    three_nodes(h)
    add_many(h, 6)
    h.steps(2)
    created = len(h.cluster.created)
    h.steps(5)
    assert len(h.cluster.created) == created, "steady state: no actor is started again"
    assert h.ctl.report().recent_moves == (), "and none is moved"


def test_a_dead_node_s_cameras_are_restarted_elsewhere_in_the_next_step_without_counting_a_crash():
    h = Harness()
    three_nodes(h)
    add_many(h, 9)
    h.steps(1)
    lost = h.cluster.on("w1")
    h.cluster.kill_node("w1")
    h.steps(1)
    for cid in lost:
        assert cid in h.cluster.named, f"{cid} restarted"
        assert h.cluster.named[cid].node_id in ("head", "w2"), f"{cid} is on a live node"
    report = h.ctl.report()
    assert all(c.restarts == 0 for c in report.cameras), "a node death is not the camera's crash"
    reasons = {m.reason for m in report.recent_moves}
    assert reasons == {"node_dead"}, f"reported as node_dead moves: {reasons}"


def test_a_joining_node_gets_cameras_with_at_most_the_move_cap_per_minute():
    h = Harness(TEST_SETTINGS.replace(max_moves_per_minute=2))
    h.cluster.add_node("head", 4.0, head=True)
    h.cluster.add_node("w1", 4.0)
    add_many(h, 12)
    h.steps(1)
    h.cluster.add_node("w2", 4.0)
    h.steps(1)
    first = h.ctl.report()
    assert len(first.recent_moves) == 2, f"the cap binds in the first minute: {first.recent_moves}"
    assert {m.to_node for m in first.recent_moves} == {"w2"}, "moves go to the new node"
    h.steps(3)
    assert len(h.ctl.report().recent_moves) == 2, "no more moves within the minute"
    h.steps(2, advance=60.0)
    report = h.ctl.report()
    utilisation = [n.utilisation for n in report.nodes]
    assert max(utilisation) - min(utilisation) <= TEST_SETTINGS.hysteresis, f"balanced: {utilisation}"
    moved = [m.camera_id for m in report.recent_moves]
    assert len(moved) == len(set(moved)) == 3, f"3 moves bring 6/6/0 within the hysteresis, each once: {moved}"


def test_drain_moves_every_camera_off_and_takes_no_new_one():
    h = Harness()
    three_nodes(h)
    add_many(h, 9)
    h.steps(1)
    on_w1 = h.cluster.on("w1")
    result = h.do(DrainNode("w1"))
    assert sorted(result.moved_camera_ids) == on_w1, f"drain reports what it moved: {result}"
    assert result.stranded_camera_ids == (), "there was room for all"
    assert h.cluster.on("w1") == [], "nothing left on the drained node"
    add_many(h, 3, prefix="new")
    assert all(h.cluster.named[c].node_id != "w1" for c in ("new00", "new01", "new02")), "no new camera on w1"
    h.do(UndrainNode("w1"))
    h.steps(1, advance=61.0)
    assert h.cluster.on("w1"), "after undrain, rebalancing uses the node again"


def test_draining_the_last_node_is_rejected_and_changes_nothing():
    h = Harness()
    h.cluster.add_node("head", 4.0, head=True)
    add_many(h, 2)
    with pytest.raises(PlacementRejected, match="last node"):
        h.do(DrainNode("head"))
    assert h.ctl.state.draining == set(), "not marked draining"
    h.steps(1)
    assert len(h.cluster.on("head")) == 2, "cameras untouched"


def test_draining_an_unknown_node_names_the_alive_ones():
    h = Harness()
    three_nodes(h)
    h.steps(1)
    with pytest.raises(NodeNotFound, match=r"nope.*head, w1, w2"):
        h.do(DrainNode("nope"))


def test_adding_the_same_camera_again_succeeds_and_changes_nothing():
    h = Harness()
    three_nodes(h)
    add_many(h, 1)
    h.steps(1)
    first_actor = h.cluster.named["cam00"]

    view = h.do(AddCamera(camera("cam00")))
    h.steps(1)

    assert view.config.id == "cam00", "a retried AddCamera answers with the camera"
    assert h.cluster.named["cam00"] is first_actor, "the running camera is untouched by the retry"


def test_duplicate_camera_id_is_rejected_and_the_first_keeps_running():
    h = Harness()
    three_nodes(h)
    add_many(h, 1)
    h.steps(1)
    first_actor = h.cluster.named["cam00"]
    with pytest.raises(CameraExists, match="cam00"):
        h.do(AddCamera(camera("cam00", fps=3.0)))
    h.steps(1)
    assert h.cluster.named["cam00"] is first_actor, "the running camera is untouched"
    assert h.ctl.report().camera("cam00").phase.value == "running"


def test_a_camera_bigger_than_any_node_is_rejected_with_its_cost_and_the_largest_node():
    h = Harness()
    h.cluster.add_node("head", 1.0, head=True)
    with pytest.raises(PlacementRejected, match=r"needs an estimated [\d.]+ CPU cores.*0\.80 usable of 1 CPUs"):
        h.do(AddCamera(camera("huge", fps=10.0, detector_size=640)))
    assert h.ctl.report().cameras == (), "not added"
    assert h.cluster.created == [], "nothing started"


def test_a_camera_that_fits_a_node_the_autoscaler_could_add_is_accepted_and_waits():
    h = Harness(TEST_SETTINGS.replace(max_node_cpus=8.0))
    h.cluster.add_node("head", 1.0, head=True)
    view = h.do(AddCamera(camera("big", fps=10.0, detector_size=640)))
    assert view.node_id is None
    unplaced = h.ctl.report().unplaced
    assert [u.camera_id for u in unplaced] == ["big"] and unplaced[0].reason.value == "too_big", unplaced


def test_update_of_a_running_camera_is_pushed_to_its_actor():
    h = Harness()
    three_nodes(h)
    add_many(h, 1)
    h.steps(1)
    changed = camera("cam00", fps=2.0)
    h.do(UpdateCamera(changed))
    assert h.cluster.named["cam00"].updates == [changed], "the actor got the new config"
    assert h.ctl.camera_view("cam00").config == changed


def test_disable_stops_the_actor_and_enable_starts_one():
    h = Harness()
    three_nodes(h)
    add_many(h, 1)
    h.steps(1)
    h.do(UpdateCamera(camera("cam00", enabled=False)))
    assert "cam00" not in h.cluster.named, "disabled: no actor"
    with pytest.raises(CameraUnavailable, match="disabled"):
        h.ctl.actor_of("cam00")
    h.do(UpdateCamera(camera("cam00")))
    assert "cam00" in h.cluster.named, "enabled again: started"


def test_remove_stops_the_actor_and_forgets_the_camera():
    h = Harness()
    three_nodes(h)
    add_many(h, 2)
    h.steps(1)
    h.do(RemoveCamera("cam00"))
    assert "cam00" not in h.cluster.named
    with pytest.raises(CameraNotFound):
        h.ctl.camera_view("cam00")
    with pytest.raises(CameraNotFound):
        h.do(RemoveCamera("cam00"))


def test_cameras_wait_unplaced_without_nodes_and_start_when_one_joins():
    h = Harness()
    add_many(h, 2)
    assert {u.camera_id for u in h.ctl.report().unplaced} == {"cam00", "cam01"}
    h.cluster.add_node("head", 2.0, head=True)
    h.steps(2)
    assert h.phases() == {"cam00": "running", "cam01": "running"}
    assert h.ctl.report().unplaced == ()


def test_a_camera_of_higher_priority_takes_the_place_of_the_lowest_one_running():
    h = Harness()
    h.cluster.add_node("head", 1.0, head=True)  # 0.8 usable holds 3 cameras of 0.23
    for cid, priority in (("low-a", 20), ("low-b", 10), ("low-c", 30)):
        h.do(AddCamera(camera(cid).model_copy(update={"priority": priority})))
    h.steps(2)
    assert set(h.cluster.named) == {"low-a", "low-b", "low-c"}, "the node is full"

    h.do(AddCamera(camera("alley-rtsp").model_copy(update={"priority": 90})))
    h.steps(2)

    assert set(h.cluster.named) == {"low-a", "low-c", "alley-rtsp"}, f"running: {sorted(h.cluster.named)}"
    (unplaced,) = h.ctl.report().unplaced
    assert unplaced.camera_id == "low-b", f"the lowest priority was shed: {unplaced}"


def test_a_failed_camera_releases_its_room_to_a_waiting_one_and_says_so():
    h = Harness()
    h.cluster.add_node("head", 1.0, head=True)  # 0.8 usable holds 3 cameras of 0.23
    add_many(h, 4)
    h.steps(1)
    assert [u.camera_id for u in h.ctl.report().unplaced] == ["cam03"], "the node is full"

    h.cluster.named["cam00"].state = CameraState.FAILED  # e.g. its file is gone: a permanent error
    h.steps(3)

    assert "cam03" in h.cluster.named, f"the waiting camera got the failed one's room: {sorted(h.cluster.named)}"
    assert h.ctl.report().unplaced == (), h.ctl.report().unplaced
    reason = h.ctl.camera_view("cam00").status.reason
    assert "reservation is released" in reason, f"the failed camera says so: {reason!r}"


def test_cluster_status_lists_nodes_cameras_load_and_unplaced():
    h = Harness()
    h.cluster.add_node("head", 1.0, head=True)
    add_many(h, 4)  # 0.8 usable holds 3 cameras of 0.23
    h.steps(1)
    status = h.ctl.cluster_status()
    (node,) = status.nodes
    assert len(node.cameras) == 3 and node.load == pytest.approx(3 * COST, abs=1e-3), node
    assert status.cameras_configured == 4 and status.cameras_live == 3, status
    assert status.unplaced == ("cam03",), status.unplaced


def test_cameras_measuring_more_than_a_lone_node_can_hold_shed_the_lowest_priority_and_stay_shed():
    h = Harness(TEST_SETTINGS.replace(learn_costs=True, cost_warmup_s=1.0, cost_smoothing_s=5.0))
    h.cluster.add_node("head", 1.0, head=True)  # 0.8 usable holds the three priors of 0.23
    for cid, priority in (("high", 90), ("mid", 50), ("low", 10)):
        h.do(AddCamera(camera(cid).model_copy(update={"priority": priority})))
    h.steps(2)
    assert set(h.cluster.named) == {"high", "mid", "low"}, "admitted at their priors, all three run"
    first_actors = dict(h.cluster.named)

    for actor in h.cluster.named.values():
        actor.cpu_percent = 35.0  # each really costs 0.35: 1.05 cores on 0.8 usable, and nowhere to move
    h.steps(30)

    assert set(h.cluster.named) == {"high", "mid"}, f"the lowest priority is shed: {sorted(h.cluster.named)}"
    assert not first_actors["low"].alive, "its actor was stopped"
    assert all(h.cluster.named[c] is first_actors[c] for c in ("high", "mid")), "the others were never restarted"
    (unplaced,) = h.ctl.report().unplaced
    assert (unplaced.camera_id, unplaced.reason.value) == ("low", "no_capacity"), f"it waits for room: {unplaced}"
    assert "shed from node head" in unplaced.detail, f"its reason says it was shed, and where: {unplaced.detail}"
    node = h.ctl.report().nodes[0]
    assert node.load <= node.usable + 1e-6, f"the node is back within its usable share: {node}"

    created = len(h.cluster.created)
    h.steps(30)
    assert len(h.cluster.created) == created and "low" not in h.cluster.named, "shed stays shed: no flapping"


def test_a_camera_starved_of_cpu_is_costed_at_what_it_needs_not_what_it_got():
    h = Harness(TEST_SETTINGS.replace(learn_costs=True, cost_warmup_s=1.0, cost_smoothing_s=5.0))
    h.cluster.add_node("head", 4.0, head=True)
    h.do(AddCamera(camera("starved", fps=4.0)))  # the fake analyses 1 frame/s of the 4 asked (source at 5)
    h.do(AddCamera(camera("keeping-up", fps=1.0)))
    h.steps(2)
    for actor in h.cluster.named.values():
        actor.cpu_percent = 40.0
    h.steps(60)

    starved, keeping_up = h.ctl.cost.cost("starved"), h.ctl.cost.cost("keeping-up")
    decode = cost_breakdown(camera("starved", fps=4.0)).decode  # paid for every frame, analysed or not
    assert keeping_up == pytest.approx(0.40, abs=0.01), f"a camera that keeps up costs what it uses: {keeping_up}"
    assert starved == pytest.approx(decode + 4 * (0.40 - decode), abs=0.02), (
        f"one analysing a quarter of its frames needs its decoding ({decode:.3f}) and four times the rest of "
        f"what it got (0.40): {starved}"
    )
