"""`matthan serve` as a real process: Ray, camera actors, the gRPC front door and
/metrics; camera admin takes effect live and survives a restart; Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest
import yaml

from cluster.client import EventSelection, MatthanClient
from cluster.demo import ClipSpec, ensure_demo_clips
from tests.fixtures.streams import free_port
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.slow

CLIP = ClipSpec("serve-test", seed=3, people=3, vehicles=1, seconds=3.0, width=320, height=180)


def wait_for(condition, timeout: float, what: str):
    """Poll a server that may not be up yet: errors count as "not yet"."""
    return wait_until(condition, timeout, what, poll_s=0.5, tolerate_errors=True)


class ServeProcess:
    def __init__(self, config_path, log_path):
        self.config_path, self.log_path = config_path, log_path
        self.proc = None

    def start(self):
        env = {**os.environ, "RAY_ADDRESS": ""}
        self.log = open(self.log_path, "a")  # noqa: SIM115 - the process writes to it until interrupt() closes it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cluster.cli.main", "serve", "--config", str(self.config_path)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def interrupt(self, timeout: float = 90) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        finally:
            self.log.close()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def serve_setup(tmp_path):
    [clip] = ensure_demo_clips(tmp_path / "clips", (CLIP,))
    grpc_port, metrics_port = free_port(), free_port()
    config = {
        "cameras": [
            {
                "id": "cam-1",
                "name": "Hẻm 1",
                "source": {"url": str(clip), "loop": True},
                # Small movers at 320x180: a low minimum area; a zone over the view makes events.
                "analysis": {"fps": 4, "motion": {"min_area": 0.001}},
                "rules": {"zones": [{"name": "view", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]], "inertia": 1}]},
            }
        ],
        "runtime": {"state_dir": str(tmp_path / "state"), "ray": {"num_cpus": 4}},
        "server": {
            "host": "127.0.0.1",
            "port": grpc_port,
            "allow_unauthenticated": True,
            "file_roots": [str(tmp_path / "clips")],
        },
        "metrics": {"host": "127.0.0.1", "port": metrics_port, "refresh_interval_s": 1},
    }
    path = tmp_path / "cameras.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    processes = []

    def start():
        proc = ServeProcess(path, tmp_path / "serve.log")
        proc.start()
        processes.append(proc)
        return proc

    yield start, f"127.0.0.1:{grpc_port}", metrics_port, clip
    for proc in processes:
        proc.kill()


def test_serve_end_to_end(serve_setup):
    start, target, metrics_port, clip = serve_setup
    server = start()
    client = MatthanClient(target)
    try:
        wait_for(lambda: client.health() == "SERVING", 120, f"health SERVING\n{server.output()}")
        wait_for(lambda: client.get_camera("cam-1").status.state.value == "live", 60, "cam-1 live")

        stream = client.stream_detections(["cam-1"], include_empty=True)
        got = []
        for event in stream:
            got.append(event.batch)
            if len(got) >= 3:
                stream.cancel()
        assert [b.camera_id for b in got] == ["cam-1"] * 3

        client.add_camera({"id": "cam-2", "source": {"url": str(clip), "loop": True}})
        wait_for(lambda: client.get_camera("cam-2").status.state.value == "live", 60, "cam-2 live after AddCamera")

        body = wait_for(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode(),
            30,
            "metrics endpoint",
        )
        assert 'matthan_camera_up{camera="cam-2"' in body or 'camera="cam-2"' in body, "cam-2 missing from /metrics"

        # The event writer `serve` created follows cam-1's ring into the store; the front
        # door serves the events and the writer's metrics.
        stored = wait_for(
            lambda: client.events.search(EventSelection(camera_ids=["cam-1"], rules=["view"])).events,
            90,
            f"cam-1's zone events in QueryEvents\n{server.output()[-3000:]}",
        )

        def scrape() -> str:
            return urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()

        body = wait_for(
            lambda: (text := scrape()) and "matthan_event_store_cameras_followed 2.0" in text and text,
            60,
            "the writer follows both cameras (its metrics on the front door's /metrics)",
        )
        assert 'matthan_events_total{camera="cam-1"' in body, "the writer's event counts are on /metrics"
    finally:
        client.close()
    code = server.interrupt()
    assert code == 0, f"serve should exit 0 on Ctrl-C, got {code}\n{server.output()[-3000:]}"

    # The camera added over gRPC survives a restart: the YAML only seeded the first start.
    server = start()
    client = MatthanClient(target)
    try:
        wait_for(lambda: client.health() == "SERVING", 120, f"health SERVING after restart\n{server.output()}")
        ids = wait_for(lambda: {v.config.id for v in client.list_cameras()}, 30, "list after restart")
        assert ids == {"cam-1", "cam-2"}, f"persisted camera set lost or duplicated: {ids}"
        # The writer committed what it pulled before the clean stop: the events are still there.
        again = wait_for(
            lambda: {e.event_id for e in client.events.search_all(EventSelection(camera_ids=["cam-1"]))},
            60,
            "QueryEvents after the restart",
        )
        assert {e.event_id for e in stored} <= again, "events stored before the restart are in the store after it"
    finally:
        client.close()
    assert server.interrupt() == 0
