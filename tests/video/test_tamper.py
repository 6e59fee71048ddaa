"""Tamper detection on clips built from real footage: the view goes black, uniform grey,
blurred or shifted for ten seconds; the traffic clip raises nothing.

Each built clip is 30 s at 10 fps of the parking-lot scene (looped), tampered
from 14 s to 24 s, with the default tamper settings (1 sample a second, 10 s
of learning, 5 s to start and 5 s to end an incident).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from cluster.config import CameraConfig
from cluster.domain import Event, EventType
from cluster.video.file_driver import analyse_camera_file
from cluster.video.tamper import TAMPER_RULE

pytestmark = pytest.mark.slow

FPS, LENGTH_S, TAMPER_FROM, TAMPER_UNTIL = 10, 30, 14.0, 24.0


def shifted(image: np.ndarray) -> np.ndarray:
    """The camera knocked aside: the view moves 15% right and 10% down."""
    height, width = image.shape[:2]
    move = np.float32([[1, 0, 0.15 * width], [0, 1, 0.1 * height]])
    return cv2.warpAffine(image, move, (width, height), borderMode=cv2.BORDER_REFLECT)


TAMPERING: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "black": lambda image: np.full_like(image, 4),
    "grey": lambda image: np.full_like(image, 128),
    "blur": lambda image: cv2.GaussianBlur(image, (0, 0), 8),
    "shift": shifted,
}


def read_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            return frames
        frames.append(image)


def build_clip(path: Path, scene: list[np.ndarray], tamper, start: float, until: float) -> Path:
    height, width = scene[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (width, height))
    assert writer.isOpened(), "OpenCV cannot write MJPG clips here"
    for index in range(LENGTH_S * FPS):
        image = scene[index % len(scene)]
        writer.write(tamper(image) if start <= index / FPS < until else image)
    writer.release()
    return path


def tamper_events(clip: Path) -> list[Event]:
    camera = CameraConfig(id="cam", source={"url": str(clip)})
    return [e for _, result in analyse_camera_file(camera) for e in result.events if e.rule == TAMPER_RULE]


@pytest.fixture(scope="module")
def scene(parking_lot_clip: Path) -> list[np.ndarray]:
    return read_frames(parking_lot_clip)


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("black", EventType.TAMPER_BLACK),
        ("grey", EventType.TAMPER_UNIFORM),
        ("blur", EventType.TAMPER_DEFOCUS),
        ("shift", EventType.TAMPER_MOVED),
    ],
)
def test_a_tampered_view_is_one_event_with_its_start_and_end(kind, expected, scene, tmp_path: Path) -> None:
    clip = build_clip(tmp_path / f"{kind}.avi", scene, TAMPERING[kind], TAMPER_FROM, TAMPER_UNTIL)

    events = tamper_events(clip)

    assert {e.type for e in events} == {expected}, f"{kind}: only {expected.value}: {events}"
    assert len({e.event_id for e in events}) == 1, f"one incident, one event: {events}"
    start, end = events[0], events[-1]
    assert (start.revision, end.revision) == (0, 1), "a start and an end"
    assert TAMPER_FROM <= start.start_pts <= TAMPER_FROM + 1.0, f"starts when it began: {start.start_pts}"
    assert end.end_pts is not None and TAMPER_UNTIL <= end.end_pts <= TAMPER_UNTIL + 1.0, (
        f"ends when the view came back: {end.end_pts}"
    )
    assert start.thumbnail is not None and end.thumbnail is None, "the picture comes with the start"


def test_a_brief_cover_is_no_incident(scene, tmp_path: Path) -> None:
    clip = build_clip(tmp_path / "brief.avi", scene, TAMPERING["grey"], 15.0, 17.0)  # 2 s, under min_duration_s
    assert tamper_events(clip) == []


def test_moving_traffic_raises_no_tamper_event(car_clip: Path) -> None:
    """Cars filling half the view, an exposure jump and a darker end: still the same camera."""
    assert tamper_events(car_clip) == []
