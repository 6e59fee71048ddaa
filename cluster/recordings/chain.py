"""A camera's recording index, kept as a hash chain (chain of custody).

Layout of one camera's recordings directory:

    <directory>/<camera_id>/
        chain.jsonl          the index and hash chain, one JSON entry a line, append-only
        chain.lock           taken (flock) by whoever appends
        holds.json           evidence holds (`holds.py`)
        audit.jsonl          who exported or held what (`holds.py`, `export.py`)
        segments/YYYY-MM-DD/<camera>-<start>.mkv    finished segments (.part while written)

Every entry carries `index` (0, 1, 2, ...), `prev` (the previous entry's `hash`;
64 zeros for the first) and `hash`, the sha256 of the entry's canonical JSON
without `hash`. Three kinds:

- `segment`: a finished segment: `file` (relative to the camera directory),
  `start`/`end` (wall-clock seconds, exact: from the stream's own timestamps,
  anchored to the wall clock when its pass began), `bytes`, `sha256` of the
  file, the recording `mode` and the stream's `codec`, `width`, `height`;
- `gap`: time the camera should have been recording and was not (`start`, `end`,
  `reason`: the camera was down, the disk full or read-only, the disk too slow);
- `deleted`: a segment removed on purpose (`of`: its index, `file`, `reason`:
  retention by age or by budget).

`verify_chain` proves nothing was changed, removed or inserted: every entry's hash
and link, every live segment's size and sha256, no segment file on disk that the
chain does not know; it names the first broken link. Appending takes the lock
and reads the last entry under it, so a writer that restarted (or a second
writer) continues the chain instead of forking it.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster.support.private import make_private_dirs, open_private

CHAIN_FILE = "chain.jsonl"
LOCK_FILE = "chain.lock"
SEGMENTS_DIR = "segments"
SEGMENT_SUFFIX = ".mkv"
PART_SUFFIX = ".part"
GENESIS = "0" * 64
HASH_CHUNK = 1 << 20


class EntryKind(str, enum.Enum):
    SEGMENT = "segment"
    GAP = "gap"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """One line of `chain.jsonl`, as written."""

    index: int
    kind: EntryKind
    prev: str
    hash: str
    fields: dict[str, Any]

    @property
    def start(self) -> float:
        return float(self.fields.get("start", 0.0))

    @property
    def end(self) -> float:
        return float(self.fields.get("end", 0.0))

    @property
    def file(self) -> str:
        return str(self.fields.get("file", ""))


def entry_hash(record: dict[str, Any]) -> str:
    """sha256 of the entry's canonical JSON (sorted keys, no spaces), `hash` excluded."""
    body = {key: value for key, value in record.items() if key != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(camera_dir: Path) -> Iterator[None]:
    make_private_dirs(camera_dir)
    with open(camera_dir / LOCK_FILE, "a", opener=open_private) as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _parse(line: str) -> ChainEntry | None:
    try:
        record = json.loads(line)
        kind = EntryKind(record["kind"])
        return ChainEntry(
            index=int(record["index"]),
            kind=kind,
            prev=str(record["prev"]),
            hash=str(record["hash"]),
            fields={k: v for k, v in record.items() if k not in ("index", "kind", "prev", "hash")},
        )
    except (ValueError, KeyError, TypeError):
        return None


def _record(entry: ChainEntry) -> dict[str, Any]:
    return {"index": entry.index, "kind": entry.kind.value, "prev": entry.prev, **entry.fields, "hash": entry.hash}


def read_lines(camera_dir: Path) -> list[str]:
    """The complete lines of the chain (a line still being written, without its
    newline, is left out)."""
    try:
        text = (camera_dir / CHAIN_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = text.split("\n")
    return [line for line in lines[:-1] if line.strip()]  # the part after the last newline is incomplete


def read_chain(camera_dir: Path) -> list[ChainEntry]:
    """The entries that parse (verification reports those that do not)."""
    return [entry for entry in map(_parse, read_lines(camera_dir)) if entry is not None]


def append_entry(camera_dir: Path, kind: EntryKind, fields: dict[str, Any]) -> ChainEntry:
    """Append one entry, linked to the last one, and fsync it. Raises OSError."""
    with _locked(camera_dir):
        lines = read_lines(camera_dir)
        last = _parse(lines[-1]) if lines else None
        index, prev = (last.index + 1, last.hash) if last is not None else (0, GENESIS)
        record: dict[str, Any] = {"index": index, "kind": kind.value, "prev": prev, **fields}
        record["hash"] = entry_hash(record)
        line = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
        fd = open_private(camera_dir / CHAIN_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT)  # footage index
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    entry = _parse(line)
    assert entry is not None
    return entry


def chain_head(camera_dir: Path) -> tuple[int, str]:
    """(index, hash) of the newest entry; (-1, GENESIS) for an empty chain."""
    lines = read_lines(camera_dir)
    last = _parse(lines[-1]) if lines else None
    return (last.index, last.hash) if last is not None else (-1, GENESIS)


# ---- verification ----------------------------------------------------------------------


class Problem(str, enum.Enum):
    UNREADABLE = "unreadable"  # a line that is not an entry
    BROKEN_HASH = "broken-hash"  # the entry's content does not match its hash (edited)
    BROKEN_LINK = "broken-link"  # prev is not the previous entry's hash, or an index is skipped (inserted/removed)
    MODIFIED = "modified"  # a segment file's size or sha256 differs from its entry
    MISSING = "missing"  # a segment file is gone without a `deleted` entry
    INSERTED = "inserted"  # a segment file the chain does not know


@dataclass(frozen=True, slots=True)
class BrokenLink:
    index: int  # the entry (or -1 for a file the chain does not know)
    problem: Problem
    file: str
    detail: str

    def describe(self) -> str:
        where = f"entry {self.index}" if self.index >= 0 else "no entry"
        name = f" ({self.file})" if self.file else ""
        return f"{where}{name}: {self.problem.value}: {self.detail}"


@dataclass(frozen=True)
class Verification:
    """What `verify_chain` found. `ok` when nothing is broken."""

    camera_id: str
    entries: int
    segments_checked: int
    head_index: int
    head_hash: str
    problems: list[BrokenLink] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> BrokenLink | None:
        return self.problems[0] if self.problems else None


def verify_chain(
    camera_dir: Path, camera_id: str, *, start: float | None = None, end: float | None = None
) -> Verification:
    """Check the whole chain's hashes and links, and the files of the segments that
    overlap [start, end] (all when not given), plus any segment file on disk the
    chain does not list. Problems are in chain order; the first is the first broken link."""
    problems: list[BrokenLink] = []
    lines = read_lines(camera_dir)
    prev_hash, expected_index = GENESIS, 0
    deleted: set[int] = set()
    entries: list[ChainEntry] = []
    for position, line in enumerate(lines):
        entry = _parse(line)
        if entry is None:
            problems.append(BrokenLink(expected_index, Problem.UNREADABLE, "", f"line {position + 1} is not an entry"))
            expected_index += 1
            continue
        if entry_hash(_record(entry)) != entry.hash:
            problems.append(
                BrokenLink(entry.index, Problem.BROKEN_HASH, entry.file, "the entry was changed after it was written")
            )
        if entry.index != expected_index or entry.prev != prev_hash:
            problems.append(
                BrokenLink(
                    entry.index,
                    Problem.BROKEN_LINK,
                    entry.file,
                    f"expected entry {expected_index} linked to {prev_hash[:12]}, found entry {entry.index} "
                    f"linked to {entry.prev[:12]}: an entry was inserted or removed before it",
                )
            )
        prev_hash, expected_index = entry.hash, entry.index + 1
        entries.append(entry)
        if entry.kind is EntryKind.DELETED:
            deleted.add(int(entry.fields.get("of", -1)))
    known_files: set[str] = set()
    checked = 0
    for entry in entries:
        if entry.kind is not EntryKind.SEGMENT:
            continue
        known_files.add(entry.file)
        if entry.index in deleted:
            continue
        if (start is not None and entry.end < start) or (end is not None and entry.start > end):
            continue
        checked += 1
        path = camera_dir / entry.file
        if not path.is_file():
            problems.append(
                BrokenLink(entry.index, Problem.MISSING, entry.file, "the file is gone and no entry deleted it")
            )
            continue
        size = path.stat().st_size
        if size != int(entry.fields.get("bytes", -1)):
            problems.append(
                BrokenLink(
                    entry.index,
                    Problem.MODIFIED,
                    entry.file,
                    f"{size} bytes, the chain says {entry.fields.get('bytes')}",
                )
            )
            continue
        if file_sha256(path) != entry.fields.get("sha256"):
            problems.append(
                BrokenLink(entry.index, Problem.MODIFIED, entry.file, "its sha256 differs from the chain's")
            )
    for path in sorted(segment_files(camera_dir)):
        name = path.relative_to(camera_dir).as_posix()
        if name not in known_files:
            problems.append(BrokenLink(-1, Problem.INSERTED, name, "a segment file the chain does not list"))
    problems.sort(key=lambda p: (p.index < 0, p.index))
    head_index, head_hash = (entries[-1].index, entries[-1].hash) if entries else (-1, GENESIS)
    return Verification(camera_id, len(lines), checked, head_index, head_hash, problems)


def segment_files(camera_dir: Path) -> Iterator[Path]:
    """The finished segment files on disk (not the ones still being written)."""
    root = camera_dir / SEGMENTS_DIR
    if root.is_dir():
        yield from root.rglob(f"*{SEGMENT_SUFFIX}")
