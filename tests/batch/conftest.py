"""Footage for the batch tests: long files concatenated from the shared clip with
Debian's ffmpeg (built once per session), damaged copies, and a road camera."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from cluster.domain import Event

ROAD_RULES = {
    "lines": [{"name": "middle", "start": [0.0, 0.5], "end": [1.0, 0.5]}],
    "zones": [{"name": "left", "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}],
}


def latest_revisions(revisions: Iterable[Event]) -> list[Event]:
    """The last revision seen of each event, in the order the events first appeared."""
    latest: dict[str, Event] = {}
    for event in revisions:
        latest[event.event_id] = event
    return list(latest.values())


def unmatched(left: list[tuple], right: list[tuple], tolerance_s: float) -> list[tuple]:
    """Items of `left` with no partner in `right`: each item is (time, *signature); a partner has
    the same signature and a time within `tolerance_s`, and partners each other item once."""
    free, missing = list(right), []
    for item in left:
        partner = next((o for o in free if o[1:] == item[1:] and abs(o[0] - item[0]) <= tolerance_s), None)
        if partner is None:
            missing.append(item)
        else:
            free.remove(partner)
    return missing


def concatenate(clip: Path, copies: int, destination: Path) -> Path:
    """`copies` plays of `clip` back to back, stream-copied (keyframes stay where they were)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.fail("Debian's ffmpeg is needed to build the long test footage (apt-get install ffmpeg)")
    listing = destination.with_suffix(".txt")
    listing.write_text("".join(f"file '{clip}'\n" for _ in range(copies)))
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-c",
            "copy",
            "-an",
            "-movflags",
            "+faststart",
            str(destination),
        ],
        check=True,
        timeout=120,
    )
    return destination


@pytest.fixture(scope="session")
def footage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("footage")


@pytest.fixture(scope="session")
def car_clip(media: Path) -> Path:
    return media / "car-detection.mp4"


@pytest.fixture(scope="session")
def long_footage(car_clip: Path, footage_dir: Path) -> Path:
    """Four minutes of road: the 30 s clip eight times (keyframes every 4.8 s)."""
    return concatenate(car_clip, 8, footage_dir / "road-4min.mp4")


@pytest.fixture
def road_camera(long_footage: Path) -> CameraConfig:
    return CameraConfig.model_validate({"id": "road", "source": {"url": str(long_footage)}, "rules": ROAD_RULES})


@pytest.fixture
def batch_config(footage_dir: Path, tmp_path: Path) -> BatchConfig:
    return BatchConfig(allowed_dirs=[footage_dir, tmp_path], segment_s=40.0, warmup_s=5.0, max_tail_s=30.0)
