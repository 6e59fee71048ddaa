"""The event writer actor's work without Ray (`EventWriterService`): a real store on disk,
real camera event rings behind fake handles (the directory is a boundary we own). The
actor and its client over Ray are in test_serve_path.py."""

from __future__ import annotations

import dataclasses

import pytest

from cluster.config import EventsConfig
from cluster.domain import Event
from cluster.events import ALL_EVENTS, EventFilter, EventNotFound, InvalidCursor, Order
from cluster.eventwriter.service import EventWriterService, StoreNotOpen
from cluster.eventwriter.settings import EventWriterSettings
from tests.events.factory import event
from tests.events.test_writer import FAST, FakeCamera, FakeDirectory
from tests.fixtures.waiting import wait_until


@pytest.fixture
def camera() -> FakeCamera:
    return FakeCamera("cam-1")


@pytest.fixture
def service(tmp_path, camera):
    settings = EventWriterSettings(namespace="test", state_dir=tmp_path.resolve(), events=EventsConfig())
    running = EventWriterService(settings, FakeDirectory(camera), writer_settings=FAST, open_retry_s=0.05)
    wait_until(lambda: not isinstance(running.feed(), Exception), 10, "the store open")
    yield running
    running.shutdown(timeout_s=5.0)


def stored(service: EventWriterService) -> list[Event]:
    page = service.query(ALL_EVENTS, Order.OLDEST_FIRST, 1000, None)
    assert not isinstance(page, Exception), page
    return list(page.events)


def test_the_cameras_events_reach_the_store_and_are_answered(service, camera) -> None:
    made = [event(n) for n in range(5)]
    camera.ring.publish(made)
    wait_until(lambda: len(stored(service)) == 5, 10, "the five events stored")
    assert [e.event_id for e in stored(service)] == [e.event_id for e in made], "in order, each once"
    got = service.get(made[2].event_id)
    assert isinstance(got, Event) and got.event_id == made[2].event_id


def test_a_long_poll_of_the_change_feed_wakes_at_the_commit(service, camera) -> None:
    start = service.feed().position
    camera.ring.publish([event(7)])
    page = service.changes_after(start, 10, ALL_EVENTS, 10.0)
    assert [c.event.start_pts for c in page.changes] == [7.0], "the long-poll returned the new change"


def test_errors_are_returned_as_values(service) -> None:
    bad = service.query(EventFilter(cameras={"cam-1"}), Order.NEWEST_FIRST, 10, "not-a-cursor")
    assert isinstance(bad, InvalidCursor) and bad.field == "cursor", bad
    assert isinstance(service.get("00ff"), EventNotFound)


def test_a_store_that_cannot_be_opened_answers_why_and_the_service_stays(tmp_path, camera) -> None:
    blocked = tmp_path / "state"
    blocked.write_text("a file where the state directory should be")
    settings = EventWriterSettings(namespace="test", state_dir=blocked.resolve())
    service = EventWriterService(settings, FakeDirectory(camera), writer_settings=FAST, open_retry_s=0.05)
    try:
        answer = wait_until(
            lambda: (
                (a := service.query(ALL_EVENTS, Order.NEWEST_FIRST, 10, None)) and "cannot be opened" in str(a) and a
            ),
            10,
            "the reason the store cannot be opened",
        )
        assert isinstance(answer, StoreNotOpen), answer
        blocked.unlink()  # the disk is back: the next attempt opens it
        camera.ring.publish([event(1)])
        wait_until(
            lambda: len(stored(service)) == 1,
            10,
            "opened and stored once the directory can be made",
            tolerate_errors=True,
        )
    finally:
        service.shutdown(timeout_s=5.0)


def test_shutdown_commits_what_was_pulled(tmp_path, camera) -> None:
    slow = dataclasses.replace(FAST, flush_interval_s=30.0)  # nothing committed before the shutdown
    settings = EventWriterSettings(namespace="test", state_dir=tmp_path.resolve())
    service = EventWriterService(settings, FakeDirectory(camera), writer_settings=slow, open_retry_s=0.05)
    camera.ring.publish([event(n) for n in range(3)])
    wait_until(
        lambda: (state := service.writer_state()) is not None and state.pending_events == 3,
        10,
        "the three events pulled, not yet committed",
    )
    service.shutdown(timeout_s=5.0)
    again = EventWriterService(settings, FakeDirectory(), writer_settings=FAST, open_retry_s=0.05)
    try:
        wait_until(
            lambda: len(stored(again)) == 3, 10, "the pulled events were committed at shutdown", tolerate_errors=True
        )
    finally:
        again.shutdown(timeout_s=5.0)
