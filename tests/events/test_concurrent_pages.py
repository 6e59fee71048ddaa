"""Paging through a store while another process writes into it: no event twice, none of
those present at the first page missed, pages in order (see cluster/events/store.py)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys

import pytest

from cluster.events import EventFilter, EventReader, EventStore, Order
from tests.fixtures.waiting import wait_until

from .factory import T0, db_path, event
from .test_crash import REPO_ROOT

pytestmark = pytest.mark.slow

INITIAL = 3000
SPREAD_S = 10.0 * INITIAL  # the writer's events land among the initial ones


def start_spread_writer(path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.events.writer_process",
            str(path),
            "--first",
            "1000",
            "--batch-size",
            "50",
            "--spread",
            str(SPREAD_S),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def snapshot_ids(path, cameras) -> set[str]:
    marks = ", ".join("?" * len(cameras))
    with sqlite3.connect(path) as conn:
        return {
            r[0] for r in conn.execute(f"SELECT event_id FROM events WHERE camera_id IN ({marks})", sorted(cameras))
        }


@pytest.mark.parametrize("order", list(Order))
def test_pages_read_while_another_process_writes_never_skip_or_repeat(tmp_path, order):
    path = db_path(tmp_path)
    with EventStore(path) as store:
        store.write([event(n, camera=f"cam-{n % 4}", start=T0 + 10.0 * n) for n in range(INITIAL)])
    writer = start_spread_writer(path)
    try:
        scope = EventFilter(cameras={"cam-0", "cam-1", "cam-3"})
        with EventReader(path) as reader:
            wait_until(lambda: reader.last_change_seq() > INITIAL, 60, "the writer's first batch")
            before = reader.last_change_seq()
            expected = snapshot_ids(path, scope.cameras)
            returned, cursor, pages = [], None, 0
            while True:
                page = reader.query(scope, order=order, page_size=25, cursor=cursor)
                returned += page.events
                cursor = page.cursor
                pages += 1
                if not page.has_more:
                    break
                if pages % 5 == 0 and pages <= 50:  # batches in between, however loaded the machine
                    seen = reader.last_change_seq()
                    wait_until(lambda seen=seen: reader.last_change_seq() > seen, 60, "another batch of the writer")
            after = reader.last_change_seq()
    finally:
        writer.send_signal(signal.SIGKILL)
        _, errors = writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL, f"the writer failed on its own: {errors[-2000:]}"
    got = [e.event_id for e in returned]
    assert after > before, "the writer committed batches while the pages were read"
    assert len(got) == len(set(got)), "no event twice"
    assert expected <= set(got), f"{len(expected - set(got))} events present at the start were skipped"
    assert all(e.camera_id in scope.cameras for e in returned)
    times = [e.start_time for e in returned]
    assert times == sorted(times, reverse=order is Order.NEWEST_FIRST), "pages in order"
