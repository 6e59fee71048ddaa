"""The file driver: same file, same results, at full speed and at real time (done-when of issue 8).

Real footage and the real -xl detector: analysed at 12.5 fps with the detector
budgeted to 4 runs a second of footage and a tracker that forgets after 0.5 s,
so both the budget and the track ages decide the output. Played in real time
the clip takes about 3.3 s; as fast as possible, a fraction of that.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from cluster.config import AnalysisConfig, DetectorConfig, MotionConfig, SourceConfig, TrackerConfig
from cluster.domain import AnalysisResult, Frame
from cluster.video.file_driver import FileAnalysis, analyse_file
from cluster.video.sources import SourceError

pytestmark = pytest.mark.slow

Outcome = list[tuple[int, float, tuple[tuple[str, int | None, tuple[float, float, float, float]], ...], bool]]


def outcome(run) -> Outcome:
    """Per analysed frame: sequence, pts, (class, track id, box) of each detection, detector ran."""
    return [
        (
            frame.sequence,
            frame.pts,
            tuple((d.class_name, d.track_id, (d.box.x, d.box.y, d.box.w, d.box.h)) for d in result.detections),
            result.detector_ran,
        )
        for frame, result in run
    ]


@pytest.fixture(scope="module")
def detector_analysis(models: Path) -> AnalysisConfig:
    return AnalysisConfig(
        fps=12.5,
        motion=MotionConfig(gate_detector=False),
        detector=DetectorConfig(model=models / "yolo-fastest-1.1-xl.cfg", input_size=416, max_fps=4.0),
        tracker=TrackerConfig(max_age_s=0.5),
    )


def test_detector_results_are_the_same_at_full_speed_and_in_real_time(parking_lot_clip, detector_analysis):
    source = SourceConfig(url=str(parking_lot_clip))

    fast = outcome(analyse_file(source, detector_analysis, realtime=False))
    paced = outcome(analyse_file(source, detector_analysis, realtime=True))

    assert fast == paced, "the same file must give the same frames, detections and track ids at any speed"
    runs = sum(ran for *_, ran in fast)
    assert 0 < runs < len(fast) / 2, f"the budget should matter: detector ran on {runs} of {len(fast)} frames"
    cars = {track for _, _, detections, _ in fast for name, track, _ in detections if name == "car"}
    assert cars, "the car should be detected and tracked"


def test_motion_only_results_are_the_same_at_full_speed_and_in_real_time(parking_lot_clip):
    source = SourceConfig(url=str(parking_lot_clip))
    analysis = AnalysisConfig(fps=5.0, tracker=TrackerConfig(max_age_s=0.5))

    fast = outcome(analyse_file(source, analysis, realtime=False))
    paced = outcome(analyse_file(source, analysis, realtime=True))

    assert fast == paced, "motion regions and their track ids must not depend on playback speed"
    assert any(detections for _, _, detections, _ in fast), "the moving car and cyclist give motion regions"


def test_frames_are_sampled_by_media_time(parking_lot_clip):
    run = analyse_file(SourceConfig(url=str(parking_lot_clip)), AnalysisConfig(fps=5.0))

    stamps = [frame.pts for frame, _ in run]

    assert run.frames_grabbed == 41, f"every frame is grabbed: {run.frames_grabbed}"
    assert run.frames_analysed == len(stamps) == 17, f"5 fps of 3.33 s of footage: {stamps}"
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.1 and max(gaps) <= 0.3, f"analysed frames about 0.2 s of footage apart: {gaps}"


class Invert:
    def apply(self, frame: Frame) -> Frame:
        np.subtract(255, frame.image, out=frame.image)
        return frame


class ImageProbe:
    """An extra stage that keeps the mean of each image the pipeline analysed."""

    name = "probe"

    def __init__(self) -> None:
        self.means: list[float] = []

    def run(self, context) -> bool:
        self.means.append(float(context.frame.image.mean()))
        return False


def test_the_frame_hook_is_what_the_pipeline_sees(parking_lot_clip):
    from cluster.video.pipeline import AnalysisPipeline

    source, analysis = SourceConfig(url=str(parking_lot_clip)), AnalysisConfig(fps=5.0)
    plain_probe, hooked_probe = ImageProbe(), ImageProbe()
    plain = list(analyse_file(source, analysis, pipeline=AnalysisPipeline("a", analysis, extra_stages=[plain_probe])))
    hooked = list(
        analyse_file(
            source, analysis, frame_hook=Invert(), pipeline=AnalysisPipeline("b", analysis, extra_stages=[hooked_probe])
        )
    )

    assert len(plain) == len(hooked) and plain_probe.means, "both runs analyse the same frames"
    for plain_mean, hooked_mean, (frame, _) in zip(plain_probe.means, hooked_probe.means, hooked, strict=True):
        assert hooked_mean == pytest.approx(255 - plain_mean), "the pipeline must see the hooked image"
        assert float(frame.image.mean()) == pytest.approx(hooked_mean), "the yielded frame is the hooked one"


def test_a_run_is_used_once(parking_lot_clip):
    run = FileAnalysis(SourceConfig(url=str(parking_lot_clip), realtime=False), AnalysisConfig())
    list(run)
    with pytest.raises(RuntimeError, match="already run"):
        iter(run)


def test_a_stream_is_not_a_file():
    with pytest.raises(ValueError, match="reads video files"):
        analyse_file(SourceConfig(url="rtsp://cam.local/x"), AnalysisConfig())


def test_a_truncated_file_raises_after_its_readable_frames(truncated_clip):
    run = analyse_file(SourceConfig(url=str(truncated_clip)), AnalysisConfig())
    analysed: list[tuple[Frame, AnalysisResult]] = []
    with pytest.raises(SourceError, match="truncated"):
        for item in run:
            analysed.append(item)
    assert analysed, "the readable part is analysed before the error"
