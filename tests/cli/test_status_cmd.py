"""`matthan status`: camera states and recent detections, read through the scheduler and
the camera handles; a camera that cannot answer is reported, never hides the others."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys

import pytest
import ray

from cluster.cli.status_cmd import problems, read_cameras
from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
from cluster.control import CameraUnavailable, CameraUnresponsive
from cluster.demo import ClipSpec, ensure_demo_clips
from cluster.domain import CameraStatus
from tests.fixtures.serve_path import ServePath
from tests.fixtures.waiting import wait_until
from tests.gateway.fakes import FakeControl, camera_config

CLIP = ClipSpec("status-cmd", seed=5, people=2, vehicles=1, seconds=3.0, width=160, height=96)


def test_read_cameras_reports_each_camera_and_who_cannot_answer() -> None:
    async def read():
        control = FakeControl([camera_config("cam-a"), camera_config("cam-b"), camera_config("cam-c")])
        await control.cameras["cam-a"].publish_batch(count=7)
        control.cameras["cam-b"].freeze()
        control.cameras["cam-c"].unavailable = True
        return await read_cameras(control, detections=3)

    statuses, pulls = asyncio.run(read())
    assert isinstance(statuses["cam-a"], CameraStatus), f"cam-a answers: {statuses['cam-a']!r}"
    assert [b.sequence for b in pulls["cam-a"].batches] == [5, 6, 7], "the newest 3 batches"
    assert isinstance(statuses["cam-b"], CameraUnresponsive), f"frozen: {statuses['cam-b']!r}"
    assert isinstance(statuses["cam-c"], CameraUnavailable), f"not running: {statuses['cam-c']!r}"
    assert set(pulls) == {"cam-a"}, "no detections shown for cameras that did not answer"
    lines = problems(statuses)
    assert any(line.startswith("cam-b: unavailable:") and "did not answer" in line for line in lines), lines
    assert any(line.startswith("cam-c: unavailable:") for line in lines), lines


def test_a_degraded_camera_is_named_with_the_rate_it_lowered_itself_to() -> None:
    async def read():
        control = FakeControl([camera_config("cam-a")])
        return await read_cameras(control, detections=0)

    statuses, _ = asyncio.run(read())
    status = statuses["cam-a"]
    assert isinstance(status, CameraStatus), f"cam-a answers: {status!r}"
    lines = problems({"cam-a": dataclasses.replace(status, target_fps=1.5, degraded=True), "cam-b": status})
    assert lines == ["cam-a: degraded: analysing at 1.5 fps, below analysis.fps (node short of CPU)"], lines


@pytest.mark.slow
def test_status_command_shows_the_cameras_of_a_running_scheduler(ray_local, tmp_path) -> None:
    [clip] = ensure_demo_clips(tmp_path / "clips", (CLIP,))
    camera = CameraConfig(
        id="status-live", source=SourceConfig(url=str(clip), loop=True, realtime=True), analysis=AnalysisConfig(fps=4.0)
    )
    path = asyncio.run(ServePath.start(tmp_path / "state", [camera], prefix="status-cmd"))
    try:

        def publishing() -> bool:
            view = asyncio.run(path.client.get_camera("status-live"))
            return view.status is not None and view.status.last_sequence > 0

        wait_until(publishing, 120, "status-live publishing", poll_s=0.5)
        pid = asyncio.run(path.client.get_camera("status-live")).status.pid
        elsewhere = subprocess.run(
            [
                sys.executable,
                "-m",
                "cluster.cli.main",
                "status",
                "--address",
                ray.get_runtime_context().gcs_address,
                "--namespace",
                "status-cmd-elsewhere",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        shown = subprocess.run(
            [
                sys.executable,
                "-m",
                "cluster.cli.main",
                "status",
                "--address",
                ray.get_runtime_context().gcs_address,
                "--namespace",
                path.namespace,
                "--detections",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "COLUMNS": "200"},  # a terminal wide enough for every column
        )
    finally:
        asyncio.run(path.stop())
    assert shown.returncode == 0, shown.stderr
    assert "status-live" in shown.stdout and "live" in shown.stdout, shown.stdout
    assert "status-live: recent detections" in shown.stdout, shown.stdout
    assert str(pid) in shown.stdout, f"the camera actor's process id {pid} is shown: {shown.stdout}"
    assert elsewhere.returncode == 1 and repr(path.namespace) in elsewhere.stderr, (
        f"a wrong --namespace names the one that has a scheduler: {elsewhere.stderr}"
    )


@pytest.mark.slow
def test_status_command_without_a_scheduler_fails_with_one_line(ray_local) -> None:
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "cluster.cli.main",
            "status",
            "--address",
            ray.get_runtime_context().gcs_address,
            "--namespace",
            "status-cmd-nobody",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 1, shown.stdout
    assert "no scheduler actor" in shown.stderr and shown.stderr.strip().count("\n") == 0, shown.stderr
