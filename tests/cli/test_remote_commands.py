"""The gRPC commands of `matthan` against a real front door on loopback
(with the in-memory control plane of the gateway tests)."""

from __future__ import annotations

import json

import pytest

from cluster.cli.main import main
from tests.gateway.conftest import TOKENS, loop_thread, make_gateway  # noqa: F401 - fixtures

ADMIN = TOKENS["admin"][0]
VIEWER_A = TOKENS["viewer-a"][0]


@pytest.fixture
def gw(make_gateway):  # noqa: F811
    gateway = make_gateway()
    gateway.call(lambda: gateway.camera("cam-a").start_producing(0.05, detections=2))
    return gateway


def cli(gw, *argv, token=ADMIN):
    return main([*argv, "--address", gw.target, "--token", token])


def test_cameras_list_shows_only_what_the_token_may_see(gw, capsys):
    assert cli(gw, "cameras", "list", token=VIEWER_A) == 0
    out = capsys.readouterr().out
    assert "cam-a" in out and "cam-b" not in out, out


def test_cameras_add_show_rm(gw, capsys):
    assert cli(gw, "cameras", "add", "cam-new", "rtsp://cam.local/new", "--name", "Hẻm 5", "--fps", "4") == 0
    assert cli(gw, "cameras", "show", "cam-new") == 0
    shown = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert shown["config"]["name"] == "Hẻm 5" and shown["config"]["analysis"]["fps"] == 4.0
    assert cli(gw, "cameras", "rm", "cam-new") == 0
    assert cli(gw, "cameras", "show", "cam-new") == 1
    assert "NOT_FOUND" in capsys.readouterr().err


def test_cameras_add_sets_the_decode_shortcut(gw, capsys):
    assert cli(gw, "cameras", "add", "cam-cheap", "rtsp://cam.local/cheap", "--skip-loop-filter", "all") == 0
    assert cli(gw, "cameras", "show", "cam-cheap") == 0
    shown = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert shown["config"]["source"]["skip_loop_filter"] == "all", f"the shortcut was not kept: {shown['config']}"


def test_cameras_add_refuses_an_unknown_decode_shortcut(gw, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli(gw, "cameras", "add", "cam-x", "rtsp://cam.local/x", "--skip-loop-filter", "fast")
    assert exit_.value.code == 2, "argparse exits 2 on a bad choice"
    assert "--skip-loop-filter" in capsys.readouterr().err


def test_cameras_add_with_a_bad_url_names_the_field(gw, capsys):
    assert cli(gw, "cameras", "add", "cam-x", "ftp://nope") == 1
    err = capsys.readouterr().err.strip()
    assert "INVALID_ARGUMENT" in err and "source.url" in err and err.count("\n") == 0, err


def test_a_bad_token_is_one_line_and_exit_1(gw, capsys):
    assert cli(gw, "cameras", "list", token="not-a-token") == 1
    assert "UNAUTHENTICATED" in capsys.readouterr().err


def test_watch_prints_live_detections(gw, capsys):
    assert cli(gw, "watch", "--camera", "cam-a", "--plain", "--seconds", "1.5") == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "cam-a" in line]
    assert len(lines) >= 3, f"expected several batches in 1.5 s, got {lines}"
    assert "seq=" in lines[0]


def test_snapshot_writes_the_jpeg(gw, tmp_path, capsys):
    out = tmp_path / "snap.jpg"
    assert cli(gw, "snapshot", "cam-a", "-o", str(out)) == 0
    assert out.read_bytes()[:2] == b"\xff\xd8", "not a JPEG"


def test_record_frames_writes_a_file_per_frame(gw, tmp_path, capsys):
    assert cli(gw, "record-frames", "cam-a", "--seconds", "1.5", "-o", str(tmp_path / "rec")) == 0
    files = sorted((tmp_path / "rec").glob("cam-a-*.jpg"))
    assert len(files) >= 3, f"expected several frames, got {len(files)}"
