"""A web console in front of the gateway's in-memory control plane (tests/gateway/fakes.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cluster.config.server import ServerConfig
from cluster.events import EventQueries
from cluster.gateway.event_feed import EventFeedSettings
from cluster.recordings import RecordingCatalog
from tests.gateway.conftest import TOKENS, default_cameras, server_config
from tests.gateway.fakes import FakeControl, LoopThread

from .harness import ConsoleHarness, ManualClock

__all__ = ["TOKENS"]

EVENT_FEED = EventFeedSettings(queue_size=64, pull_limit=50, pull_timeout_s=0.5, retry_initial_s=0.05, retry_max_s=0.2)


def web_config(web: dict | None = None, **server: object) -> ServerConfig:
    return server_config(web={"port": 0, **(web or {})}, **server)


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


@pytest.fixture
def make_console(loop_thread: LoopThread):
    started: list[ConsoleHarness] = []

    def make(
        cameras: list | None = None,
        *,
        web: dict | None = None,
        clock: ManualClock | None = None,
        events: EventQueries | None = None,
        recordings: RecordingCatalog | None = None,
        **server,
    ):
        control = loop_thread.call(lambda: FakeControl(default_cameras() if cameras is None else cameras))
        feed = EVENT_FEED if events is not None else None
        harness = ConsoleHarness(
            loop_thread,
            control,
            web_config(web, **server),
            clock=clock,
            events=events,
            event_feed_settings=feed,
            recordings=recordings,
        )
        started.append(harness)
        return harness

    yield make
    for harness in started:
        for camera in harness.control.cameras.values():
            harness.call(camera.stop_producing)
        harness.stop()


@pytest.fixture
def console(make_console) -> ConsoleHarness:
    return make_console()


def token(who: str) -> str:
    return TOKENS[who][0]
