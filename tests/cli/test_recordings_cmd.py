"""`matthan recordings ...` and `matthan export` against a real front door on loopback
(the gateway tests' in-memory control plane) over a real recording of the shared clip."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cluster.cli.main import main
from cluster.cli.recordings_cmd import parse_time
from cluster.config import CameraConfig
from cluster.recordings.chain import EntryKind, read_chain
from tests.gateway.conftest import TOKENS, loop_thread, make_gateway  # noqa: F401 - fixtures
from tests.recordings.footage import T0, record_clip

ADMIN, OPERATOR, VIEWER_A = TOKENS["admin"][0], TOKENS["operator"][0], TOKENS["viewer-a"][0]


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory, media: Path) -> Path:
    root = tmp_path_factory.mktemp("recordings")
    record_clip(root, "cam-a", media / "car-detection.mp4", start=T0, seconds=12.0, segment_s=4.0)
    return root


@pytest.fixture
def root(footage: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "recordings"
    shutil.copytree(footage, copy)
    return copy


@pytest.fixture
def gw(make_gateway, root: Path):  # noqa: F811
    camera = CameraConfig.model_validate(
        {
            "id": "cam-a",
            "groups": ["ward-1"],
            "source": {"url": "rtsp://cams.local/cam-a"},
            "privacy": {"masks": [[[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]]]},
            "recording": {"mode": "continuous", "directory": str(root)},
        }
    )
    return make_gateway([camera])


def cli(gw, *argv: str, token: str = OPERATOR) -> int:
    return main([*argv, "--address", gw.target, "--token", token])


def test_times_are_iso_or_epoch_and_bad_ones_are_named() -> None:
    assert parse_time("2026-11-20T21:40:00+00:00") == T0, "ISO 8601 with an offset"
    assert parse_time(str(T0)) == T0, "epoch seconds"
    with pytest.raises(Exception, match="not a time"):
        parse_time("yesterday-ish")


def test_list_shows_the_recorded_range(gw, capsys) -> None:
    assert (
        cli(
            gw,
            "recordings",
            "list",
            "--camera",
            "cam-a",
            "--from",
            str(T0 - 60),
            "--to",
            str(T0 + 60),
            "--json",
            token=VIEWER_A,
        )
        == 0
    )
    listed = json.loads(capsys.readouterr().out)
    assert len(listed["ranges"]) == 1 and listed["ranges"][0]["start"] == pytest.approx(T0), f"one range: {listed}"
    assert (
        cli(gw, "recordings", "list", "--camera", "cam-a", "--from", str(T0 - 60), "--to", str(T0 + 60), "--segments")
        == 0
    )
    out = capsys.readouterr().out
    assert "recorded" in out and out.count(".mkv") == len(listed["segments"]), f"a line per segment: {out}"


def test_a_backwards_range_is_one_line_naming_the_field(gw, capsys) -> None:
    assert cli(gw, "recordings", "list", "--camera", "cam-a", "--from", str(T0 + 10), "--to", str(T0)) == 1
    err = capsys.readouterr().err.strip()
    assert "INVALID_ARGUMENT" in err and "to:" in err and err.count("\n") == 0, err


def test_export_writes_a_playable_clip_and_its_manifest(gw, tmp_path: Path, capsys) -> None:
    clip = tmp_path / "clip.mp4"
    assert cli(gw, "export", "--camera", "cam-a", "--from", str(T0 + 1), "--to", str(T0 + 6), "-o", str(clip)) == 0
    assert "masks burnt in" in capsys.readouterr().out, "says the masks are in"
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(clip)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert float(json.loads(probe.stdout)["format"]["duration"]) == pytest.approx(5.0, abs=0.2), "5 s, playable"
    manifest = json.loads((tmp_path / "clip.mp4.manifest.json").read_text())
    assert manifest["camera_id"] == "cam-a" and manifest["masked"] is True, "the manifest is beside the clip"


def test_export_unmasked_without_admin_is_refused(gw, tmp_path: Path, capsys) -> None:
    clip = tmp_path / "clip.mp4"
    assert (
        cli(
            gw,
            "export",
            "--camera",
            "cam-a",
            "--from",
            str(T0),
            "--to",
            str(T0 + 2),
            "-o",
            str(clip),
            "--unmasked",
            "--reason",
            "court",
        )
        == 1
    )
    assert "PERMISSION_DENIED" in capsys.readouterr().err, "operator may not export unmasked"
    assert not clip.exists() and not clip.with_name("clip.mp4.part").exists(), "and nothing is left behind"


def test_verify_exits_3_and_names_the_first_broken_link(gw, root: Path, capsys) -> None:
    assert cli(gw, "recordings", "verify", "--camera", "cam-a") == 0
    assert "OK" in capsys.readouterr().out
    victim = [e for e in read_chain(root / "cam-a") if e.kind is EntryKind.SEGMENT][1]
    path = root / "cam-a" / victim.file
    path.write_bytes(path.read_bytes()[:-10])
    assert cli(gw, "recordings", "verify", "--camera", "cam-a") == 3, "a broken chain exits 3"
    out = capsys.readouterr().out
    assert f"first broken link at entry {victim.index}" in out and victim.file in out, out


def test_verify_of_a_copied_directory_needs_no_server(root: Path, capsys) -> None:
    assert main(["recordings", "verify", "--dir", str(root / "cam-a")]) == 0
    assert "camera cam-a: OK" in capsys.readouterr().out
    (root / "cam-a" / "segments" / "stray.mkv").write_bytes(b"not footage")
    assert main(["recordings", "verify", "--dir", str(root / "cam-a")]) == 3
    assert "stray.mkv" in capsys.readouterr().out, "an inserted file is named"


def test_hold_holds_and_release(gw, capsys) -> None:
    assert (
        cli(
            gw,
            "recordings",
            "hold",
            "--camera",
            "cam-a",
            "--from",
            str(T0),
            "--to",
            str(T0 + 4),
            "--reason",
            "collision, case 114",
        )
        == 0
    )
    hold_id = capsys.readouterr().out.split()[0]
    assert hold_id.startswith("hold-"), hold_id
    assert cli(gw, "recordings", "holds", "--camera", "cam-a", token=VIEWER_A) == 0
    assert hold_id in capsys.readouterr().out, "listed for viewers"
    assert cli(gw, "recordings", "release", "--camera", "cam-a", hold_id, "--reason", "closed") == 0
    assert cli(gw, "recordings", "holds", "--camera", "cam-a") == 0
    assert "no holds" in capsys.readouterr().out
