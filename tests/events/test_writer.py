"""The writer loop without Ray: real camera event rings (`EventRing`) behind fake handles
(the `CameraDirectory` boundary is ours), a real store on disk (see cluster/events/writer.py)."""

from __future__ import annotations

import asyncio
import random

import pytest
from prometheus_client import CollectorRegistry

from cluster.actors.ring import EventRing
from cluster.domain import CameraNotFound, CameraUnavailable, Severity
from cluster.events import EventStore, EventWriter, RetentionPolicy, RingCursor, WriterSettings
from cluster.events.writer import plan_pull
from cluster.metrics.events import EventStoreMetrics
from tests.fixtures.waiting import wait_until

from .factory import db_path, event, revised

FAST = WriterSettings(
    flush_interval_s=0.02,
    retry_initial_s=0.02,
    retry_max_s=0.1,
    retention_interval_s=None,
    pull_max_events=16,
    pull_timeout_s=0.2,
    refresh_s=0.05,
    camera_retry_initial_s=0.02,
    camera_retry_max_s=0.1,
)


class FakeCamera:
    """A camera actor as the writer sees it: a real event ring; it can restart (new ring),
    be unavailable (not running) or be removed."""

    def __init__(self, camera_id: str, ring_size: int = 1024):
        self.camera_id = camera_id
        self.ring_size = ring_size
        self.ring = EventRing(camera_id, ring_size)
        self.unavailable = False
        self.pulls = 0

    def restart(self) -> None:
        self.ring = EventRing(self.camera_id, self.ring_size)

    async def pull_events(self, after_sequence: int, max_events: int, timeout_s: float):
        if self.unavailable:
            raise CameraUnavailable(f"camera {self.camera_id!r} is not running")
        self.pulls += 1
        ring = self.ring
        return await asyncio.to_thread(ring.pull, after_sequence, max_events, timeout_s)


class FakeDirectory:
    def __init__(self, *cameras: FakeCamera):
        self.cameras = {c.camera_id: c for c in cameras}
        self.fail_listing = False

    async def camera_ids(self):
        if self.fail_listing:
            raise CameraUnavailable("the scheduler did not answer")
        return list(self.cameras)

    async def handle(self, camera_id: str):
        if camera_id not in self.cameras:
            raise CameraNotFound(camera_id)
        return self.cameras[camera_id]


class Running:
    """The writer on its own event loop task, for the length of a test."""

    def __init__(self, store, directory, settings=FAST, metrics: EventStoreMetrics | None = None):
        self.registry = metrics._registry if metrics is not None else CollectorRegistry()
        self.metrics = metrics if metrics is not None else EventStoreMetrics(self.registry)
        self.commits: list[int] = []
        self.writer = EventWriter(
            store, directory, settings, metrics=self.metrics, on_commit=self.commits.append, rng=random.Random(1)
        )

    async def __aenter__(self):
        self.task = asyncio.get_running_loop().create_task(self.writer.run())
        return self

    async def __aexit__(self, *exc):
        await self.writer.close(timeout_s=2.0)
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    def lost(self, camera_id: str) -> float | None:
        return self.registry.get_sample_value("matthan_event_store_lost_revisions_total", {"camera": camera_id})


async def until(condition, timeout: float = 10.0, what: str = "condition") -> None:
    await asyncio.to_thread(wait_until, condition, timeout, what, poll_s=0.02)


def stored_ids(store) -> list[str]:
    return sorted(e.event_id for e in store.query(page_size=1000).events)


def starts(camera_id: str, first: int, count: int):
    return [event(n, camera=camera_id) for n in range(first, first + count)]


@pytest.fixture
def path(tmp_path):
    return db_path(tmp_path)


def test_events_of_every_camera_reach_the_store_with_their_cursors(path):
    one, two = FakeCamera("cam-1"), FakeCamera("cam-2")
    one.ring.publish(starts("cam-1", 0, 5))
    two.ring.publish(starts("cam-2", 0, 3))

    async def scenario(store):
        async with Running(store, FakeDirectory(one, two)) as run:
            await until(lambda: len(stored_ids(store)) == 8, what="8 events stored")
            one.ring.publish(starts("cam-1", 5, 2))  # published while followed: arrives by the long-poll
            await until(lambda: len(stored_ids(store)) == 10, what="the 2 live events stored")
            # The listener hears of a commit just after it is visible in the store: wait for it.
            await until(
                lambda: bool(run.commits) and run.commits[-1] == store.last_change_seq(),
                what="the commit listener heard of the last commit",
            )

    with EventStore(path) as store:
        asyncio.run(scenario(store))
        cursors = store.ring_cursors()
    assert cursors["cam-1"] == RingCursor("cam-1", one.ring.epoch, 7)
    assert cursors["cam-2"] == RingCursor("cam-2", two.ring.epoch, 3)


def test_updates_of_an_event_replace_it_and_nothing_is_stored_twice(path):
    cam = FakeCamera("cam-1")
    start = event(1, type="loitering")
    cam.ring.publish(
        [start, revised(start, 1, dwell_s=10.0), revised(start, 2, dwell_s=20.0, end_time=start.start_time + 20)]
    )

    async def scenario(store):
        async with Running(store, FakeDirectory(cam)):
            await until(lambda: store.ring_cursors().get("cam-1", RingCursor("cam-1", "x", 0)).sequence == 3)

    with EventStore(path) as store:
        asyncio.run(scenario(store))
        [stored] = store.query().events
    assert (stored.revision, stored.dwell_s) == (2, 20.0), "the newest revision is the row"


def test_a_restarted_writer_resumes_after_its_stored_cursor_without_duplicates(path):
    cam = FakeCamera("cam-1")
    cam.ring.publish(starts("cam-1", 0, 4))

    async def first(store):
        async with Running(store, FakeDirectory(cam)):
            await until(lambda: len(stored_ids(store)) == 4)

    with EventStore(path) as store:
        asyncio.run(first(store))
        changes = store.last_change_seq()
    cam.ring.publish(starts("cam-1", 4, 3))  # produced while the writer was down: waits in the ring
    pulls_before = cam.pulls

    async def second(store):
        async with Running(store, FakeDirectory(cam)) as run:
            await until(lambda: len(stored_ids(store)) == 7, what="the events made while the writer was down")
            assert run.lost("cam-1") == 0

    with EventStore(path) as store:
        asyncio.run(second(store))
        assert store.last_change_seq() == changes + 3, "only the 3 new events changed the store: no replay"
    assert cam.pulls > pulls_before


def test_a_new_ring_is_read_from_its_start(path):
    cam = FakeCamera("cam-1")
    cam.ring.publish(starts("cam-1", 0, 5))

    async def scenario(store):
        async with Running(store, FakeDirectory(cam)):
            await until(lambda: len(stored_ids(store)) == 5)
            cam.restart()  # the actor restarted: sequences from 1 again, in a new epoch
            cam.ring.publish(starts("cam-1", 100, 2))
            await until(lambda: len(stored_ids(store)) == 7, what="the new ring's first events")

    with EventStore(path) as store:
        asyncio.run(scenario(store))
        assert store.ring_cursors()["cam-1"] == RingCursor("cam-1", cam.ring.epoch, 2)


def test_revisions_a_full_ring_dropped_are_counted_as_lost(path):
    cam = FakeCamera("cam-1", ring_size=16)
    cam.ring.publish(starts("cam-1", 0, 40))  # 24 were pushed out before anyone read them

    async def scenario(store):
        async with Running(store, FakeDirectory(cam)) as run:
            await until(lambda: len(stored_ids(store)) == 16, what="what the ring still held")
            await until(lambda: run.lost("cam-1") == 24, what="24 lost revisions counted")

    with EventStore(path) as store:
        asyncio.run(scenario(store))
        assert store.ring_cursors()["cam-1"].sequence == 40


def test_a_camera_that_is_not_running_holds_up_only_itself(path):
    up, down = FakeCamera("cam-up"), FakeCamera("cam-down")
    down.unavailable = True
    down.ring.publish(starts("cam-down", 0, 3))

    async def scenario(store):
        async with Running(store, FakeDirectory(up, down)):
            up.ring.publish(starts("cam-up", 0, 2))
            await until(lambda: len(stored_ids(store)) == 2, what="the running camera's events")
            down.unavailable = False  # back: what its ring kept arrives
            await until(lambda: len(stored_ids(store)) == 5, what="the recovered camera's events")

    with EventStore(path) as store:
        asyncio.run(scenario(store))


def test_a_failing_store_keeps_the_pulls_and_commits_them_once_it_works(path):
    cam = FakeCamera("cam-1")

    async def scenario(store, run):
        async with run:
            cam.ring.publish(starts("cam-1", 0, 1))
            await until(lambda: len(stored_ids(store)) == 1)
            pages = store._writer.execute("PRAGMA page_count").fetchone()[0]
            store._writer.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full
            cam.ring.publish([event(n, thumbnail=b"\xff\xd8" + b"x" * 30_000) for n in range(1, 20)])
            await until(
                lambda: run.registry.get_sample_value("matthan_event_store_errors_total", {"operation": "write"}) >= 2,
                what="failed writes counted",
            )
            assert len(stored_ids(store)) == 1
            store._writer.execute("PRAGMA max_page_count = 1073741823")  # space again
            await until(lambda: len(stored_ids(store)) == 20, what="the held pulls committed")

    metrics = EventStoreMetrics(CollectorRegistry())  # the store's and the writer's, as in the actor
    with EventStore(path, metrics=metrics) as store:
        asyncio.run(scenario(store, Running(store, FakeDirectory(cam), metrics=metrics)))


def test_a_camera_leaving_the_desired_set_is_no_longer_followed(path):
    one, two = FakeCamera("cam-1"), FakeCamera("cam-2")
    directory = FakeDirectory(one, two)

    async def scenario(store):
        async with Running(store, directory) as run:
            await until(lambda: run.writer.state().cameras_followed == ("cam-1", "cam-2"))
            assert run.registry.get_sample_value("matthan_event_store_cameras_followed") == 2
            del directory.cameras["cam-2"]
            await until(lambda: run.writer.state().cameras_followed == ("cam-1",), what="cam-2 dropped")

    with EventStore(path) as store:
        asyncio.run(scenario(store))


def test_a_failing_camera_listing_keeps_following_the_cameras_it_had(path):
    cam = FakeCamera("cam-1")
    directory = FakeDirectory(cam)

    async def scenario(store):
        async with Running(store, directory) as run:
            await until(lambda: run.writer.state().cameras_followed == ("cam-1",))
            directory.fail_listing = True
            cam.ring.publish(starts("cam-1", 0, 2))
            await until(lambda: len(stored_ids(store)) == 2, what="events while the listing fails")

    with EventStore(path) as store:
        asyncio.run(scenario(store))


def test_close_commits_what_was_pulled(path):
    cam = FakeCamera("cam-1")
    cam.ring.publish(starts("cam-1", 0, 3))

    async def scenario(store):
        settings = WriterSettings(**{**_fields(FAST), "flush_interval_s": 30.0})  # the batch would wait long
        writer = EventWriter(store, FakeDirectory(cam), settings)
        task = asyncio.get_running_loop().create_task(writer.run())
        await until(lambda: writer.state().pending_events == 3, what="a pull waiting for its batch")
        await writer.close(timeout_s=5.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with EventStore(path) as store:
        asyncio.run(scenario(store))
        assert len(stored_ids(store)) == 3, "close() does not leave a pulled batch behind"


def test_retention_runs_in_the_background(path):
    cam = FakeCamera("cam-1")
    old = event(0, camera="cam-1", start=1_000.0)

    metrics = EventStoreMetrics(CollectorRegistry())

    async def scenario(store):
        settings = WriterSettings(**{**_fields(FAST), "retention_interval_s": 0.05})
        async with Running(store, FakeDirectory(cam), settings, metrics=metrics) as run:
            cam.ring.publish([old])
            await until(
                lambda: (
                    run.registry.get_sample_value("matthan_event_store_retention_deleted_total", {"reason": "age"}) == 1
                ),
                what="the old event deleted by age",
            )

    with EventStore(path, retention=RetentionPolicy({Severity.ALERT: 3600.0}), metrics=metrics) as store:
        asyncio.run(scenario(store))
        assert stored_ids(store) == []


def _fields(settings: WriterSettings) -> dict:
    return {name: getattr(settings, name) for name in WriterSettings.__slots__}


# ---- plan_pull: pure -------------------------------------------------------------------


def pull_of(ring: EventRing, after: int):
    return ring.pull(after, 100)


def test_plan_of_a_first_pull_reads_the_whole_ring():
    ring = EventRing("cam-1", 16)
    ring.publish(starts("cam-1", 0, 3))
    step = plan_pull(None, pull_of(ring, 0))
    assert (len(step.events), step.cursor.sequence, step.lost) == (3, 3, 0)


def test_plan_of_an_empty_pull_of_the_same_ring_is_nothing():
    ring = EventRing("cam-1", 16)
    ring.publish(starts("cam-1", 0, 3))
    assert plan_pull(RingCursor("cam-1", ring.epoch, 3), pull_of(ring, 3)) is None


def test_plan_of_an_empty_new_ring_stores_its_epoch():
    ring = EventRing("cam-1", 16)
    step = plan_pull(RingCursor("cam-1", "old-ring", 9), pull_of(ring, 0), seen_newest=("old-ring", 12))
    assert step.cursor == RingCursor("cam-1", ring.epoch, 0)
    assert step.lost == 3, "the old ring held 3 revisions past the cursor when it was last seen"


def test_plan_counts_what_the_ring_overwrote():
    ring = EventRing("cam-1", 16)
    ring.publish(starts("cam-1", 0, 30))
    step = plan_pull(RingCursor("cam-1", ring.epoch, 4), pull_of(ring, 4))
    assert (step.events[0], step.lost) == (starts("cam-1", 14, 1)[0], 10), "sequences 5..14 were overwritten"
