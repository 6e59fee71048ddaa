"""The chart's shape on a real Ray cluster, as the pods run it: a head that takes no
cameras and a worker, with Ray's client server on the head as KubeRay's head Service
offers it; `matthan deploy --address ray://...` (the Job) and `matthan serve --address
ray://...` (the front door Deployment) as processes of their own. The deploy Job's
camera is live behind the front door; the readiness probe answers SERVING; the front
door stops without taking the cameras with it, and a new one serves them again (it
holds no state a restart loses); a second deploy changes nothing."""

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


@pytest.fixture(scope="module")
def ray_client_address():
    if ray.is_initialized():
        ray.shutdown()  # this process stays out of the cluster: the pods are other processes
    cluster, address = start_cluster()
    try:
        yield address
    finally:
        cluster.shutdown()


def test_deploy_job_and_front_door_through_ray_client(ray_client_address, tmp_path: Path):
    grpc_port, metrics_port = free_port(), free_port()
    clip = tiny_clip(tmp_path / "clips")
    config = {
        "cameras": [{"id": "cam-k8s", "source": {"url": str(clip), "loop": True, "realtime": True}}],
        "runtime": {"ray": {"namespace": "ray-client-test"}, "state_dir": str(tmp_path / "state")},
        "scheduler": {"use_head_node": False, "tick_s": 0.5, "start_timeout_s": 240.0},
        "server": {"host": "127.0.0.1", "port": grpc_port, "allow_unauthenticated": True},
        "metrics": {"port": metrics_port},
    }
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    deploy = [*MATTHAN, "deploy", "--address", ray_client_address, "--config", str(config_path)]

    first = run_as_job(deploy)
    assert first.returncode == 0, f"the deploy Job succeeds over Ray Client: {first.stdout}{first.stderr}"
    assert "add cam-k8s" in first.stdout, f"it adds the config's camera: {first.stdout}"

    address = f"127.0.0.1:{grpc_port}"
    serve = [*MATTHAN, "serve", "--address", ray_client_address, "--config", str(config_path)]
    for life in ("first", "restarted"):
        log = tmp_path / f"serve-{life}.log"
        proc = start_supervised(serve, log, lambda: serving(address))  # the front door is SERVING
        try:
            wait_until(
                lambda: live_cameras(address) == ["cam-k8s"],
                240,
                lambda life=life, log=log: (
                    f"cam-k8s live behind the {life} front door: {log.read_text(errors='replace')[-2000:]}"
                ),
                poll_s=1.0,
                tolerate_errors=True,
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(90)
        assert code == 0, f"the {life} front door stops cleanly on SIGTERM: {log.read_text(errors='replace')[-2000:]}"
        assert "keep running in the cluster" in log.read_text(), "a joined front door leaves the cameras running"

    second = run_as_job(deploy)
    assert second.returncode == 0, f"the second deploy succeeds: {second.stdout}{second.stderr}"
    assert "up to date: nothing changed" in second.stdout, f"and changes nothing: {second.stdout}"
