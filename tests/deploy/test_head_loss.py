"""The loss of the Ray head pod without GCS fault tolerance, as the chart runs it: the
whole Ray cluster restarts, every actor is gone. The front door (`matthan serve
--address ray://... --exit-when-unreachable`) exits so that Kubernetes restarts it;
the new one, on the new head, re-creates the scheduler from the state volume, and the
desired camera set runs again without anyone deploying."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import ray
import yaml

from tests.fixtures.streams import free_port
from tests.fixtures.waiting import wait_until
from tests.scheduler.ray_helpers import tiny_clip

from .ray_client import MATTHAN, live_cameras, run_as_job, serving, start_cluster, start_supervised

pytestmark = pytest.mark.slow

UNREACHABLE_S = 5.0


def front_door(address: str, config: Path, log: Path, ready):
    argv = [*MATTHAN, "serve", "--address", address, "--config", str(config)]
    return start_supervised([*argv, "--exit-when-unreachable", str(UNREACHABLE_S)], log, ready)


def test_after_a_head_loss_a_restarted_front_door_brings_the_cameras_back(tmp_path: Path):
    if ray.is_initialized():
        ray.shutdown()
    grpc_port = free_port()
    cluster, ray_address = start_cluster()
    clip = tiny_clip(tmp_path / "clips")
    config = {
        "cameras": [{"id": "cam-head-loss", "source": {"url": str(clip), "loop": True, "realtime": True}}],
        "runtime": {"ray": {"namespace": "head-loss-test"}, "state_dir": str(tmp_path / "state")},
        "scheduler": {"use_head_node": False, "tick_s": 0.5, "start_timeout_s": 240.0},
        "server": {"host": "127.0.0.1", "port": grpc_port, "allow_unauthenticated": True},
        "metrics": {"port": free_port()},
    }
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    address = f"127.0.0.1:{grpc_port}"
    proc = None
    try:
        deployed = run_as_job([*MATTHAN, "deploy", "--address", ray_address, "--config", str(config_path)])
        assert deployed.returncode == 0, f"the deploy Job succeeds: {deployed.stdout}{deployed.stderr}"
        proc = front_door(ray_address, config_path, tmp_path / "before.log", lambda: serving(address))
        wait_until(lambda: live_cameras(address) == ["cam-head-loss"], 240, "the camera is live", tolerate_errors=True)
        cluster.shutdown()  # the head pod is lost: the Ray cluster with it
        code = proc.wait(180)
        log = (tmp_path / "before.log").read_text(errors="replace")
        assert code == 1, f"the front door exits with an error for its restart: {log[-2000:]}"
        assert "has not answered" in log, f"and says why: {log[-2000:]}"

        cluster, ray_address = start_cluster()  # KubeRay starts a new head and workers
        # Kubernetes restarts the pod: it joins the new head.
        proc = front_door(ray_address, config_path, tmp_path / "after.log", lambda: serving(address))
        wait_until(
            lambda: live_cameras(address) == ["cam-head-loss"],
            240,
            lambda: f"the camera runs again from the state volume: {(tmp_path / 'after.log').read_text()[-2000:]}",
            tolerate_errors=True,
        )
        after = (tmp_path / "after.log").read_text(errors="replace")
        assert "resuming the scheduler's camera set" in after, f"from the state volume, not the config: {after[-2000:]}"
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(90)
        cluster.shutdown()
