"""Private file modes whatever the umask (cluster/support/private.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cluster.support.private import make_private_dirs, open_private, tighten


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_open_private_creates_the_file_owner_only(tmp_path: Path, open_umask: int) -> None:
    path = tmp_path / "events.sqlite3"
    os.close(open_private(path, os.O_RDWR | os.O_CREAT))
    assert mode(path) == 0o600, oct(mode(path))


def test_open_private_tightens_an_existing_readable_file(tmp_path: Path, open_umask: int) -> None:
    path = tmp_path / "events.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o664)
    os.close(open_private(path, os.O_RDWR))
    assert mode(path) == 0o600, f"group and others lose their access: {oct(mode(path))}"


def test_tighten_keeps_the_owners_bits(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"")
    path.chmod(0o744)
    tighten(path)
    assert mode(path) == 0o700, oct(mode(path))


def test_make_private_dirs_creates_every_missing_level_0700(tmp_path: Path, open_umask: int) -> None:
    make_private_dirs(tmp_path / "a" / "b" / "c")
    for path in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert mode(path) == 0o700, f"{path}: {oct(mode(path))}"


def test_make_private_dirs_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="is not a directory"):
        make_private_dirs(tmp_path / "f")
