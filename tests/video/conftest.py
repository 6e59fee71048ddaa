"""Fixtures for the video-core tests (and the camera actor's, which import them):
media clips, broken files, and stream servers (MJPEG, RTSP, a black hole)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.streams import (
    BlackHoleServer,
    MjpegServer,
    RtspServer,
    rtsp_server_available,
    write_random_bytes,
    write_truncated_copy,
)


@pytest.fixture(scope="session")
def car_clip(media: Path) -> Path:
    """768x432 H.264 at 12.5 fps, 377 frames (about 30 s)."""
    return media / "car-detection.mp4"


@pytest.fixture(scope="session")
def short_clip(media: Path) -> Path:
    """480x270, 23 frames: reaches its end quickly."""
    return media / "people-detection.gif"


@pytest.fixture(scope="session")
def parking_lot_clip(media: Path) -> Path:
    """480x270, 41 frames over 3.3 s: a car and a cyclist (the detector's clip)."""
    return media / "person-bicycle-car-detection.gif"


@pytest.fixture
def truncated_clip(car_clip: Path, tmp_path: Path) -> Path:
    return write_truncated_copy(car_clip, tmp_path / "truncated.mp4", fraction=0.3)


@pytest.fixture
def noise_file(tmp_path: Path) -> Path:
    return write_random_bytes(tmp_path / "noise.mp4")


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
    """GStreamer's RTSP server is a test dependency (`make test` installs it): without
    it the RTSP tests fail, they are not skipped."""
    why_not = rtsp_server_available()
    if why_not:
        pytest.fail(f"RTSP test server cannot run: {why_not}")


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
