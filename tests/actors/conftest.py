"""Fixtures for the capture-layer tests: media paths, stream servers, capture loops
that are always stopped, and a recorder of state changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cluster.actors.capture import CaptureLoop
from cluster.config.source import SourceConfig
from cluster.domain import CameraState
from tests.fixtures.streams import (
    BlackHoleServer,
    MjpegServer,
    RtspServer,
    rtsp_server_available,
    write_random_bytes,
    write_truncated_copy,
)
from tests.fixtures.waiting import wait_until  # noqa: F401 - re-exported for the tests here


@pytest.fixture(scope="session")
def car_clip(media: Path) -> Path:
    """768x432 H.264 at 12.5 fps, 377 frames (about 30 s)."""
    return media / "car-detection.mp4"


@pytest.fixture(scope="session")
def short_clip(media: Path) -> Path:
    """480x270, 23 frames: reaches its end quickly."""
    return media / "people-detection.gif"


@pytest.fixture
def truncated_clip(car_clip: Path, tmp_path: Path) -> Path:
    return write_truncated_copy(car_clip, tmp_path / "truncated.mp4", fraction=0.3)


@pytest.fixture
def noise_file(tmp_path: Path) -> Path:
    return write_random_bytes(tmp_path / "noise.mp4")


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
        loop_kwargs = {key: kwargs.pop(key) for key in ("retrieve_fps", "opener", "rng", "clock") if key in kwargs}
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
def mjpeg_server() -> Iterator[MjpegServer]:
    with MjpegServer(width=320, height=240, fps=10) as server:
        yield server


@pytest.fixture
def black_hole() -> Iterator[BlackHoleServer]:
    with BlackHoleServer() as server:
        yield server


@pytest.fixture(scope="session")
def rtsp_available() -> None:
    why_not = rtsp_server_available()
    if why_not:
        pytest.skip(f"RTSP test server cannot run: {why_not}")


@pytest.fixture
def rtsp_server_factory(rtsp_available: None) -> Iterator[Callable[..., RtspServer]]:
    """rtsp_server_factory({"/cam": "testsrc", ...}, stall_after_s=...) -> a running RtspServer."""
    servers: list[RtspServer] = []

    def make(mounts: dict[str, str], **kwargs: Any) -> RtspServer:
        server = RtspServer(mounts, **kwargs)
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def rtsp_server(rtsp_available: None, car_clip: Path) -> Iterator[RtspServer]:
    """One server for a module's read-only tests: a live test pattern, the car clip
    (sent without re-encoding) and a mount that stalls 2 s after it starts."""
    mounts = {"/live": "testsrc", "/clip": f"file:{car_clip}", "/stall": "stall"}
    with RtspServer(mounts, stall_after_s=2.0) as server:
        yield server
