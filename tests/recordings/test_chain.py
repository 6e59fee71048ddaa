"""The hash chain of a real recording: intact, then modified, removed and inserted
segments and entries, each found and named at the first broken link."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cluster.recordings.chain import CHAIN_FILE, EntryKind, Problem, append_entry, read_chain, verify_chain


def _segments(camera_dir: Path):
    return [e for e in read_chain(camera_dir) if e.kind is EntryKind.SEGMENT]


def test_an_untouched_recording_verifies(recorded: Path) -> None:
    result = verify_chain(recorded, "cam-1")
    segments = _segments(recorded)
    assert result.ok, f"an untouched recording must verify, found {[p.describe() for p in result.problems]}"
    assert result.segments_checked == len(segments) >= 8, f"every segment is hashed, checked {result.segments_checked}"
    assert result.head_index == read_chain(recorded)[-1].index, "the head is the newest entry"


def test_a_modified_segment_is_named(recorded: Path) -> None:
    victim = _segments(recorded)[3]
    path = recorded / victim.file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    path.write_bytes(bytes(data))
    result = verify_chain(recorded, "cam-1")
    assert not result.ok, "a changed segment must fail verification"
    first = result.first_broken
    assert first is not None and first.index == victim.index, f"names entry {victim.index}, got {first}"
    assert first.problem is Problem.MODIFIED and first.file == victim.file, f"says what and which file: {first}"


def test_a_removed_segment_file_is_named(recorded: Path) -> None:
    victim = _segments(recorded)[2]
    (recorded / victim.file).unlink()
    first = verify_chain(recorded, "cam-1").first_broken
    assert first is not None and (first.index, first.problem) == (victim.index, Problem.MISSING), (
        f"a file gone without a deleted entry is entry {victim.index} missing, got {first}"
    )


def test_a_removed_entry_breaks_the_link_of_the_next(recorded: Path) -> None:
    lines = (recorded / CHAIN_FILE).read_text().splitlines(keepends=True)
    removed = json.loads(lines[4])
    (recorded / CHAIN_FILE).write_text("".join(lines[:4] + lines[5:]))
    result = verify_chain(recorded, "cam-1")
    first = result.first_broken
    assert first is not None and first.problem is Problem.BROKEN_LINK, f"a removed entry breaks a link, got {first}"
    assert first.index == removed["index"] + 1, f"the first broken link is the entry after it, got {first.index}"
    orphans = [p for p in result.problems if p.problem is Problem.INSERTED]
    assert [p.file for p in orphans] == [removed["file"]], "its file is now one the chain does not list"


def test_an_inserted_segment_file_is_named(recorded: Path) -> None:
    source = recorded / _segments(recorded)[1].file
    forged = source.with_name("cam-1-20261120T214002.000Z.mkv")
    shutil.copy(source, forged)
    result = verify_chain(recorded, "cam-1")
    assert [(p.problem, p.file) for p in result.problems] == [
        (Problem.INSERTED, forged.relative_to(recorded).as_posix())
    ], f"only the inserted file is reported, got {[p.describe() for p in result.problems]}"


def test_an_inserted_entry_is_the_first_broken_link(recorded: Path) -> None:
    lines = (recorded / CHAIN_FILE).read_text().splitlines(keepends=True)
    entry = json.loads(lines[2])
    forged = {**entry, "start": entry["start"] + 1.0}  # a plausible entry, linked to its predecessor
    from cluster.recordings.chain import entry_hash

    forged["hash"] = entry_hash(forged)
    (recorded / CHAIN_FILE).write_text("".join([*lines[:3], json.dumps(forged) + "\n", *lines[3:]]))
    first = verify_chain(recorded, "cam-1").first_broken
    assert first is not None and first.problem is Problem.BROKEN_LINK, f"an inserted entry breaks a link, got {first}"
    assert first.index == entry["index"], f"at the inserted position {entry['index']}, got {first.index}"


def test_an_edited_entry_fails_its_own_hash(recorded: Path) -> None:
    lines = (recorded / CHAIN_FILE).read_text().splitlines(keepends=True)
    entry = json.loads(lines[5])
    entry["end"] += 10.0  # claim footage that was not recorded
    lines[5] = json.dumps(entry) + "\n"
    (recorded / CHAIN_FILE).write_text("".join(lines))
    first = verify_chain(recorded, "cam-1").first_broken
    assert first is not None and (first.index, first.problem) == (entry["index"], Problem.BROKEN_HASH), (
        f"the edited entry is named, got {first}"
    )


def test_a_range_hashes_only_its_segments_but_checks_every_link(recorded: Path) -> None:
    segments = _segments(recorded)
    result = verify_chain(recorded, "cam-1", start=segments[2].start + 0.1, end=segments[3].end - 0.1)
    assert result.ok and result.segments_checked == 2, (
        f"two segments overlap the range, checked {result.segments_checked}"
    )
    lines = (recorded / CHAIN_FILE).read_text().splitlines(keepends=True)
    (recorded / CHAIN_FILE).write_text("".join(lines[:-2] + lines[-1:]))
    outside = verify_chain(recorded, "cam-1", start=segments[2].start, end=segments[3].end)
    assert not outside.ok, "a broken link outside the range still fails: the chain is checked whole"


def test_appending_continues_the_chain_of_an_earlier_writer(recorded: Path) -> None:
    before = read_chain(recorded)[-1]
    entry = append_entry(recorded, EntryKind.GAP, {"start": 1.0, "end": 2.0, "reason": "test"})
    assert (entry.index, entry.prev) == (before.index + 1, before.hash), "a new writer links to the last entry"
    assert verify_chain(recorded, "cam-1").ok, "and the chain stays whole"
