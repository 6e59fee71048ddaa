"""Footage and its index are readable by their owner only (issue 15): segments, the
hash chain and its lock, holds, and the camera directories the recorder creates."""

from __future__ import annotations

import stat
from pathlib import Path

from cluster.recordings.holds import place_hold

from .footage import T0, record_clip


def test_a_recording_is_private_whatever_the_umask(tmp_path: Path, car_clip: Path, open_umask: int) -> None:
    root = tmp_path / "recordings"
    root.mkdir(mode=0o755)
    record_clip(root, "cam-1", car_clip, segment_s=2.0)
    camera_dir = root / "cam-1"
    place_hold(camera_dir, "cam-1", T0, T0 + 4.0, reason="collision", placed_by="operator", now=T0 + 60.0)
    files = [p for p in camera_dir.rglob("*") if p.is_file()]
    dirs = [camera_dir, *(p for p in camera_dir.rglob("*") if p.is_dir())]

    names = {p.name for p in files}
    assert any(p.suffix == ".mkv" for p in files) and {"chain.jsonl", "holds.json"} <= names, (
        f"segments and the chain were written: {sorted(p.name for p in files)}"
    )
    readable = {
        str(p.relative_to(root)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files + dirs if p.stat().st_mode & 0o077
    }
    assert not readable, f"readable by group or others: {readable}"
    assert stat.S_IMODE(root.stat().st_mode) == 0o755, "the operator's recordings root keeps its mode"
