"""Fixtures for the capture-layer tests: media paths, stream servers, capture loops
that are always stopped, and a recorder of state changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cluster.actors.camera import CameraWorker
from cluster.actors.capture import CaptureLoop
from cluster.config import CameraConfig
from cluster.config.source import SourceConfig
from cluster.domain import CameraState
from tests.fixtures.waiting import wait_until  # noqa: F401 - re-exported for the tests here

# The media and stream-server fixtures live with the video core's tests (sources
# come first); the camera actor's tests use the same ones.
from tests.video.conftest import (  # noqa: F401 - fixtures, found by pytest by name
    black_hole,
    car_clip,
    mjpeg_server,
    noise_file,
    parking_lot_clip,
    rtsp_available,
    rtsp_server,
    rtsp_server_factory,
    short_clip,
    truncated_clip,
)


class StateLog:
    """An on_state_change callback that remembers every change and can wait for one."""

    def __init__(self) -> None:
        self._changes: list[tuple[CameraState, str]] = []
        self._condition = threading.Condition()

    def __call__(self, state: CameraState, reason: str) -> None:
        with self._condition:
            self._changes.append((state, reason))
            self._condition.notify_all()

    @property
    def changes(self) -> list[tuple[CameraState, str]]:
        with self._condition:
            return list(self._changes)

    @property
    def states(self) -> list[CameraState]:
        return [state for state, _ in self.changes]

    def wait_for(self, state: CameraState, timeout: float, *, after: int = 0) -> tuple[int, str]:
        """Wait until `state` appears at index >= `after`; returns (index, reason)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for index in range(after, len(self._changes)):
                    if self._changes[index][0] is state:
                        return index, self._changes[index][1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"state {state.value} not reached within {timeout} s; changes: {self._changes}"
                    )
                self._condition.wait(remaining)


@pytest.fixture
def make_loop() -> Iterator[Callable[..., tuple[CaptureLoop, StateLog]]]:
    """make_loop(url, *, camera_id=..., retrieve_fps=..., opener=..., **source fields)
    -> (started CaptureLoop, its StateLog). Every loop is stopped at teardown."""
    loops: list[CaptureLoop] = []

    def make(url: str, *, camera_id: str = "cam", start: bool = True, **kwargs: Any) -> tuple[CaptureLoop, StateLog]:
        loop_keys = ("retrieve_fps", "frame_hook", "opener", "rng", "clock")
        loop_kwargs = {key: kwargs.pop(key) for key in loop_keys if key in kwargs}
        log = StateLog()
        loop = CaptureLoop(camera_id, SourceConfig(url=str(url), **kwargs), on_state_change=log, **loop_kwargs)
        loops.append(loop)
        if start:
            loop.start()
        return loop, log

    yield make
    stuck = [loop.camera_id for loop in loops if not loop.stop(timeout=15)]
    assert not stuck, f"capture threads did not end after stop(): {stuck}"


@pytest.fixture
def run_worker() -> Iterator[Callable[..., CameraWorker]]:
    """run_worker(config, **CameraWorker keywords) -> a started worker, stopped at teardown."""
    workers: list[CameraWorker] = []

    def run(config: CameraConfig, **kwargs: Any) -> CameraWorker:
        worker = CameraWorker(config, **kwargs)
        workers.append(worker)
        worker.start()
        return worker

    yield run
    for worker in workers:
        worker.stop()
