"""Head-node loss with Ray's GCS fault tolerance, as the chart's `gcsFaultTolerance` runs
it: the GCS keeps its tables in an external Redis (Debian's `redis-server`, started by
the test), is killed and started again on the same head. Running cameras must go on
analysing while it is down (actor calls go straight to the actor's process, not
through the GCS), and the control plane must recover by itself once it is back: the
scheduler answers with every camera live and new cameras can be added.

The loss without fault tolerance (every actor gone, the front door re-creates the
scheduler from its state volume) is `test_head_loss.py`.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import ray

from cluster.scheduler.actor import ensure_scheduler
from cluster.scheduler.client import SchedulerClient
from cluster.scheduler.settings import SchedulerSettings
from tests.fixtures.streams import free_port
from tests.fixtures.waiting import wait_until
from tests.ray_cluster import start_cluster
from tests.scheduler.ray_helpers import tiny_camera, tiny_clip

pytestmark = pytest.mark.slow

NAMESPACE = "gcs-ft-test"
REDIS_SERVER = "/usr/bin/redis-server"
GCS_DOWN_S = 8.0  # longer than a few analysis ticks; well inside Ray's 60 s reconnect window


@pytest.fixture
def redis_address(tmp_path: Path):
    assert shutil.which(REDIS_SERVER), f"{REDIS_SERVER} is missing: apt-get install redis-server (make test does)"
    port = free_port()
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        address = f"127.0.0.1:{port}"
        wait_until(
            lambda: _redis(address, b"PING").startswith(b"+PONG"), 30, "redis-server answering", tolerate_errors=True
        )
        yield address
    finally:
        proc.terminate()
        proc.wait(30)


def _redis(address: str, command: bytes) -> bytes:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=1) as sock:
        sock.sendall(command + b"\r\n")
        return sock.recv(64)


def _redis_keys(address: str) -> int:
    reply = _redis(address, b"DBSIZE")  # ":<n>\r\n"
    return int(reply[1:].split(b"\r\n", 1)[0])


def run(coro):
    return asyncio.run(coro)


def test_cameras_keep_analysing_while_the_gcs_is_down_and_the_control_plane_recovers(
    redis_address, tmp_path: Path, monkeypatch
):
    if ray.is_initialized():
        ray.shutdown()
    monkeypatch.setenv("RAY_REDIS_ADDRESS", redis_address)  # the head's GCS stores its tables there
    clip = tiny_clip(tmp_path / "clips")
    cluster = start_cluster(
        {
            "num_cpus": 2,
            "include_dashboard": False,
            "gcs_server_port": free_port(),  # a restarted GCS must come back where the raylets look
            "_system_config": {"gcs_rpc_server_reconnect_timeout_s": 60},
        },
        workers=[{"num_cpus": 2}],
    )
    try:
        ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False, logging_level="WARNING")
        settings = SchedulerSettings(namespace=NAMESPACE, tick_s=0.5, state_dir=tmp_path / "scheduler-state")
        client = SchedulerClient(ensure_scheduler(settings), NAMESPACE)
        run(client.add_camera(tiny_camera("before", clip)))
        wait_until(lambda: run(client.cluster_status()).cameras_live == 1, 120, "the first camera live", poll_s=1)
        assert _redis_keys(redis_address) > 0, "the GCS keeps its tables in the external Redis"
        handle = run(client.handle("before"))
        sequence_before = run(handle.status()).last_sequence

        cluster.head_node.kill_gcs_server()
        down_since = time.monotonic()
        analysed_while_down = []
        while time.monotonic() - down_since < GCS_DOWN_S:
            analysed_while_down.append(run(handle.status()).last_sequence)
            time.sleep(1.0)
        cluster.head_node.start_gcs_server()
        restarted = time.monotonic()

        assert analysed_while_down[-1] > sequence_before, (
            f"the camera published no detection batch during {GCS_DOWN_S:.0f} s without the GCS "
            f"(sequence {sequence_before} before, {analysed_while_down} while down)"
        )
        status = wait_until(
            lambda: (s := run(client.cluster_status())).cameras_live == 1 and s,
            120,
            "the scheduler answering with the camera live after the GCS restart",
            poll_s=1,
            tolerate_errors=True,
        )
        assert status.cameras_configured == 1, f"the desired set is unchanged: {status}"
        run(client.add_camera(tiny_camera("after", clip)))
        wait_until(
            lambda: run(client.cluster_status()).cameras_live == 2,
            120,
            "a camera added after the GCS restart live beside the first",
            poll_s=1,
            tolerate_errors=True,
        )
        recovered_s = time.monotonic() - restarted
        assert run(handle.status()).last_sequence > analysed_while_down[-1], "the first camera never stopped"
        print(f"control plane recovered {recovered_s:.1f} s after the GCS restart")  # the fault table's figure
    finally:
        ray.shutdown()
        cluster.shutdown()
