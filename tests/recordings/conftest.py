"""Fixtures of the recordings tests: the shared clip and real recordings made from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.video.conftest import car_clip  # noqa: F401 - a fixture, found by pytest by name

from .footage import T0, record_clip


@pytest.fixture
def recorded(tmp_path: Path, car_clip: Path) -> Path:  # noqa: F811
    """<root>/cam-1 holding 40 s of the car clip (looped once) in 4.8 s segments from T0."""
    record_clip(tmp_path / "rec", "cam-1", car_clip, start=T0, seconds=40.0, segment_s=4.0)
    return tmp_path / "rec" / "cam-1"
