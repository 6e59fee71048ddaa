"""Which files a job may read: globs expanded, each file checked, inside the allowed directories.

A path is resolved (symbolic links followed, `..` collapsed) before it is compared
with the allowed directories, so neither `..` nor a link can lead out of them.
Every refusal is an `InputError` naming the file and what is wrong with it.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path


class InputError(ValueError):
    """A file a job cannot read; `path` is the one named in the request."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message

    def __reduce__(self):
        return (type(self), (self.path, self.message))


def resolve_inputs(patterns: Sequence[str], allowed_dirs: Sequence[Path], *, max_files: int) -> tuple[Path, ...]:
    """The files `patterns` (paths or globs) name, resolved, in the order given (a
    glob's matches sorted by name), each once. Raises InputError."""
    if not allowed_dirs:
        raise InputError("", "reprocessing is off on this server: batch.allowed_dirs is empty")
    if not patterns:
        raise InputError("", "no files given")
    roots = [Path(os.path.realpath(directory)) for directory in allowed_dirs]
    found: list[Path] = []
    seen: set[Path] = set()
    for pattern in patterns:
        if not pattern or "\x00" in pattern:
            raise InputError(pattern, f"invalid file name {pattern!r}")
        if not os.path.isabs(pattern):
            raise InputError(pattern, f"{pattern}: give an absolute path (the server resolves no relative names)")
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise InputError(pattern, f"{pattern}: no file matches")
        for match in matches:
            path = check_file(match, roots)
            if path not in seen:
                seen.add(path)
                found.append(path)
            if len(found) > max_files:
                raise InputError(pattern, f"more than {max_files} files (batch.max_files)")
    return tuple(found)


def check_file(name: str, roots: Sequence[Path]) -> Path:
    """`name` resolved, if it is a readable regular file inside one of `roots`."""
    resolved = Path(os.path.realpath(name))
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots)
        raise InputError(name, f"{name}: outside the directories this server may read ({allowed})")
    if not resolved.exists():
        raise InputError(name, f"{name}: no such file")
    if resolved.is_dir():
        raise InputError(name, f"{name}: is a directory, not a video file")
    if not resolved.is_file():
        raise InputError(name, f"{name}: not a regular file")
    if not os.access(resolved, os.R_OK):
        raise InputError(name, f"{name}: not readable by the server")
    return resolved
