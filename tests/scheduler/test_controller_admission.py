"""Admission without Ray (issue 9): cameras are placed by what they cost, reservations
follow measurements without restarts, no measured idle capacity stays unusable, and a
camera whose new settings no longer fit is moved or refused with a reason."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster.config import CameraConfig
from cluster.control import PlacementRejected
from cluster.scheduler.capacity import RAY_CPUS_PER_CAMERA
from cluster.scheduler.prior import MIN_CAMERA_COST, SourceInfo, estimate_cost
from cluster.scheduler.requests import AddCamera, UpdateCamera

from .fakes import TEST_SETTINGS, Harness, camera

LEARNING = TEST_SETTINGS.replace(learn_costs=True, cost_warmup_s=20.0, cost_smoothing_s=10.0, hysteresis=10.0)
CLIP_URL = "/clips/tiny.mp4"
TINY = SourceInfo(160, 96, 4.0)


def file_camera(camera_id: str, **analysis: object) -> CameraConfig:
    return CameraConfig(id=camera_id, source={"url": CLIP_URL, "loop": True}, analysis={"fps": 1.0, **analysis})


def node_within_usable(h: Harness) -> list[str]:
    """Nodes whose reserved CPU exceeds their usable share (none, if admission holds)."""
    return [f"{n.node_id}: {n.load:.3f} > {n.usable:.3f}" for n in h.ctl.report().nodes if n.load > n.usable + 1e-9]


def test_file_cameras_are_placed_by_their_probed_cost_all_in_one_step():
    h = Harness(LEARNING)
    h.cluster.add_node("head", 2.0, head=True)
    h.cluster.files[CLIP_URL] = TINY
    for i in range(64):
        h.ctl.submit(AddCamera(file_camera(f"cam{i:02d}")))
    h.steps(1)
    report = h.ctl.report()
    assert report.phase_counts() == {"starting": 64}, f"all 64 placed in the step that added them: {h.phases()}"
    assert CLIP_URL in h.cluster.probed, "the clip was probed before its cameras ran"
    assert all(c.cost == MIN_CAMERA_COST for c in report.cameras), "each costed at what a tiny clip costs"
    assert node_within_usable(h) == [], "and the node is not overcommitted"


def test_without_a_probe_cameras_wait_then_get_the_room_their_neighbours_measurements_give_back():
    # Network cameras of an unknown size: 7 priors of 0.23 fill the 1.6 usable cores. They
    # measure 1%: as their reservations follow, the others are placed, none restarted.
    h = Harness(LEARNING)
    h.cluster.add_node("head", 2.0, head=True)
    ids = [f"cam{i:02d}" for i in range(64)]
    for cid in ids:
        h.ctl.submit(AddCamera(camera(cid)))
    h.steps(1)
    first = [c.camera_id for c in h.ctl.report().cameras if c.phase.value == "starting"]
    assert len(first) == int(1.6 // estimate_cost(camera("x"))), f"only the priors that fit start: {len(first)}"
    waiting = h.ctl.report().unplaced[0].detail
    assert "reserved" in waiting and "measured" in waiting, f"the reason names both figures: {waiting}"
    for _ in range(40):
        for actor in h.cluster.named.values():
            actor.cpu_percent = 1.0
        h.steps(1, advance=5.0)
        assert node_within_usable(h) == [], "never overcommitted on the way"
    assert set(h.phases().values()) == {"running"}, f"every camera placed in the end: {h.ctl.report().unplaced}"
    assert len(h.cluster.created) == len(ids), "each camera's actor was created once: nothing restarted"
    assert {a.cpus for a in h.cluster.named.values()} == {RAY_CPUS_PER_CAMERA}, "each declares the fixed Ray share"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cpus=st.sampled_from([1.0, 2.0, 4.0]),
    measured=st.lists(st.floats(min_value=0.5, max_value=15.0), min_size=1, max_size=60),
)
def test_no_state_leaves_measured_idle_capacity_unusable(cpus, measured):
    """Whatever the cameras really cost (below their prior), once measurements settle each
    running camera is reserved what it measures, and a camera waits only if it fits
    nowhere by those figures: a real shortage. (A camera placed at what the dearest of
    its settings measured may turn out dearer still: the node is then over its usable
    share by what that camera really uses, the overload path's case, not admission's.)"""
    h = Harness(LEARNING)
    h.cluster.add_node("head", cpus, head=True)
    truth = {f"cam{i:02d}": pct for i, pct in enumerate(measured)}
    for cid in truth:
        h.ctl.submit(AddCamera(camera(cid)))
    for _ in range(60):
        for cid, actor in h.cluster.named.items():
            actor.cpu_percent = truth[cid]
        h.steps(1, advance=5.0)
    report = h.ctl.report()
    node = report.nodes[0]
    running = [c.camera_id for c in report.cameras if c.phase.value == "running"]
    measured_total = sum(max(MIN_CAMERA_COST, truth[cid] / 100) for cid in running)
    assert node.load == pytest.approx(measured_total, rel=0.05, abs=2e-3), (
        f"the node is reserved what its cameras measure: {node.load:.3f} vs {measured_total:.3f}"
    )
    for waiting in report.unplaced:
        assert measured_total + waiting.cost > node.usable - 2e-3, (
            f"{waiting.camera_id} ({waiting.cost:.3f} cores) waits although its neighbours measure only "
            f"{measured_total:.3f} of {node.usable:.3f} usable cores"
        )


def two_full_nodes(h: Harness) -> None:
    """Two 2-CPU nodes with 6 cameras of 0.23 each (1.36 of 1.6 usable)."""
    h.cluster.add_node("a", 2.0, head=True)
    h.cluster.add_node("b", 2.0)
    for i in range(12):
        h.ctl.submit(AddCamera(camera(f"cam{i:02d}")))
    h.steps(2)
    assert sorted(len(h.cluster.on(n)) for n in ("a", "b")) == [6, 6]


DEARER = {"fps": 5.0, "detector_size": 640}  # about 0.65 cores with its detector


def test_a_camera_whose_new_settings_do_not_fit_its_node_moves_to_one_with_room():
    h = Harness(TEST_SETTINGS.replace(hysteresis=10.0))
    two_full_nodes(h)
    h.cluster.add_node("c", 2.0)
    h.steps(1)
    cid = h.cluster.on("a")[0]
    old_actor = h.cluster.named[cid]
    h.do(UpdateCamera(camera(cid, **DEARER)))
    h.steps(1)
    assert h.cluster.named[cid].node_id == "c" and not old_actor.alive, "moved off a to the node with room"
    moves = [m for m in h.ctl.report().recent_moves if m.camera_id == cid]
    assert [(m.from_node, m.to_node, m.reason) for m in moves] == [("a", "c", "reshaped")], moves
    assert node_within_usable(h) == [], "no node overcommitted"


def test_a_camera_whose_new_settings_fit_nowhere_is_refused_and_keeps_running_as_it_was():
    h = Harness(TEST_SETTINGS)
    two_full_nodes(h)
    cid = h.cluster.on("a")[0]
    actor, before = h.cluster.named[cid], h.ctl.report().camera(cid).cost
    with pytest.raises(PlacementRejected, match=rf"{cid}.*reserved.*measured.*keeps its old settings"):
        h.do(UpdateCamera(camera(cid, **DEARER)))
    assert h.ctl.camera_view(cid).config == camera(cid), "its settings are unchanged"
    assert h.cluster.named[cid] is actor and actor.updates == [], "its actor runs on, untouched"
    assert h.ctl.report().camera(cid).cost == before, "and so does its estimate"


def test_a_costlier_camera_that_still_fits_its_node_is_updated_in_place():
    h = Harness(TEST_SETTINGS)
    two_full_nodes(h)
    cid = h.cluster.on("a")[0]
    actor = h.cluster.named[cid]
    changed = camera(cid, fps=2.0)
    h.do(UpdateCamera(changed))
    h.steps(1)
    assert h.cluster.named[cid] is actor and actor.updates == [changed], "the running actor got the new settings"
    assert h.ctl.report().camera(cid).cost > estimate_cost(camera(cid)), "and is reserved its higher cost at once"


def test_with_an_autoscaler_a_camera_that_fits_nowhere_waits_for_a_node_instead():
    h = Harness(TEST_SETTINGS.replace(autoscaling=True, max_node_cpus=2.0))
    two_full_nodes(h)
    cid = h.cluster.on("a")[0]
    h.do(UpdateCamera(camera(cid, **DEARER)))
    h.steps(1)
    report = h.ctl.report()
    assert cid not in h.cluster.named and report.camera(cid).phase.value == "pending", "stopped rather than overcommit"
    (waiting,) = report.unplaced
    assert waiting.camera_id == cid and waiting.reason.value == "no_capacity", waiting
    assert h.cluster.capacity_requests and h.cluster.capacity_requests[-1], "the autoscaler is asked for room"


def test_a_running_camera_teaches_the_size_of_its_stream_to_cameras_of_its_url():
    h = Harness(LEARNING)
    h.cluster.add_node("head", 4.0, head=True)
    h.do(AddCamera(camera("first")))
    h.steps(1)
    h.cluster.named["first"].source = SourceInfo(640, 360, 15.0)
    h.steps(1)
    second = camera("second").model_copy(update={"source": camera("first").source})
    h.do(AddCamera(second))
    assert h.ctl.report().camera("second").cost < estimate_cost(camera("x")), (
        "costed by its real 640x360 stream, not as an unknown 720p one"
    )


def test_without_learning_nothing_is_probed_and_priors_are_all_there_is():
    h = Harness(TEST_SETTINGS)  # learn_costs off
    h.cluster.add_node("head", 2.0, head=True)
    h.cluster.files[CLIP_URL] = TINY
    h.do(AddCamera(file_camera("cam")))
    assert h.cluster.probed == [], "no probe"
    assert h.ctl.report().camera("cam").cost == pytest.approx(estimate_cost(file_camera("cam"))), "the prior alone"


def test_cameras_that_may_lower_their_rate_are_admitted_at_their_floor():
    # Graceful overload (issue 16): 20 cameras of the 768x432 clip at 5 fps (0.095 cores by the
    # prior) do not fit 1.6 usable cores; at a 1 fps floor (0.075: decoding stays) they do.
    def harness(**analysis: object) -> Harness:
        h = Harness(LEARNING)
        h.cluster.add_node("head", 2.0, head=True)
        h.cluster.files[CLIP_URL] = SourceInfo(768, 432, 12.5)
        for i in range(20):
            h.ctl.submit(AddCamera(file_camera(f"cam{i:02d}", fps=5.0, **analysis)))
        h.steps(1)
        return h

    full, floored = harness(), harness(min_fps=1.0)
    assert len(full.ctl.report().unplaced) == 4, f"at their full rate 16 fit: {len(full.ctl.report().unplaced)} wait"
    assert floored.ctl.report().unplaced == (), f"at their floor all fit: {floored.ctl.report().unplaced}"
    assert node_within_usable(floored) == [], "and the node's reserved CPU, counted at the floors, fits"
