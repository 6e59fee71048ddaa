"""Which files a job may read: the allowed directories, no way out of them, clear errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cluster.batch.inputs import InputError, resolve_inputs


@pytest.fixture
def allowed(tmp_path: Path, car_clip: Path) -> Path:
    root = tmp_path / "footage"
    (root / "cam01").mkdir(parents=True)
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(car_clip, root / "cam01" / name)
    return root


def test_globs_expand_in_name_order_and_each_file_counts_once(allowed: Path) -> None:
    files = resolve_inputs(
        [str(allowed / "cam01" / "*.mp4"), str(allowed / "cam01" / "a.mp4")], [allowed], max_files=10
    )

    assert [f.name for f in files] == ["a.mp4", "b.mp4"], "sorted matches, the repeated file once"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("cam01/../../outside.mp4", "outside the directories"),
        ("cam01/missing.mp4", "no such file"),
        ("cam01", "is a directory"),
        ("cam01/*.avi", "no file matches"),
    ],
)
def test_a_file_the_job_cannot_read_is_refused_by_name(allowed: Path, name: str, message: str) -> None:
    (allowed.parent / "outside.mp4").write_bytes(b"x")
    with pytest.raises(InputError, match=message) as caught:
        resolve_inputs([str(allowed / name)], [allowed], max_files=10)
    assert caught.value.path == str(allowed / name), "the error names the file as it was given"


def test_a_link_out_of_the_allowed_directories_is_refused(allowed: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"x")
    os.symlink(secret, allowed / "cam01" / "link.mp4")
    with pytest.raises(InputError, match="outside the directories"):
        resolve_inputs([str(allowed / "cam01" / "link.mp4")], [allowed], max_files=10)


def test_relative_names_and_a_server_without_allowed_directories_are_refused(allowed: Path) -> None:
    with pytest.raises(InputError, match="absolute path"):
        resolve_inputs(["cam01/a.mp4"], [allowed], max_files=10)
    with pytest.raises(InputError, match="reprocessing is off"):
        resolve_inputs([str(allowed / "cam01" / "a.mp4")], [], max_files=10)
