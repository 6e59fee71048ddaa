"""A camera actor frozen with SIGSTOP on local Ray: the scheduler reports it UNRESPONSIVE
within about `unresponsive_after_s` plus a step, keeps answering for every other camera
through `SchedulerClient` within its deadlines, and shows it LIVE again after SIGCONT,
without restarting it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
from cluster.control import CameraView
from cluster.domain import CameraState
from cluster.scheduler.actor import ensure_scheduler
from cluster.scheduler.client import SchedulerClient
from cluster.scheduler.settings import SchedulerSettings

from .ray_helpers import run, wait_until

pytestmark = pytest.mark.slow

NAMESPACE = "unresponsive-test"
SETTINGS = SchedulerSettings(
    namespace=NAMESPACE,
    tick_s=0.5,
    status_timeout_s=1.0,
    unresponsive_after_s=3.0,
    heartbeat_timeout_s=300.0,
    start_timeout_s=240.0,
    learn_costs=False,
)
# Reads answer from the scheduler's memory; these deadlines are what a caller is promised.
READ_ATTEMPT_S = 5.0
READ_DEADLINE_S = 10.0
# Reported within unresponsive_after_s plus a step (a step waits status_timeout_s for
# the frozen actor); the rest is slack for a loaded machine.
REPORTED_WITHIN_S = SETTINGS.unresponsive_after_s + SETTINGS.tick_s + SETTINGS.status_timeout_s + 20.0


def clip_camera(camera_id: str, clip: Path) -> CameraConfig:
    return CameraConfig(
        id=camera_id,
        source=SourceConfig(url=str(clip), loop=True, realtime=True),
        analysis=AnalysisConfig(fps=1.0),
    )


@pytest.fixture
def client(ray_local, tmp_path):
    settings = SETTINGS.replace(state_dir=tmp_path / "state")
    client = SchedulerClient(
        ensure_scheduler(settings), NAMESPACE, read_attempt_s=READ_ATTEMPT_S, read_deadline_s=READ_DEADLINE_S
    )
    try:
        yield client
    finally:
        run(client.shutdown(stop_cameras=True))


def view(client: SchedulerClient, camera_id: str) -> CameraView:
    return run(client.get_camera(camera_id))


def in_state(client: SchedulerClient, camera_id: str, state: CameraState) -> CameraView | None:
    v = view(client, camera_id)
    return v if v.status is not None and v.status.state is state else None


def test_a_frozen_camera_actor_is_reported_not_waited_for(client, media):
    clip = media / "car-detection.mp4"
    for cid in ("frozen", "other"):
        run(client.add_camera(clip_camera(cid, clip)))
    wait_until(
        lambda: all(in_state(client, c, CameraState.LIVE) for c in ("frozen", "other")),
        180,
        lambda: f"both cameras live: {run(client.list_cameras())}",
    )
    pid = view(client, "frozen").status.pid
    assert pid != os.getpid(), "the camera runs in its own actor process"
    os.kill(pid, signal.SIGSTOP)
    try:
        frozen = wait_until(
            lambda: in_state(client, "frozen", CameraState.UNRESPONSIVE),
            REPORTED_WITHIN_S,
            lambda: f"frozen camera reported: {view(client, 'frozen').status}",
        )
        assert "its actor has not answered for" in frozen.status.reason, frozen.status.reason
        # Everything else keeps answering within the client's read deadline (a read past
        # it raises SchedulerUnavailable), and the other camera keeps being polled.
        before = view(client, "other").status.frames_received
        views = {v.config.id: v for v in run(client.list_cameras())}
        assert views["frozen"].status.state is CameraState.UNRESPONSIVE, views["frozen"].status
        assert views["other"].status.state is CameraState.LIVE, views["other"].status
        status = run(client.cluster_status())
        assert (status.cameras_configured, status.cameras_live) == (2, 1), f"the frozen one is not live: {status}"
        wait_until(
            lambda: view(client, "other").status.frames_received > before,
            60,
            "the other camera's status is refreshed while one actor is frozen",
        )
        report = run(client.report())
        assert report.camera("frozen").state == "unresponsive" and report.camera("frozen").restarts == 0, report.camera(
            "frozen"
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    back = wait_until(
        lambda: in_state(client, "frozen", CameraState.LIVE),
        60,
        lambda: f"frozen camera live again: {view(client, 'frozen').status}",
    )
    assert back.status.pid == pid, "the same actor process: it was not replaced"
    assert run(client.report()).camera("frozen").restarts == 0
