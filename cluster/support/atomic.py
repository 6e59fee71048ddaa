"""Writing a file so that a crash leaves either the old or the new content, never half."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .private import PRIVATE_FILE_MODE, make_private_dirs


def write_json_atomically(path: Path, payload: Any) -> None:
    """Write `payload` as indented UTF-8 JSON to `path`, as `write_bytes_atomically` does."""
    write_bytes_atomically(path, json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path`: a temporary file in the same directory, fsynced, then
    renamed over `path` (atomic on POSIX). The file is 0600 (what we write this way
    holds camera URLs, token hashes, job records) and missing directories are created
    0700; on any failure the temporary file is removed and `path` is untouched."""
    path = Path(path)
    make_private_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), PRIVATE_FILE_MODE)  # mkstemp's 0600 is its detail: say it
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
