"""The event store's disk full, on a real small filesystem (`tests/fixtures/small_fs.py`:
a tmpfs the test mounts as root). Read-only is not a separate case for the store: its
SQLite files stay open, so a remount cannot take them away from it. Commits fail
loudly (the store's error counter, the writer's log), the revisions wait in the
camera's ring (the bounded buffer, docs/events.md), queries keep answering, and
once there is room again the writer commits the backlog by itself, each event once.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from cluster.config import EventsConfig
from cluster.domain import Event
from cluster.events import ALL_EVENTS, Order
from cluster.eventwriter.service import EventWriterService
from cluster.eventwriter.settings import EventWriterSettings
from tests.events.factory import event
from tests.events.test_writer import FAST, FakeCamera, FakeDirectory
from tests.fixtures.small_fs import SmallFilesystem
from tests.fixtures.waiting import wait_until

WRITE_ERRORS = "matthan_event_store_errors_total"
BACKLOG = 40  # revisions made while the disk is full: well inside the ring (1024)


def stored(service: EventWriterService) -> list[Event]:
    page = service.query(ALL_EVENTS, Order.OLDEST_FIRST, 1000, None)
    assert not isinstance(page, Exception), page
    return list(page.events)


def write_errors(service: EventWriterService) -> float:
    return service.metrics.snapshot().value(WRITE_ERRORS, operation="write") or 0.0


def with_thumbnail(n: int) -> Event:
    """An event with an incompressible 32 KiB thumbnail: a commit needs new pages."""
    noise = np.random.default_rng(n).integers(0, 256, 32 * 1024, dtype=np.uint8).tobytes()
    return event(n, thumbnail=noise)


@pytest.fixture
def small_disk(tmp_path):
    with SmallFilesystem(tmp_path / "state", size_mib=8) as disk:
        yield disk


def test_a_full_store_disk_fails_loudly_and_the_backlog_lands_once_there_is_room(
    small_disk: SmallFilesystem, caplog
) -> None:
    camera = FakeCamera("cam-1")
    settings = EventWriterSettings(namespace="test", state_dir=small_disk.path.resolve(), events=EventsConfig())
    service = EventWriterService(settings, FakeDirectory(camera), writer_settings=FAST, open_retry_s=0.05)
    try:
        camera.ring.publish([with_thumbnail(n) for n in range(3)])
        wait_until(lambda: len(stored(service)) == 3, 20, "the first events stored", tolerate_errors=True)
        small_disk.fill()
        errors_before = write_errors(service)
        with caplog.at_level(logging.WARNING, logger="cluster.events.writer"):
            camera.ring.publish([with_thumbnail(n) for n in range(3, 3 + BACKLOG)])
            wait_until(
                lambda: write_errors(service) >= errors_before + 2, 20, "failed commits counted", tolerate_errors=True
            )
        assert any("committing" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records), (
            "the writer logs each failed commit"
        )
        assert len(stored(service)) == 3, "queries still answer while the disk is full, with what was stored"

        small_disk.free()
        wait_until(
            lambda: len(stored(service)) == 3 + BACKLOG,
            30,
            lambda: f"the backlog committed once there is room ({len(stored(service))} stored)",
            tolerate_errors=True,
        )
        ids = [e.event_id for e in stored(service)]
        assert len(ids) == len(set(ids)) == 3 + BACKLOG, "every event once, none lost"
        lost = service.metrics.snapshot().value("matthan_event_store_lost_revisions_total", camera="cam-1") or 0.0
        assert lost == 0.0, "the ring held the backlog: nothing counted as lost"
    finally:
        service.shutdown(timeout_s=5.0)
