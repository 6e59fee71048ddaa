"""`matthan serve` as a real process starts the web console from `server.web` and prints
its address; Ctrl-C closes it with the rest."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

import pytest
import yaml

from cluster.demo import ClipSpec, ensure_demo_clips
from tests.fixtures.streams import free_port
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.slow

CLIP = ClipSpec("serve-web", seed=4, people=2, vehicles=1, seconds=2.0, width=160, height=96)


def test_serve_prints_the_console_url_and_serves_it(tmp_path) -> None:
    [clip] = ensure_demo_clips(tmp_path / "clips", (CLIP,))
    web_port = free_port()
    config = {
        "cameras": [{"id": "cam-1", "name": "Hẻm 1", "source": {"url": str(clip), "loop": True}}],
        "runtime": {"state_dir": str(tmp_path / "state"), "ray": {"num_cpus": 2}},
        "server": {
            "host": "127.0.0.1",
            "port": free_port(),
            "allow_unauthenticated": True,
            "web": {"host": "127.0.0.1", "port": web_port},
        },
        "metrics": {"host": "127.0.0.1", "port": free_port()},
    }
    path = tmp_path / "cameras.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cluster.cli.main", "serve", "--config", str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RAY_ADDRESS": ""},
        )
        try:
            url = f"http://127.0.0.1:{web_port}/"
            wait_until(
                lambda: f"web console: {url}" in log_path.read_text(errors="replace"),
                120,
                lambda: f"the console's address printed\n{log_path.read_text(errors='replace')[-3000:]}",
                poll_s=0.5,
            )
            with urllib.request.urlopen(url + "api/session", timeout=10) as reply:
                session = json.load(reply)
            assert session["authenticated"] and session["user"]["name"] == "anonymous", f"no-token mode: {session}"
            with urllib.request.urlopen(url, timeout=10) as reply:
                page = reply.read().decode("utf-8")
            assert re.search(r'<script type="module" src="/static/js/app.js">', page), "the console page"
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            try:
                code = proc.wait(90)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    assert code == 0, f"serve must exit 0 on Ctrl-C, got {code}\n{log_path.read_text(errors='replace')[-3000:]}"
