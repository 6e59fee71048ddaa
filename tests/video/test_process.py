"""The process-wide OpenCV settings a camera's driver applies (`cluster/video/process.py`)."""

from __future__ import annotations

import cv2
import pytest
from pydantic import ValidationError

from cluster.config import AnalysisConfig
from cluster.video.process import use_opencv_threads


@pytest.fixture
def restore_opencv_threads():
    before = cv2.getNumThreads()
    yield
    cv2.setNumThreads(before)


def test_the_default_is_one_opencv_thread(restore_opencv_threads) -> None:
    cv2.setNumThreads(4)
    assert use_opencv_threads(AnalysisConfig()) == 1, "a camera's process runs OpenCV on one thread by default"
    assert cv2.getNumThreads() == 1, "and OpenCV itself reports it"


def test_a_camera_can_ask_for_more_threads(restore_opencv_threads) -> None:
    assert use_opencv_threads(AnalysisConfig(opencv_threads=3)) == 3, "the pool is sized as the camera asks"


@pytest.mark.parametrize("threads", [0, 65])
def test_a_thread_count_out_of_bounds_is_refused_naming_the_field(threads: int) -> None:
    with pytest.raises(ValidationError, match="opencv_threads"):
        AnalysisConfig(opencv_threads=threads)
