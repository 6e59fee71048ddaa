"""Tokens, passwords and token hashes never leave the server (issue 15), checked on a
real `matthan serve` session: a camera whose URL carries a password and a secret query
parameter, logins and calls with good and wrong tokens over gRPC and the console,
refused requests that echo their input, and then a grep for every secret through
everything the session wrote or answered: its output, Ray's logs of the session, the
metrics page, the answers and errors it gave, and its state directory (where the
camera's URL must be kept, so a file holding it must be readable by its owner only).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import yaml

from cluster.client import MatthanClient
from cluster.client.errors import ClientError
from cluster.demo import ClipSpec, ensure_demo_clips
from cluster.gateway.auth import hash_token
from cluster.proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc, types_pb2
from tests.fixtures.streams import free_port
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.slow

CLIP = ClipSpec("secrets", seed=5, people=1, vehicles=1, seconds=2.0, width=160, height=96)
ADMIN_TOKEN = "admin-Tk7vQ2xLr9sW4mZ1"
VIEWER_TOKEN = "viewer-Hp3nB8cJ5dF0gY6"
WRONG_TOKEN = "wrong-Xe2uA7kN4tR1qV9"
PASSWORD = "Pw-s3cr3t-9QxZ"
QUERY_SECRET = "Qs-k3y-4WmT7"
SECRETS = {
    "admin token": ADMIN_TOKEN,
    "viewer token": VIEWER_TOKEN,
    "wrong token": WRONG_TOKEN,
    "admin token hash": hash_token(ADMIN_TOKEN),
    "viewer token hash": hash_token(VIEWER_TOKEN),
    "camera password": PASSWORD,
    "secret query parameter": QUERY_SECRET,
}
TOKEN_SECRETS = {k: v for k, v in SECRETS.items() if "token" in k}
CAMERA_SECRETS = {k: v for k, v in SECRETS.items() if "token" not in k}


@pytest.fixture
def ray_tmp() -> Iterator[Path]:
    """Ray's own directory for this session (short: Ray's socket paths must fit 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="mt-sec-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def found_in(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in text]


def test_no_secret_in_logs_metrics_answers_or_state_files_readable_by_others(tmp_path: Path, ray_tmp: Path) -> None:
    [clip] = ensure_demo_clips(tmp_path / "clips", (CLIP,))
    grpc_port, web_port, metrics_port = free_port(), free_port(), free_port()
    secret_url = f"rtsp://admin:{PASSWORD}@127.0.0.1:{free_port()}/live?token={QUERY_SECRET}"
    config = {
        "cameras": [
            {"id": "cam-1", "groups": ["ward-1"], "source": {"url": str(clip), "loop": True}},
            {"id": "cam-pw", "groups": ["ward-1"], "source": {"url": secret_url}},
        ],
        "runtime": {"state_dir": str(tmp_path / "state"), "ray": {"num_cpus": 2}},
        "server": {
            "host": "127.0.0.1",
            "port": grpc_port,
            "tokens": [
                {"name": "duty-admin", "sha256": hash_token(ADMIN_TOKEN), "role": "admin"},
                {"name": "ward-viewer", "sha256": hash_token(VIEWER_TOKEN), "role": "viewer", "groups": ["ward-1"]},
            ],
            "web": {"host": "127.0.0.1", "port": web_port},
        },
        "metrics": {"host": "127.0.0.1", "port": metrics_port},
    }
    config_path = tmp_path / "cameras.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    log_path = tmp_path / "serve.log"
    answers: list[str] = []  # everything the session answered a client: bodies and error messages
    console = f"http://127.0.0.1:{web_port}/"

    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cluster.cli.main", "serve", "--config", str(config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RAY_ADDRESS": "", "RAY_TMPDIR": str(ray_tmp)},
        )
        try:
            wait_until(
                lambda: f"web console: {console}" in log_path.read_text(errors="replace"),
                240,
                lambda: f"serve started\n{log_path.read_text(errors='replace')[-3000:]}",
                poll_s=0.5,
            )
            answers += exercise_grpc(f"127.0.0.1:{grpc_port}")
            answers += exercise_console(console)
            metrics = wait_for_metrics(metrics_port)
            answers.append(metrics)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise

    output = log_path.read_text(errors="replace")
    ray_logs = {
        str(path.relative_to(ray_tmp)): path.read_text(errors="replace")
        for path in sorted(ray_tmp.rglob("*"))
        if path.is_file() and not path.is_socket() and path.stat().st_size < 50 << 20
    }
    masked = "admin:***@127.0.0.1"
    everything = "\n".join([output, *ray_logs.values(), *answers])
    assert "cam-pw" in output and any("worker" in name for name in ray_logs), (
        f"the grep reads the session's output and its camera actors' logs: {sorted(ray_logs)[:20]}"
    )
    assert masked in everything, "the camera's URL was shown (masked) somewhere, so the grep had a chance to fail"
    leaks = {"serve output": found_in(output, SECRETS)}
    for name, text in ray_logs.items():
        leaks[f"ray: {name}"] = found_in(text, SECRETS)
    leaks["metrics page"] = found_in(metrics, SECRETS)
    for i, answer in enumerate(answers):
        leaks[f"answer {i}: {answer[:80]!r}"] = found_in(answer, SECRETS)
    leaks = {where: names for where, names in leaks.items() if names}
    assert not leaks, f"secrets found: {json.dumps(leaks, indent=1)}"

    state = tmp_path / "state"
    state_files = [p for p in state.rglob("*") if p.is_file()]
    assert state_files, "the session kept its state"
    for path in state_files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        where = path.relative_to(state)
        assert not found_in(text, TOKEN_SECRETS), f"{where}: holds {found_in(text, TOKEN_SECRETS)}"
        if found_in(text, CAMERA_SECRETS):
            mode = stat.S_IMODE(path.stat().st_mode)
            assert not mode & 0o077, f"{where} holds the camera's password and is {oct(mode)}"


def exercise_grpc(target: str) -> list[str]:
    answers: list[str] = []
    with MatthanClient(target, ADMIN_TOKEN, timeout_s=30) as admin:
        wait_until(lambda: len(admin.list_cameras()) == 2, 120, "both cameras listed")
    with MatthanClient(target, VIEWER_TOKEN, timeout_s=30) as viewer:
        answers += [repr(view) for view in viewer.list_cameras()]
    with MatthanClient(target, WRONG_TOKEN, timeout_s=30) as wrong:
        try:
            wrong.list_cameras()
            answers.append("a wrong token was let in")
        except ClientError as exc:
            answers.append(str(exc))
    channel = grpc.insecure_channel(target)
    stub = cameras_pb2_grpc.CamerasStub(channel)
    admin_metadata = (("authorization", f"Bearer {ADMIN_TOKEN}"),)
    bad_urls = [
        f"rtsp://admin:{PASSWORD}@127.0.0.1/live?token={QUERY_SECRET}\r\n",  # a control character
        f"rtsp://admin:{PASSWORD}@bad host/live",  # a spaced host
        f"rtsp://admin:{PASSWORD}@127.0.0.1:99999/live",  # a port out of range
        f"rtsp://admin:{PASSWORD}@{'h' * 300}/live?key={QUERY_SECRET}",  # a host too long
    ]
    for i, url in enumerate(bad_urls):
        spec = types_pb2.CameraSpec(id="cam-bad", source=types_pb2.SourceSpec(url=url))
        try:
            stub.AddCamera(cameras_pb2.AddCameraRequest(camera=spec), metadata=admin_metadata, timeout=30)
            answers.append(f"AddCamera accepted bad URL #{i}")  # then it runs, and its errors are grepped too
        except grpc.RpcError as exc:
            answers.append(f"{exc.code()}: {exc.details()}")
    for token in (WRONG_TOKEN, f"{WRONG_TOKEN}\n", WRONG_TOKEN * 20):
        try:
            stub.ListCameras(
                cameras_pb2.ListCamerasRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=30
            )
        except (grpc.RpcError, ValueError) as exc:  # ValueError: gRPC refuses a newline in metadata itself
            answers.append(str(exc.details() if isinstance(exc, grpc.RpcError) else "refused locally"))
    channel.close()
    return answers


def exercise_console(console: str) -> list[str]:
    answers: list[str] = []
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    origin = console.rstrip("/")

    def post(path: str, body: dict, csrf: str | None = None) -> tuple[int, str]:
        headers = {"Content-Type": "application/json", "Origin": origin}
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        request = urllib.request.Request(console + path.lstrip("/"), json.dumps(body).encode(), headers, method="POST")
        try:
            with opener.open(request, timeout=30) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def get(path: str) -> tuple[int, str]:
        try:
            with opener.open(console + path.lstrip("/"), timeout=30) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    status, body = post("/api/login", {"token": WRONG_TOKEN})
    assert status == 401, f"a wrong token: {status} {body}"
    answers.append(body)
    status, body = post("/api/login", {"token": VIEWER_TOKEN})
    assert status == 200, f"login: {status} {body}"
    csrf = json.loads(body)["csrf_token"]
    for path in ("/api/session", "/api/cameras", "/api/cameras/cam-pw", "/api/cameras/cam-pw/zones"):
        answers.append(get(path)[1])
    answers.append(post("/api/logout", {}, csrf)[1])
    status, body = post("/api/login", {"token": ADMIN_TOKEN})
    assert status == 200, f"admin login: {status} {body}"
    answers.append(get("/api/cameras/cam-pw")[1])
    return answers


def wait_for_metrics(port: int) -> str:
    def page() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as reply:
            return reply.read().decode()

    wait_until(lambda: 'camera="cam-pw"' in page(), 180, "the metrics page lists the camera with the password")
    return page()
