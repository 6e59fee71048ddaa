"""What the scheduler shows of its cameras: an actor that stops answering is reported
unresponsive within `unresponsive_after_s`, and its real state again once it answers."""

from __future__ import annotations

from cluster.domain import CameraState
from cluster.scheduler.requests import AddCamera

from .fakes import TEST_SETTINGS, Harness, camera

UNRESPONSIVE_AFTER_S = TEST_SETTINGS.unresponsive_after_s  # 6 s; the heartbeat timeout is 10 s


def running(count: int = 3) -> Harness:
    h = Harness()
    h.cluster.add_node("head", 4.0, head=True)
    for i in range(count):
        h.ctl.submit(AddCamera(camera(f"cam{i}")))
    h.steps(2)
    assert set(h.phases().values()) == {"running"}, h.phases()
    return h


def state_of(h: Harness, camera_id: str) -> CameraState:
    status = h.ctl.camera_view(camera_id).status
    assert status is not None, f"{camera_id} has a status"
    return status.state


def test_a_silent_camera_is_shown_live_until_unresponsive_after_s():
    h = running()
    h.cluster.named["cam1"].answering = False
    h.steps(int(UNRESPONSIVE_AFTER_S), advance=1.0)
    assert state_of(h, "cam1") is CameraState.LIVE, "silent for exactly unresponsive_after_s: not yet"


def test_a_silent_camera_is_reported_unresponsive_everywhere_and_left_running():
    h = running()
    silent = h.cluster.named["cam1"]
    silent.answering = False
    h.steps(int(UNRESPONSIVE_AFTER_S) + 1, advance=1.0)
    status = h.ctl.camera_view("cam1").status
    assert status is not None and status.state is CameraState.UNRESPONSIVE, status
    assert status.reason == "its actor has not answered for 7 s", status.reason
    assert status.frames_received == 10 and status.node_id == "head", "the rest is its last status"
    assert [v.status.state for v in h.ctl.camera_views() if v.config.id != "cam1"] == [CameraState.LIVE] * 2, (
        "the other cameras are unaffected"
    )
    cluster = h.ctl.cluster_status()
    assert (cluster.cameras_configured, cluster.cameras_live) == (3, 2), f"not counted live: {cluster}"
    reported = h.ctl.report().camera("cam1")
    assert reported.state == "unresponsive" and "has not answered for 7 s" in reported.reason, reported
    assert reported.phase.value == "running" and reported.restarts == 0, "it is not replaced for this"
    assert h.cluster.named["cam1"] is silent and silent.alive, "its actor is left running"


def test_an_unresponsive_camera_shows_its_real_state_as_soon_as_it_answers():
    h = running()
    silent = h.cluster.named["cam1"]
    silent.answering = False
    h.steps(int(UNRESPONSIVE_AFTER_S) + 2, advance=1.0)
    assert state_of(h, "cam1") is CameraState.UNRESPONSIVE
    silent.answering, silent.state = True, CameraState.STALLED
    h.steps(1, advance=1.0)
    assert state_of(h, "cam1") is CameraState.STALLED, "the state its actor reports, not LIVE by default"
    silent.state = CameraState.LIVE
    h.steps(1, advance=1.0)
    assert state_of(h, "cam1") is CameraState.LIVE
    assert h.ctl.cluster_status().cameras_live == 3
    assert h.ctl.report().camera("cam1").restarts == 0, "nothing was restarted"


def test_an_unresponsive_camera_is_still_replaced_after_the_heartbeat_timeout():
    h = running()
    silent = h.cluster.named["cam1"]
    silent.answering = False
    h.steps(int(TEST_SETTINGS.heartbeat_timeout_s) + 2, advance=1.0)
    assert not silent.alive, "heartbeat-timeout healing is unchanged"
    h.steps(3, advance=1.0)
    assert state_of(h, "cam1") is CameraState.LIVE and h.ctl.report().camera("cam1").restarts == 1


def test_a_scheduler_that_did_not_poll_does_not_call_its_cameras_unresponsive():
    h = running()
    h.clock.advance(UNRESPONSIVE_AFTER_S * 3)  # e.g. the loop was busy: no poll went unanswered
    assert state_of(h, "cam1") is CameraState.LIVE, "only a missed poll makes a camera unresponsive"
