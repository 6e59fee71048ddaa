"""The `matthan` command: exit codes and one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import sys

from cluster.cli.main import EXIT_USAGE, main


def test_config_check_accepts_a_valid_file(tmp_path, capsys):
    path = tmp_path / "cameras.yaml"
    path.write_text("cameras:\n  - id: cam-1\n    source: {url: 'rtsp://cam.local/1'}\n")
    assert main(["config", "check", str(path)]) == 0
    assert "1 camera(s)" in capsys.readouterr().out


def test_config_check_rejects_a_bad_file_with_one_line(tmp_path, capsys):
    path = tmp_path / "cameras.yaml"
    path.write_text("cameras:\n  - id: cam-1\n    source: {url: 'ftp://cam.local/1'}\n    colour: red\n")
    assert main(["config", "check", str(path)]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, f"expected one line, got: {err}"
    assert "cameras.0.source.url" in err and "cameras.0.colour: unknown key" in err


def test_models_pull_verifies_and_writes(tmp_path, models, capsys):
    code = main(["models", "pull", "yolo-fastest-1.1", "--dest", str(tmp_path), "--base-url", models.as_uri() + "/"])
    assert code == 0
    assert (tmp_path / "yolo-fastest-1.1.weights").exists()


def test_models_pull_refuses_a_corrupt_download(tmp_path, models, capsys):
    mirror = tmp_path / "mirror"
    shutil.copytree(models, mirror)
    (mirror / "yolo-fastest-1.1.weights").chmod(0o644)
    with open(mirror / "yolo-fastest-1.1.weights", "r+b") as fh:
        fh.seek(1000)  # past the header, whose first bytes are zeros already
        fh.write(b"\xff\xff\xff\xff")
    code = main(
        ["models", "pull", "yolo-fastest-1.1", "--dest", str(tmp_path / "out"), "--base-url", mirror.as_uri() + "/"]
    )
    err = capsys.readouterr().err
    assert code == 1 and "sha256" in err.lower(), err
    assert not (tmp_path / "out" / "yolo-fastest-1.1.weights").exists(), "a bad download must not be kept"


def test_models_pull_unknown_model_lists_known_ones(tmp_path, capsys):
    assert main(["models", "pull", "yolo-giant", "--dest", str(tmp_path)]) == 1
    assert "yolo-fastest-1.1-xl" in capsys.readouterr().err


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "cluster.cli.main", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "serve" in result.stdout
