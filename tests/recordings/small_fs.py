"""A small filesystem a test can fill, make read-only and free again: a tmpfs of a few
MiB when this machine lets the test mount one (root with CAP_SYS_ADMIN), else, for a
non-root user, a directory whose writes fail (read-only by its mode)."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import uuid
from pathlib import Path

import pytest


class SmallFilesystem:
    def __init__(self, path: Path, size_mib: int = 8) -> None:
        self.path = path
        self.size_mib = size_mib
        self.mounted = False
        self._filler = path / "filler.bin"

    def __enter__(self) -> SmallFilesystem:
        self.path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            done = subprocess.run(
                [
                    "mount",
                    "-t",
                    "tmpfs",
                    "-o",
                    f"size={self.size_mib}m,mode=0755",
                    f"matthan-{uuid.uuid4().hex[:8]}",
                    str(self.path),
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
            )
            if done.returncode != 0:
                pytest.fail(
                    "the disk-full tests need a filesystem whose writes fail: as root that is a tmpfs mount, "
                    f"which this machine refused ({done.stderr.strip()}); run them as a non-root user instead"
                )
            self.mounted = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], check=False, timeout=30)
        else:
            self.path.chmod(0o755)

    def fill(self) -> None:
        """No space left (tmpfs), or no writes at all (a read-only directory)."""
        if not self.mounted:
            for directory in [self.path, *[p for p in self.path.rglob("*") if p.is_dir()]]:
                directory.chmod(0o555)
            return
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            for size in (1 << 20, 4096):  # megabytes, then the last pages
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * size)
        finally:
            os.close(fd)
        probe = self.path / "probe"
        try:
            probe.write_bytes(b"\0" * 8192)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, f"the filler should leave no space: {exc}"
        else:
            probe.unlink()
            raise AssertionError(f"{self.path} still takes writes after filling it")

    def free(self) -> None:
        if not self.mounted:
            for directory in [self.path, *[p for p in self.path.rglob("*") if p.is_dir()]]:
                directory.chmod(0o755)
            return
        self._filler.unlink(missing_ok=True)

    def read_only(self, on: bool) -> None:
        """Make the directory read-only (and back). A filesystem with files open for
        writing cannot be remounted read-only, so an empty read-only tmpfs is mounted
        over it: what the recorder opens from now on is on a read-only filesystem."""
        if not self.mounted:
            self.fill() if on else self.free()
            return
        if on:
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "matthan-ro", str(self.path)], check=True, timeout=30
            )
        else:
            subprocess.run(["umount", str(self.path)], check=True, timeout=30)
