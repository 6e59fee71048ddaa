"""`write_json_atomically`: old or new content, never half, and private (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cluster.support.atomic import write_json_atomically
from tests.fixtures.file_modes import mode


def test_the_file_is_written_whole_and_only_its_owner_may_read_it(tmp_path: Path, open_umask: int) -> None:
    target = tmp_path / "cameras.json"
    write_json_atomically(target, {"url": "rtsp://admin:hunter2@cam/1"})
    assert json.loads(target.read_text()) == {"url": "rtsp://admin:hunter2@cam/1"}, "the content is written"
    assert mode(target) == 0o600, f"owner only even under umask 0: {oct(mode(target))}"


def test_a_world_readable_file_it_replaces_becomes_private(tmp_path: Path, open_umask: int) -> None:
    target = tmp_path / "scheduler.json"
    target.write_text("{}")
    target.chmod(0o644)
    write_json_atomically(target, {"v": 1})
    assert mode(target) == 0o600, f"the new file is private: {oct(mode(target))}"


def test_the_directories_it_creates_are_private(tmp_path: Path, open_umask: int) -> None:
    target = tmp_path / "state" / "jobs" / "job-1.json"
    write_json_atomically(target, {"job": 1})
    for directory in (tmp_path / "state", tmp_path / "state" / "jobs"):
        assert mode(directory) == 0o700, f"{directory}: {oct(mode(directory))}"


def test_an_existing_directory_keeps_its_mode(tmp_path: Path, open_umask: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    write_json_atomically(shared / "holds.json", [])
    assert mode(shared) == 0o755, "a directory the operator made is left as it is"
    assert mode(shared / "holds.json") == 0o600, "the file in it is private"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "cameras.json"
    write_json_atomically(target, {"v": 1})
    with pytest.raises(TypeError):
        write_json_atomically(target, {"v": object()})
    assert json.loads(target.read_text()) == {"v": 1}, "the old content stays"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cameras.json"], "no temporary file is left"
