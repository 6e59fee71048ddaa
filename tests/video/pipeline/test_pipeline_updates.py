"""AnalysisPipeline(previous=...): a settings change rebuilds only what it must."""

from __future__ import annotations

import numpy as np
import pytest

from cluster.config import AnalysisConfig, DetectorConfig, MotionConfig, TrackerConfig
from cluster.domain import Box, Detection, Frame
from cluster.video.pipeline import AnalysisPipeline

RNG = np.random.default_rng(3)
BACKGROUND = RNG.integers(0, 200, (180, 320, 3), dtype=np.uint8)


def frame(index: int, square_x: int | None = None) -> Frame:
    image = BACKGROUND.copy()
    if square_x is not None:
        image[60:100, square_x : square_x + 40] = 255
    return Frame(index, 1000.0 + index, image, pts=index * 0.2)


class FixedDetector:
    class_names = ("car",)

    def __init__(self, x: float = 0.4) -> None:
        self.x = x

    def detect(self, image: np.ndarray) -> tuple[Detection, ...]:
        return (Detection(0, "car", 0.9, Box(self.x, 0.4, 0.2, 0.2)),)

    def describe(self) -> str:
        return "fixed"


INJECTED = DetectorConfig(model="injected-detector-loads-nothing.cfg", max_fps=5.0)


@pytest.fixture(scope="module")
def detector_config(models) -> DetectorConfig:
    return DetectorConfig(model=models / "yolo-fastest-1.1.cfg", input_size=320, confidence=0.25)


def test_a_detector_change_keeps_the_motion_background(detector_config: DetectorConfig) -> None:
    old = AnalysisPipeline("cam", AnalysisConfig(detector=detector_config))
    for index in range(5):
        old.process(frame(index))  # learns the still background
    changed = AnalysisConfig(detector=detector_config.model_copy(update={"confidence": 0.5}))

    new = AnalysisPipeline("cam", changed, previous=old)

    assert new.detector is not old.detector, "a new threshold needs a detector with it"
    assert new.process(frame(5, square_x=30)).motion, (
        "the first frame after the update must be compared with the learned background, not warm up again"
    )


def test_a_motion_change_keeps_the_loaded_detector(detector_config: DetectorConfig) -> None:
    old = AnalysisPipeline("cam", AnalysisConfig(detector=detector_config))
    changed = AnalysisConfig(detector=detector_config, motion=MotionConfig(min_area=0.01, width=160))

    new = AnalysisPipeline("cam", changed, previous=old)

    assert new.detector is old.detector, "the network must not be loaded again for a motion change"


def test_a_budget_change_keeps_the_loaded_detector(detector_config: DetectorConfig) -> None:
    old = AnalysisPipeline("cam", AnalysisConfig(detector=detector_config))
    new = AnalysisPipeline(
        "cam", AnalysisConfig(detector=detector_config.model_copy(update={"max_fps": 1.0})), previous=old
    )
    assert new.detector is old.detector, "max_fps is a budget, not part of the model"
    assert "max 1 fps" in new.describe(), new.describe()


def test_a_new_background_size_starts_a_fresh_model(detector_config: DetectorConfig) -> None:
    old = AnalysisPipeline("cam", AnalysisConfig())
    for index in range(5):
        old.process(frame(index))
    new = AnalysisPipeline("cam", AnalysisConfig(motion=MotionConfig(history=50)), previous=old)
    assert not new.process(frame(5, square_x=30)).motion, "a new history means a new model, warming up first"


def test_unchanged_tracker_settings_keep_the_tracks() -> None:
    config = AnalysisConfig(motion=MotionConfig(enabled=False), detector=INJECTED)
    detector = FixedDetector()
    old = AnalysisPipeline("cam", config, detector=detector)
    [first] = old.process(frame(0)).detections

    new = AnalysisPipeline("cam", config.model_copy(update={"width": 320}), detector=detector, previous=old)
    [again] = new.process(frame(1)).detections

    assert again.track_id == first.track_id, "the same object keeps its track across an update"


def test_new_tracker_settings_continue_the_ids() -> None:
    config = AnalysisConfig(motion=MotionConfig(enabled=False), detector=INJECTED)
    old = AnalysisPipeline("cam", config, detector=FixedDetector(0.1))
    old.process(frame(0))
    old.process(frame(1))  # id 1, the same object twice
    retuned = config.model_copy(update={"tracker": TrackerConfig(max_age_s=1.0)})

    new = AnalysisPipeline("cam", retuned, detector=FixedDetector(0.6), previous=old)
    [detection] = new.process(frame(2)).detections

    assert detection.track_id == 2, f"ids are never reused, also across a tracker change: {detection.track_id}"


def test_extra_stages_are_carried_over_unless_given() -> None:
    class Probe:
        name = "probe"

        def run(self, context) -> bool:
            return False

    probe = Probe()
    old = AnalysisPipeline("cam", AnalysisConfig(), extra_stages=[probe])
    new = AnalysisPipeline("cam", AnalysisConfig(fps=2.0), previous=old)
    assert new.stages[-1] is probe, "stages added by the caller survive a settings change"
