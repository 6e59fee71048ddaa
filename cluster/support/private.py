"""Files that may hold secrets or private data (camera URLs with passwords, token
hashes, events, footage) are readable by their owner only, whatever the process umask:
files 0600, the directories we create for them 0700.

Directories that already exist keep their mode (a shared mount, a directory the
operator made on purpose); files we create, and the store files we open, are
tightened.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def make_private_dirs(directory: Path) -> None:
    """`directory` and its missing parents, each created 0700 (`Path.mkdir(parents=True)`
    gives parents the umask's mode, and even the last one only `mode & ~umask`)."""
    directory = Path(directory)
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # made meanwhile by another writer: keep its mode
            continue
        os.chmod(path, PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory} is not a directory")


def open_private(path: str | os.PathLike[str], flags: int) -> int:
    """`os.open` of `path` creating it 0600; an existing file readable by others is
    tightened to 0600."""
    fd = os.open(path, flags, PRIVATE_FILE_MODE)
    try:
        tighten(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def tighten(fd_or_path: int | Path) -> None:
    """Remove group and other permissions from an open file descriptor or a path."""
    mode = os.stat(fd_or_path).st_mode & 0o7777
    if mode & 0o077:
        if isinstance(fd_or_path, int):
            os.fchmod(fd_or_path, mode & ~0o077)
        else:
            os.chmod(fd_or_path, mode & ~0o077)
