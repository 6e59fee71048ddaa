"""Fixtures of the fault-injection tests: stream servers and a broken network path
between a camera and its RTSP server (tests/fixtures/tcp_proxy.py), and cameras
(`CameraWorker`, the body of the camera actor) whose every state change is logged
with the time it happened, so a test can say how long detection and recovery took."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cluster.actors.camera import CameraWorker
from cluster.actors.capture import CaptureLoop
from cluster.config import CameraConfig
from cluster.domain import CameraState
from tests.fixtures.tcp_proxy import GarbageServer, TcpProxy
from tests.video.conftest import rtsp_available, rtsp_server_factory  # noqa: F401 - fixtures, found by name


class TimedStateLog:
    """Every state change of one camera's capture loop, with its monotonic time."""

    def __init__(self) -> None:
        self._changes: list[tuple[float, CameraState, str]] = []
        self._condition = threading.Condition()

    def __call__(self, state: CameraState, reason: str) -> None:
        with self._condition:
            self._changes.append((time.monotonic(), state, reason))
            self._condition.notify_all()

    @property
    def changes(self) -> list[tuple[float, CameraState, str]]:
        with self._condition:
            return list(self._changes)

    def first(
        self, matches: Callable[[CameraState, str], bool], timeout: float, *, since: float = 0.0
    ) -> tuple[float, CameraState, str]:
        """The first change at or after `since` that `matches`, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for change in self._changes:
                    if change[0] >= since and matches(change[1], change[2]):
                        return change
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = [(round(at - since, 2), s.value, r[:120]) for at, s, r in self._changes if at >= since]
                    raise AssertionError(f"no matching state change within {timeout} s; changes since: {recent}")
                self._condition.wait(remaining)

    def states_since(self, since: float) -> list[CameraState]:
        return [state for at, state, _ in self.changes if at >= since]


@pytest.fixture
def camera_with_log() -> Iterator[Callable[..., tuple[CameraWorker, TimedStateLog]]]:
    """camera_with_log(config) -> (a started CameraWorker, its TimedStateLog); stopped at teardown."""
    workers: list[CameraWorker] = []

    def start(config: CameraConfig | dict[str, Any]) -> tuple[CameraWorker, TimedStateLog]:
        if not isinstance(config, CameraConfig):
            config = CameraConfig.model_validate(config)
        log = TimedStateLog()

        def capture(*args: Any, on_state_change: Callable[[CameraState, str], None], **kwargs: Any) -> CaptureLoop:
            def both(state: CameraState, reason: str) -> None:
                log(state, reason)
                on_state_change(state, reason)

            return CaptureLoop(*args, on_state_change=both, **kwargs)

        worker = CameraWorker(config, capture_factory=capture)
        workers.append(worker)
        worker.start()
        return worker, log

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def tcp_proxy() -> Iterator[Callable[[int], TcpProxy]]:
    """tcp_proxy(upstream_port) -> a running TcpProxy to 127.0.0.1:port, closed at teardown."""
    proxies: list[TcpProxy] = []

    def make(port: int) -> TcpProxy:
        proxy = TcpProxy(("127.0.0.1", port)).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def garbage_server() -> Iterator[GarbageServer]:
    with GarbageServer() as server:
        yield server
