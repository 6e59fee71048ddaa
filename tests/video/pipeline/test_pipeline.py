"""AnalysisPipeline: stage wiring, gating, rate limiting on media time, and tracking on
real footage. Time in the pipeline is the frames' pts, so the tests stamp frames."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cluster.config import AnalysisConfig, DetectorConfig, MotionConfig, TrackerConfig
from cluster.domain import Box, Detection, Frame
from cluster.video.pipeline import AnalysisPipeline, FrameContext, ModelError

from .conftest import PARKING_LOT_FPS

UNUSED_MODEL = DetectorConfig(model=Path("injected-detector-loads-nothing.cfg"))


class FixedDetector:
    """Reports one car wherever it is called; counts the calls."""

    class_names = ("person", "bicycle", "car")

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, image: np.ndarray) -> tuple[Detection, ...]:
        self.calls += 1
        return (Detection(2, "car", 0.9, Box(0.4, 0.4, 0.2, 0.2)),)

    def describe(self) -> str:
        return "fixed car"


class ImageShapeProbe:
    """An extra stage that records the image size the stages worked on."""

    name = "probe"

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def run(self, context: FrameContext) -> bool:
        self.shapes.append(context.image.shape)
        return False


def at(frame: Frame, pts: float) -> Frame:
    """`frame` stamped with media time `pts` (what drives budgets and track ages)."""
    return replace(frame, pts=pts)


def still_frames(count: int, width: int = 320, height: int = 180) -> list[Frame]:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 200, (height, width, 3), dtype=np.uint8)
    return [Frame(i, 1000.0 + i, image.copy()) for i in range(count)]


def with_moving_square(frames: list[Frame]) -> list[Frame]:
    moved = []
    for frame in frames:
        image = frame.image.copy()
        x = 10 + 45 * (frame.sequence % 6)
        image[60:100, x : x + 40] = 255
        moved.append(Frame(frame.sequence, frame.capture_time, image, frame.pts))
    return moved


def test_motion_only_mode_is_described_and_reports_no_detections_on_a_still_frame() -> None:
    pipeline = AnalysisPipeline("cam-1", AnalysisConfig())
    assert pipeline.mode == "motion-only"
    assert pipeline.describe() == "motion-only: no detector configured, motion regions reported"
    result = pipeline.process(still_frames(1)[0])
    assert result.detections == () and result.detector_ran is False
    assert set(result.stage_seconds) == {"motion"}, f"only motion ran, got {set(result.stage_seconds)}"


def test_motion_only_mode_reports_moving_regions_as_tracked_motion_detections() -> None:
    pipeline = AnalysisPipeline("cam-1", AnalysisConfig())
    track_ids = set()
    for index, frame in enumerate(with_moving_square(still_frames(8))):
        result = pipeline.process(at(frame, 0.2 * (index + 1)))
        for det in result.detections:
            assert det.class_name == "motion", f"motion-only cameras report 'motion', got {det.class_name}"
            track_ids.add(det.track_id)
    assert track_ids, "a moving square must be reported as a motion region"
    assert None not in track_ids, "motion regions go through the tracker"
    assert result.detector_ran is False, "no detector ran"


def test_motion_regions_can_be_turned_off() -> None:
    config = AnalysisConfig(motion=MotionConfig(report_regions=False))
    pipeline = AnalysisPipeline("cam-1", config)
    results = [pipeline.process(f) for f in with_moving_square(still_frames(6))]
    assert any(r.motion for r in results) and all(r.detections == () for r in results)


def test_wide_frames_are_downscaled_keeping_aspect() -> None:
    probe = ImageShapeProbe()
    pipeline = AnalysisPipeline("cam-1", AnalysisConfig(width=640), extra_stages=[probe])
    result = pipeline.process(still_frames(1, width=1280, height=720)[0])
    assert probe.shapes == [(360, 640, 3)], f"stages saw {probe.shapes}"
    assert "resize" in result.stage_seconds


def test_narrow_frames_are_not_resized() -> None:
    probe = ImageShapeProbe()
    pipeline = AnalysisPipeline("cam-1", AnalysisConfig(width=640), extra_stages=[probe])
    result = pipeline.process(still_frames(1)[0])
    assert probe.shapes == [(180, 320, 3)] and "resize" not in result.stage_seconds


def test_motion_gate_keeps_the_detector_off_a_still_scene() -> None:
    detector = FixedDetector()
    config = AnalysisConfig(fps=10, detector=UNUSED_MODEL.model_copy(update={"max_fps": 10}))
    pipeline = AnalysisPipeline("cam-1", config, detector=detector)
    for frame in still_frames(10):
        result = pipeline.process(at(frame, frame.sequence / 10))
        assert result.detector_ran is False and result.detections == ()
    assert detector.calls == 0, f"detector ran {detector.calls} times on a still scene"


def test_motion_opens_the_gate() -> None:
    detector = FixedDetector()
    config = AnalysisConfig(fps=10, detector=UNUSED_MODEL.model_copy(update={"max_fps": 10}))
    pipeline = AnalysisPipeline("cam-1", config, detector=detector)
    frames = still_frames(5) + with_moving_square(still_frames(10)[5:])
    ran = []
    for frame in frames:
        ran.append(pipeline.process(at(frame, frame.sequence / 10)).detector_ran)
    assert ran == [False] * 5 + [True] * 5, f"detector runs per frame: {ran}"


def test_without_gating_the_detector_runs_on_a_still_scene() -> None:
    detector = FixedDetector()
    config = AnalysisConfig(
        fps=10, motion=MotionConfig(gate_detector=False), detector=UNUSED_MODEL.model_copy(update={"max_fps": 10})
    )
    pipeline = AnalysisPipeline("cam-1", config, detector=detector)
    for frame in still_frames(3):
        pipeline.process(at(frame, frame.sequence / 10))
    assert detector.calls == 3


def test_detector_is_rate_limited_by_media_time() -> None:
    detector = FixedDetector()
    config = AnalysisConfig(
        fps=10, motion=MotionConfig(enabled=False), detector=UNUSED_MODEL.model_copy(update={"max_fps": 2})
    )
    pipeline = AnalysisPipeline("cam-1", config, detector=detector)
    ran_on = []
    for frame in still_frames(20):  # 2 s at 10 fps
        if pipeline.process(at(frame, frame.sequence / 10)).detector_ran:
            ran_on.append(frame.sequence)
    assert ran_on == [0, 5, 10, 15], f"2 fps over 2 s should run on every 5th frame, ran on {ran_on}"
    assert pipeline.detector_runs == 4


def test_detector_frames_carry_tracked_detections_and_stage_times() -> None:
    config = AnalysisConfig(motion=MotionConfig(enabled=False), detector=UNUSED_MODEL)
    pipeline = AnalysisPipeline("cam-1", config, detector=FixedDetector())
    result = pipeline.process(still_frames(1)[0])
    assert pipeline.mode == "detector"
    assert [d.track_id for d in result.detections] == [1]
    assert set(result.stage_seconds) == {"detector", "tracker"}, f"got {set(result.stage_seconds)}"


def test_tracker_can_be_disabled() -> None:
    config = AnalysisConfig(
        motion=MotionConfig(enabled=False), detector=UNUSED_MODEL, tracker=TrackerConfig(enabled=False)
    )
    result = AnalysisPipeline("cam-1", config, detector=FixedDetector()).process(still_frames(1)[0])
    assert [d.track_id for d in result.detections] == [None]
    assert "tracker" not in result.stage_seconds


def test_describe_names_detector_budget_and_gating() -> None:
    config = AnalysisConfig(detector=UNUSED_MODEL.model_copy(update={"max_fps": 2}))
    description = AnalysisPipeline("cam-1", config, detector=FixedDetector()).describe()
    assert description == "detector: fixed car, max 2 fps, motion-gated, tracker iou", description


def test_unloadable_model_fails_construction(tmp_path: Path) -> None:
    config = AnalysisConfig(detector=DetectorConfig(model=tmp_path / "gone.cfg"))
    with pytest.raises(ModelError, match=r"gone.cfg does not exist"):
        AnalysisPipeline("cam-1", config)


def test_car_keeps_one_track_id_across_detector_misses(
    parking_lot_frames: list[np.ndarray], xl_config: DetectorConfig
) -> None:
    """Real model on real footage: Yolo-Fastest-xl misses the car for 7 frames
    (about 0.5 s) mid-clip; default tracker settings must bridge that."""
    config = AnalysisConfig(
        fps=60,
        motion=MotionConfig(gate_detector=False),
        detector=xl_config.model_copy(update={"max_fps": 60}),
    )
    pipeline = AnalysisPipeline("parking-lot", config)
    car_tracks: Counter[int] = Counter()
    per_frame: list[set[int]] = []  # the car track ids of each frame (empty: the detector missed it)
    for index, image in enumerate(parking_lot_frames):
        pts = index / PARKING_LOT_FPS
        result = pipeline.process(Frame(index, 1000.0 + pts, image, pts=pts))
        assert result.detector_ran, f"frame {index}: the detector should run on every frame here"
        ids = [d.track_id for d in result.detections if d.class_name == "car"]
        car_tracks.update(ids)
        per_frame.append(set(ids))
    total = sum(car_tracks.values())
    assert total >= 0.5 * len(parking_lot_frames), f"only {total} car detections in {len(parking_lot_frames)} frames"
    dominant, count = car_tracks.most_common(1)[0]
    gaps = _misses_between(per_frame, dominant)
    assert max(gaps, default=0) >= 3, f"the clip must contain a detector miss of the car to bridge; gaps {gaps}"
    assert count >= 0.95 * total, f"car detections split over tracks {dict(car_tracks)}; track {dominant} has {count}"


def _misses_between(per_frame: list[set[int]], track_id: int) -> list[int]:
    """Lengths of the runs of frames without any car detection between two frames that have `track_id`."""
    seen = [i for i, ids in enumerate(per_frame) if track_id in ids]
    return [b - a - 1 for a, b in itertools.pairwise(seen) if b - a > 1 and not any(per_frame[a + 1 : b])]
