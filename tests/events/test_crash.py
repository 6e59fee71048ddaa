"""A writer killed with SIGKILL mid-batch: the file opens, every batch it reported committed
is there, and no batch is there in part.

The writer (`writer_process.py`) spends nearly all its time inside `write()` (a batch of
1000 events with thumbnails takes tens of milliseconds; printing a line, microseconds), so a
kill at any moment lands inside a batch; each round records whether the batch it began last
is absent afterwards, which proves the kill interrupted an open transaction, and the test
requires that to have happened at least once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest

from cluster.events import EventStore

from .factory import db_path

pytestmark = pytest.mark.slow

BATCH = 1000
ROUNDS = 4
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start_writer(path, first: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.events.writer_process",
            str(path),
            "--first",
            str(first),
            "--batch-size",
            str(BATCH),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_mid_batch(writer: subprocess.Popen, committed_first: int) -> tuple[set[int], int | None]:
    """Let the writer commit `committed_first` batches, SIGKILL it as it works on the next;
    the batches it reported committed, and the last one it began."""
    committed: set[int] = set()
    began = None
    assert writer.stdout is not None
    for line in writer.stdout:
        word, _, number = line.strip().partition(" ")
        if word == "begin":
            began = int(number)
            if len(committed) >= committed_first:
                writer.send_signal(signal.SIGKILL)
                break
        elif word == "committed":
            committed.add(int(number))
    # Not communicate(): with two pipes it reads the descriptors directly and would miss
    # the lines the loop above already pulled into the stream's buffer.
    rest = writer.stdout.read()
    errors = writer.stderr.read() if writer.stderr is not None else ""
    writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL, f"the writer should have been killed; stderr: {errors[-2000:]}"
    for line in rest.splitlines():  # whatever it printed before the signal arrived
        word, _, number = line.partition(" ")
        if word == "committed":
            committed.add(int(number))
        elif word == "begin":
            began = int(number)
    return committed, began


def batches_in(path) -> Counter:
    with sqlite3.connect(path) as conn:
        return Counter(track // BATCH for (track,) in conn.execute("SELECT track_id FROM events"))


def test_a_writer_killed_mid_batch_loses_no_committed_batch_and_leaves_no_partial_one(tmp_path):
    path = db_path(tmp_path)
    reported: set[int] = set()
    interrupted_rounds = 0
    first = 0
    for round_ in range(ROUNDS):
        committed, began = kill_mid_batch(start_writer(path, first), committed_first=2)
        reported |= committed
        with EventStore(path) as store:  # a new writer opens the file the killed one left
            with sqlite3.connect(path) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"round {round_}"
            counts = batches_in(path)
            missing = reported - set(counts)
            assert not missing, f"round {round_}: batches reported committed are gone: {sorted(missing)}"
            partial = {b: n for b, n in counts.items() if n != BATCH}
            assert not partial, f"round {round_}: batches stored in part: {partial}"
            unreported = set(counts) - reported
            assert unreported <= {began}, (
                f"round {round_}: only the batch being written may be there unreported, found {sorted(unreported)}"
            )
            interrupted_rounds += began not in counts
            assert store.query(page_size=1).events, "the store answers queries"
        first = max(counts) + 1
    assert interrupted_rounds >= 1, "no kill landed inside an open batch: the test did not test a mid-batch kill"
