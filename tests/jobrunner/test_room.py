"""`SchedulerRoom`: the newest answer of the scheduler while it is recent, else nothing
(which makes the batch capacity the fallback)."""

from __future__ import annotations

import threading

import pytest

from cluster.control import SchedulerUnavailable
from cluster.jobrunner.room import SchedulerRoom
from cluster.scheduler.report import NodeReport
from tests.scheduler.fakes import FakeClock

NODE = NodeReport("a", "10.0.0.1", True, cpus=4.0, usable=3.2, load=0.5, cameras=("cam",))


class Scheduler:
    def __init__(self) -> None:
        self.answering = True
        self.asked = 0

    def __call__(self):
        self.asked += 1
        if not self.answering:
            raise SchedulerUnavailable("the scheduler actor did not answer report within 2 s")
        return (NODE,)


def test_nothing_is_known_before_the_first_answer():
    room = SchedulerRoom(Scheduler(), refresh_s=2.0, max_age_s=10.0, clock=FakeClock())
    assert room.nodes() is None


def test_an_answer_is_used_until_it_is_older_than_max_age_s():
    clock, scheduler = FakeClock(), Scheduler()
    room = SchedulerRoom(scheduler, refresh_s=2.0, max_age_s=10.0, clock=clock)
    assert room.refresh() is True
    clock.advance(10.0)
    assert room.nodes() == (NODE,), "10 s old: still used"
    scheduler.answering = False
    assert room.refresh() is False, "no answer"
    assert room.nodes() == (NODE,), "the last answer stands while it is recent"
    clock.advance(0.5)
    assert room.nodes() is None, "older than max_age_s: the fallback applies"
    scheduler.answering = True
    room.refresh()
    assert room.nodes() == (NODE,), "a new answer is used at once"


def test_an_ask_that_fails_unexpectedly_is_survived(caplog: pytest.LogCaptureFixture):
    def broken():
        raise RuntimeError("boom")

    room = SchedulerRoom(broken, refresh_s=2.0, max_age_s=10.0, clock=FakeClock())
    assert room.refresh() is False and room.nodes() is None
    assert "boom" in caplog.text, "logged with its traceback"


def test_the_thread_asks_at_once_and_stops():
    scheduler = Scheduler()
    asked = threading.Event()

    def ask():
        asked.set()
        return scheduler()

    room = SchedulerRoom(ask, refresh_s=60.0, max_age_s=60.0)
    room.start()
    try:
        assert asked.wait(30.0), "the first ask is made when the thread starts"
    finally:
        room.stop()
    assert room.nodes() == (NODE,)


def test_max_age_below_the_refresh_is_refused():
    with pytest.raises(ValueError, match="max_age_s >= refresh_s"):
        SchedulerRoom(Scheduler(), refresh_s=5.0, max_age_s=1.0)
