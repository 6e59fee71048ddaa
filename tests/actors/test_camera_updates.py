"""CameraWorker.update: analysis changes apply to the running camera without touching
its source; frame hooks reach both the analysis and the JPEGs, and change live."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from cluster.actors.camera import CameraWorker
from cluster.config import AnalysisConfig, CameraConfig, DetectorConfig, MotionConfig, SourceConfig
from cluster.domain import AnalysisMode, CameraState, Frame
from cluster.video.frame_hook import IDENTITY
from cluster.video.pipeline import AnalysisPipeline

from .conftest import wait_until

pytestmark = pytest.mark.slow


def rtsp_camera(url: str, **analysis) -> CameraConfig:
    return CameraConfig(
        id="rtsp-cam",
        source=SourceConfig(url=url, open_timeout_s=10, read_timeout_s=5),
        analysis=AnalysisConfig(**({"fps": 5.0} | analysis)),
    )


@pytest.mark.rtsp
def test_an_analysis_update_keeps_the_rtsp_connection(run_worker, rtsp_server, models: Path):
    worker = run_worker(rtsp_camera(rtsp_server.url("/live")))
    wait_until(lambda: worker.ring.newest_sequence >= 5, 60, lambda: f"status {worker.status()}")
    before = worker.status()
    assert before.state is CameraState.LIVE and before.mode is AnalysisMode.MOTION_ONLY, f"{before}"

    detector = DetectorConfig(model=models / "yolo-fastest-1.1.cfg", input_size=320, max_fps=5.0)
    worker.update(worker.config.model_copy(update={"analysis": AnalysisConfig(fps=5.0, detector=detector)}))
    wait_until(lambda: worker.status().detector_runs >= 1, 60, lambda: f"no detector run: {worker.status()}")
    after = worker.status()
    pulled = worker.pull_detections(before.last_sequence - 1, 10_000).batches

    assert after.mode is AnalysisMode.DETECTOR, f"the new settings must take effect: mode {after.mode}"
    assert after.reconnects == before.reconnects == 0, f"an analysis update must not reconnect: {after}"
    assert after.frames_received > before.frames_received, "frames_received must keep growing, not restart"
    sequences = [batch.sequence for batch in pulled]
    assert sequences == list(range(before.last_sequence, before.last_sequence + len(sequences))), (
        f"ring sequences must continue without a gap or reset: {sequences[:10]}"
    )
    frame_sequences = [batch.frame_sequence for batch in pulled]
    assert frame_sequences == sorted(frame_sequences) and len(set(frame_sequences)) == len(frame_sequences), (
        f"the source's frame sequence must run on unbroken: {frame_sequences[:10]}"
    )


def test_a_source_change_reconnects(run_worker, media: Path, short_clip: Path):
    config = CameraConfig(id="cam", source=SourceConfig(url=str(media / "car-detection.mp4"), loop=True))
    worker = run_worker(config)
    wait_until(lambda: worker.ring.newest_sequence >= 3, 30, lambda: f"status {worker.status()}")

    worker.update(config.model_copy(update={"source": SourceConfig(url=str(short_clip), loop=True)}))
    frame = worker.latest_jpeg(0, timeout_s=10)

    assert frame is not None and (frame.width, frame.height) == (480, 270), "the new source should be playing"
    assert worker.ring.newest_sequence >= 3, "the ring survives a reconnect"


def test_a_model_that_cannot_load_fails_the_camera_and_a_good_update_recovers(run_worker, short_clip, tmp_path):
    config = CameraConfig(id="cam", source=SourceConfig(url=str(short_clip), loop=True))
    worker = run_worker(config)
    wait_until(lambda: worker.ring.newest_sequence >= 2, 30, lambda: f"status {worker.status()}")

    broken = AnalysisConfig(detector=DetectorConfig(model=tmp_path / "gone.cfg"))
    worker.update(config.model_copy(update={"analysis": broken}))
    state, reason = worker.state()
    assert state is CameraState.FAILED and "analysis setup failed" in reason and "gone.cfg" in reason, reason
    assert worker.status().mode is AnalysisMode.NONE, "no pipeline runs after a failed set-up"

    worker.update(config)
    wait_until(lambda: worker.state()[0] is CameraState.LIVE, 30, lambda: f"state {worker.state()}")
    published = worker.ring.newest_sequence
    wait_until(lambda: worker.ring.newest_sequence > published, 30, "analysis did not resume")


# ---- frame hooks ---------------------------------------------------------------------


class Whiteout:
    """A stand-in privacy hook: blanks the whole image."""

    def apply(self, frame: Frame) -> Frame:
        frame.image[:] = 255
        return frame


def hook_from_name(config: CameraConfig):
    """A config-driven hook for the test: cameras named "private" are blanked."""
    return Whiteout() if config.name == "private" else IDENTITY


class Brightness:
    """An extra pipeline stage that records how bright each analysed image was."""

    name = "brightness"

    def __init__(self) -> None:
        self.means: list[float] = []

    def run(self, context) -> bool:
        self.means.append(float(context.frame.image.mean()))
        return False


def jpeg_mean(worker: CameraWorker, after: int = 0) -> tuple[float, int]:
    jpeg = worker.latest_jpeg(after, timeout_s=10)
    assert jpeg is not None, f"no JPEG; status {worker.status()}"
    return float(cv2.imdecode(np.frombuffer(jpeg.jpeg, np.uint8), cv2.IMREAD_COLOR).mean()), jpeg.frame_sequence


def test_a_frame_hook_reaches_the_analysis_and_the_jpegs_and_changes_live(run_worker, media: Path):
    probe = Brightness()

    def pipeline_with_probe(camera_id, config, *, events=None, previous=None):
        return AnalysisPipeline(camera_id, config, extra_stages=[probe], events=events, previous=previous)

    config = CameraConfig(
        id="cam",
        name="open",
        source=SourceConfig(url=str(media / "car-detection.mp4"), loop=True),
    )
    worker = run_worker(config, pipeline_factory=pipeline_with_probe, frame_hook_factory=hook_from_name)
    wait_until(lambda: len(probe.means) >= 2, 30, lambda: f"status {worker.status()}")
    open_jpeg, seen = jpeg_mean(worker)
    assert max(probe.means) < 250 and open_jpeg < 250, "without the hook the footage is not blank"

    worker.update(config.model_copy(update={"name": "private"}))
    analysed_before = len(probe.means)
    wait_until(lambda: len(probe.means) >= analysed_before + 3, 30, "analysis stopped after the update")
    private_jpeg, _ = jpeg_mean(worker, seen)

    assert min(probe.means[analysed_before + 1 :]) >= 254, "the analysis must only see hooked frames"
    assert private_jpeg >= 250, f"JPEGs must only show hooked frames, mean {private_jpeg:.0f}"
    assert worker.status().reconnects == 0, "a hook change is not a source change"


def test_motion_settings_change_live(run_worker, media: Path):
    config = CameraConfig(id="cam", source=SourceConfig(url=str(media / "car-detection.mp4"), loop=True))
    worker = run_worker(config)
    wait_until(lambda: worker.ring.newest_sequence >= 3, 30, lambda: f"status {worker.status()}")

    everything_masked = MotionConfig(masks=[[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]])
    worker.update(config.model_copy(update={"analysis": AnalysisConfig(motion=everything_masked)}))
    after = worker.ring.newest_sequence + 1  # the batch in flight may predate the update
    wait_until(lambda: worker.ring.newest_sequence >= after + 5, 30, "no batches after the update")

    batches = worker.pull_detections(after, 100).batches
    assert batches and not any(b.motion or b.detections for b in batches), (
        "with the whole frame masked no motion may be reported"
    )
