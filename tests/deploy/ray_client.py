"""The pods of the chart as processes on this machine: a Ray cluster with Ray's client
server on its head (what KubeRay's head Service offers on port 10001), and `matthan`
commands run as their own processes joining it through `ray://`."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

from ray.cluster_utils import Cluster

from cluster.client import MatthanClient
from tests.conftest import REPO_ROOT
from tests.fixtures.streams import free_port
from tests.ray_cluster import start_cluster as start_nodes

MATTHAN = [sys.executable, "-m", "cluster.cli.main"]


def pod_environment() -> dict[str, str]:
    """What a pod of the image has: this checkout's package on every process's path (Ray
    Client's server and the workers it starts do not run in our working directory), no
    RAY_ADDRESS, and no LD_LIBRARY_PATH: importing cv2 adds its library directory to it,
    and Ray Client's per-client server, inheriting that, exits at once."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def start_cluster(worker_cpus: int = 2) -> tuple[Cluster, str]:
    """A head that takes no camera (the chart's `num-cpus: 0`) with Ray's client server,
    and one worker; returns the cluster and its `ray://` address."""
    port = free_port()
    with _environment(pod_environment()):  # Ray's processes inherit it
        cluster = start_nodes(
            {"num_cpus": 0, "include_dashboard": False, "ray_client_server_port": port},
            workers=[{"num_cpus": worker_cpus}],
        )
    return cluster, f"ray://127.0.0.1:{port}"


def run(argv: list[str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=pod_environment(), check=False)


def start(argv: list[str], log) -> subprocess.Popen:
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=pod_environment())


def serving(address: str) -> bool:
    """What the readiness probe asks (cluster/deploy/probe.py)."""
    probe = run([sys.executable, "-m", "cluster.deploy.probe", "--address", address, "--service", "matthan.v1.Cameras"])
    return probe.returncode == 0


def live_cameras(address: str) -> list[str]:
    with MatthanClient(address) as client:
        views = client.list_cameras()
    return sorted(v.config.id for v in views if v.status is not None and v.status.state.value == "live")


# Ray Client's per-client server is sometimes killed as it starts on a loaded machine (it
# shares its fate with the proxy thread that spawned it; it leaves no output), and the
# client then fails with this. Kubernetes retries a failed Job and restarts a failed pod,
# so the helpers below do the same, for this failure only.
# Both ways Ray Client's per-client server fails to start: it reports the failure, or
# it died at once and the proxier trips over its zombie (psutil.ZombieProcess).
CLIENT_SERVER_DID_NOT_START = ("Starting Ray client server failed", "Initialization failure from server")
ATTEMPTS = 3


def client_server_did_not_start(output: str) -> bool:
    return any(marker in output for marker in CLIENT_SERVER_DID_NOT_START)


def run_as_job(argv: list[str], timeout: float = 240) -> subprocess.CompletedProcess:
    """`run`, retried like a Job's backoffLimit when Ray Client's server did not start."""
    for _ in range(ATTEMPTS):
        result = run(argv, timeout=timeout)
        if result.returncode == 0 or not client_server_did_not_start(result.stderr):
            return result
    return result


def start_supervised(argv: list[str], log_path, ready, timeout: float = 180) -> subprocess.Popen:
    """Start a server process and wait for `ready()`; restarted, as Kubernetes restarts a
    pod, when it exits because Ray Client's server did not start. Fails after `timeout`."""
    import time

    deadline = time.monotonic() + timeout
    for _ in range(ATTEMPTS):
        with open(log_path, "a") as log:
            proc = start(argv, log)
        while time.monotonic() < deadline and proc.poll() is None:
            if ready():
                return proc
            time.sleep(1.0)
        if proc.poll() is None:
            break  # still running but not ready in time
        if not client_server_did_not_start(log_path.read_text(errors="replace")):
            break  # exited for another reason: the caller sees it
    if proc.poll() is None:
        proc.terminate()
        proc.wait(60)
    raise AssertionError(f"{argv[3:5]} not ready within {timeout:g} s: {log_path.read_text(errors='replace')[-2000:]}")
