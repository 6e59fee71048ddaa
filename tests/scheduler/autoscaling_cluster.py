"""Ray's fake autoscaling cluster (`ray.cluster_utils.AutoscalingCluster`), made safe
and self-contained for a shared machine.

Two things of the stock class do not work here:

- the PyPI wheel lacks `fake_multi_node/example.yaml`, which `_generate_config`
  reads: we write the small config the fake provider needs ourselves;
- `start()` and `shutdown()` run `ray stop --force`, which kills every Ray
  process on the machine, other people's included: we run our own
  `ray start --head --block` on a free port and a private temp dir, and stop
  exactly the processes it started (by pid, collected from its process tree).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import ray
from ray.cluster_utils import AutoscalingCluster

from tests.fixtures.streams import free_port

RAY_CLI = Path(sys.executable).with_name("ray")
WORKER_TYPE = "ray.worker.cpu"


class LocalAutoscalingCluster(AutoscalingCluster):
    def __init__(self, *, head_cpus: int, worker_cpus: int, max_workers: int, idle_timeout_s: float):
        self.port = free_port()
        self.temp_dir = Path(tempfile.mkdtemp(prefix="mtas-", dir="/tmp"))  # short: socket paths are limited
        self.log_path = self.temp_dir / "ray-start.log"
        self.process: subprocess.Popen | None = None
        self.address = f"{ray._private.services.get_node_ip_address()}:{self.port}"
        worker_types = {
            WORKER_TYPE: {
                "resources": {"CPU": worker_cpus},
                "node_config": {},
                "min_workers": 0,
                "max_workers": max_workers,
            }
        }
        super().__init__(
            head_resources={"CPU": head_cpus},
            worker_node_types=worker_types,
            max_workers=max_workers,
            idle_timeout_minutes=idle_timeout_s / 60.0,
        )

    def _generate_config(self, head_resources, worker_node_types, autoscaler_v2=False, **config_kwargs):
        # What fake_multi_node/example.yaml holds, minus its sample node types.
        config = {
            "cluster_name": f"fake-{self.port}",
            "max_workers": 8,
            "provider": {
                "type": "fake_multinode",
                "use_node_id_as_ip": True,
                "disable_node_updaters": True,
                "disable_launch_config_check": True,
                "gcs_address": self.address,  # worker nodes join our head, not one on 6379
            },
            "available_node_types": {
                **worker_node_types,
                "ray.head.default": {"resources": dict(head_resources), "node_config": {}, "max_workers": 0},
            },
            "head_node_type": "ray.head.default",
            "auth": {},
            "upscaling_speed": 1.0,
            "idle_timeout_minutes": 0.1,
            "docker": {},
            "initialization_commands": [],
            "setup_commands": [],
            "head_setup_commands": [],
            "worker_setup_commands": [],
            "head_start_ray_commands": [],
            "worker_start_ray_commands": [],
            "file_mounts": {},
            "cluster_synced_files": [],
            "file_mounts_sync_continuously": False,
            "rsync_exclude": [],
            "rsync_filter": [],
        }
        config.update(config_kwargs)
        return config

    def start(self, _system_config=None, override_env=None, timeout_s: float = 60.0) -> None:
        config_path = self.temp_dir / "autoscaling.json"
        config_path.write_text(json.dumps(self._config))
        head = dict(self._head_resources)
        cmd = [
            str(RAY_CLI),
            "start",
            "--head",
            "--block",
            f"--port={self.port}",
            f"--temp-dir={self.temp_dir}",
            f"--autoscaling-config={config_path}",
            f"--num-cpus={head.pop('CPU', 1)}",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ]
        if _system_config:
            cmd.append(f"--system-config={json.dumps(_system_config, separators=(',', ':'))}")
        # RAY_AUTH_MODE: `ray start` turns token auth on when ~/.ray/auth_token exists
        # (a local ray.init() creates one); our test driver connects without a token.
        env = {
            **os.environ,
            "AUTOSCALER_UPDATE_INTERVAL_S": "1",
            "RAY_FAKE_CLUSTER": "1",
            "RAY_AUTH_MODE": "disabled",
            **(override_env or {}),
        }
        env.pop("RAY_ADDRESS", None)
        log = open(self.log_path, "w")  # noqa: SIM115 - kept open for the child's lifetime
        self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while not self._gcs_up():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"fake autoscaling cluster did not start; see {self.log_path}:\n"
                    + self.log_path.read_text()[-3000:]
                )
            time.sleep(0.5)

    def _gcs_up(self) -> bool:
        try:
            with socket_to(self.address):
                return True
        except OSError:
            return False

    def shutdown(self) -> None:
        """Stop the processes this cluster started, and nothing else."""
        if self.process is None:
            return
        try:
            root = psutil.Process(self.process.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        # Also the fake worker nodes' processes, in case one was re-parented away.
        marker = str(self.temp_dir)
        for proc in psutil.process_iter(["pid", "cmdline"]):
            try:
                if marker in " ".join(proc.info["cmdline"] or ()) and proc not in tree:
                    tree.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        self.process.send_signal(signal.SIGTERM)  # `ray start --block` stops its node on SIGTERM
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        for proc in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(tree, timeout=10)
        self.process = None
        shutil.rmtree(self.temp_dir, ignore_errors=True)


class socket_to:
    """A TCP connection to host:port, closed on exit."""

    def __init__(self, address: str):
        host, port = address.rsplit(":", 1)
        self.sock = __import__("socket").create_connection((host, int(port)), timeout=1.0)

    def __enter__(self):
        return self.sock

    def __exit__(self, *exc) -> None:
        self.sock.close()
