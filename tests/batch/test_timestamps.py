"""The wall-clock start of footage from each of its three sources, and their precedence."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest

from cluster.batch.media import index_media
from cluster.batch.timestamps import TimeSource, UndatedFile, footage_starts, parse_time

PATTERN, FORMAT = r"(?P<time>\d{8}T\d{6})", "%Y%m%dT%H%M%S"
HANOI = "Asia/Ho_Chi_Minh"


def starts(paths: list[Path], explicit: float | None = None):
    return footage_starts(
        [index_media(p) for p in paths], explicit=explicit, pattern=PATTERN, time_format=FORMAT, time_zone=HANOI
    )


def test_an_explicit_start_dates_the_first_file_and_the_next_ones_follow_it(car_clip: Path, tmp_path: Path) -> None:
    second = shutil.copy(car_clip, tmp_path / "cam01_20261128T220000.mp4")
    explicit = parse_time("2026-11-28T22:00:00", HANOI)
    first, following = starts([car_clip, Path(second)], explicit)

    assert first.source is TimeSource.EXPLICIT and first.epoch_s == explicit, "--start wins over name and metadata"
    assert following.epoch_s == pytest.approx(explicit + index_media(car_clip).duration_s), "files follow each other"
    assert explicit == datetime.datetime(2026, 11, 28, 15, 0, tzinfo=datetime.timezone.utc).timestamp(), (
        "a time without offset is the camera's local time (UTC+7)"
    )


def test_a_file_name_with_a_time_dates_the_file_in_the_camera_time_zone(car_clip: Path, tmp_path: Path) -> None:
    named = Path(shutil.copy(car_clip, tmp_path / "cam01_20261128T220000.mp4"))
    (start,) = starts([named])

    assert start.source is TimeSource.FILENAME, "the name is read before the metadata"
    assert start.epoch_s == datetime.datetime(2026, 11, 28, 15, 0, tzinfo=datetime.timezone.utc).timestamp()


def test_the_container_creation_time_dates_a_file_without_a_time_in_its_name(car_clip: Path) -> None:
    (start,) = starts([car_clip])

    assert start.source is TimeSource.CREATION_TIME, "car-detection.mp4 carries creation_time"
    assert start.epoch_s == datetime.datetime(2018, 4, 19, 22, 46, tzinfo=datetime.timezone.utc).timestamp()


def test_a_file_nothing_dates_is_an_error_naming_it(media: Path) -> None:
    gif = media / "people-detection.gif"
    with pytest.raises(UndatedFile, match=r"people-detection\.gif.*--start"):
        starts([gif])


def test_a_malformed_start_time_is_an_error_quoting_it() -> None:
    with pytest.raises(ValueError, match="'yesterday' is not an ISO 8601 time"):
        parse_time("yesterday", HANOI)
