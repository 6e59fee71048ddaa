"""Fixtures for the pipeline tests: the parking-lot clip and the -xl model."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from cluster.config import DetectorConfig

PARKING_LOT_GIF = "person-bicycle-car-detection.gif"
PARKING_LOT_FPS = 12.5  # what the source clip was recorded at (the gif's own timing is not reliable)


@pytest.fixture(scope="session")
def parking_lot_frames(media: Path) -> list[np.ndarray]:
    """All 41 BGR frames of the parking-lot clip (480x270)."""
    path = media / PARKING_LOT_GIF
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        capture.release()
    assert len(frames) >= 30, f"expected the whole clip from {path}, read {len(frames)} frames"
    return frames


@pytest.fixture(scope="session")
def xl_config(models: Path) -> DetectorConfig:
    """Yolo-Fastest-1.1-xl at 416, the setting the README measured on this clip."""
    return DetectorConfig(model=models / "yolo-fastest-1.1-xl.cfg", input_size=416, confidence=0.25)
