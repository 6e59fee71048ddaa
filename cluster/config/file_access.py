"""Which server files a remote caller may name: the roots that confine file paths.

A camera added over the API with `source.url: /root/private.png` would have the
server read that file and serve it back as a snapshot, and the difference
between "missing" and "unreadable" in its failure would map the server's disk.
Paths that come from a request (file sources, detector files, batch inputs) are
therefore checked against `FileRoots` while the request is validated, before
anything opens them. Paths in the operator's own config file are trusted and
not checked: whoever writes it already has the machine.

Guarantees of `FileRoots.contains`:
- symlinks and `..` are resolved first, so a link inside a root that points
  outside it is outside;
- the answer does not depend on whether the path exists (no existence oracle).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The key under which validation finds the roots: `Model.model_validate(data,
# context={FILE_ROOTS: roots})`. Without it (config files) paths are not confined.
FILE_ROOTS = "file_roots"


@dataclass(frozen=True)
class FileRoots:
    roots: tuple[Path, ...]

    @classmethod
    def of(cls, paths: Iterable[Path | str]) -> FileRoots:
        return cls(tuple(Path(p).expanduser().resolve() for p in paths))

    def contains(self, path: Path | str) -> bool:
        resolved = Path(path).expanduser().resolve()
        return any(resolved.is_relative_to(root) for root in self.roots)

    def refusal(self, what: str) -> str:
        """Why a path outside the roots is refused; says nothing about the path itself."""
        if not self.roots:
            return f"{what} must be a path under the server's file_roots, and this server allows none"
        return f"{what} must be under one of the server's file_roots ({', '.join(str(r) for r in self.roots)})"


def roots_from(context: object) -> FileRoots | None:
    """The roots a validation context carries, or None (trusted config)."""
    if isinstance(context, dict):
        roots = context.get(FILE_ROOTS)
        if isinstance(roots, FileRoots):
            return roots
    return None
