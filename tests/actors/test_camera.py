"""CameraWorker: capture → analysis → ring/JPEG, driven without Ray on real video files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from cluster.actors.camera import CameraWorker
from cluster.actors.capture import CaptureLoop
from cluster.config import AnalysisConfig, CameraConfig, DetectorConfig, SourceConfig
from cluster.demo import ClipSpec, ensure_demo_clips
from cluster.domain import CameraState
from cluster.video.pipeline import AnalysisPipeline

from .conftest import wait_until

STREET = ClipSpec("street", seed=5, people=3, vehicles=2, seconds=4.0, width=320, height=180)


@pytest.fixture(scope="module")
def street_clip(tmp_path_factory) -> Path:
    [path] = ensure_demo_clips(tmp_path_factory.mktemp("clips"), (STREET,))
    return path


@pytest.fixture
def make_worker():
    workers: list[CameraWorker] = []

    def make(url, *, camera_id="cam-1", **analysis) -> CameraWorker:
        config = CameraConfig(
            id=camera_id,
            source=SourceConfig(url=str(url), loop=True, realtime=True),
            analysis=AnalysisConfig(**({"fps": 5.0} | analysis)),
        )
        worker = CameraWorker(config)
        workers.append(worker)
        worker.start()
        return worker

    yield make
    for worker in workers:
        worker.stop()


def test_live_file_camera_publishes_motion_detections(make_worker, street_clip):
    worker = make_worker(street_clip)
    wait_until(lambda: worker.ring.newest_sequence >= 8, 30, lambda: f"status {worker.status()}")
    status = worker.status()
    assert status.state is CameraState.LIVE, f"expected live, got {status.state}: {status.reason}"
    assert status.mode == "motion-only"
    batches = worker.pull_detections(0, 100).batches
    classes = {d.class_name for b in batches for d in b.detections}
    assert classes == {"motion"}, f"moving shapes should be reported as motion regions, got {classes}"
    assert all(b.publish_time >= b.capture_time for b in batches), "published before captured?"


def test_frames_beyond_the_analysis_rate_are_skipped_not_queued(make_worker, street_clip):
    worker = make_worker(street_clip, fps=2.0)
    wait_until(lambda: worker.status().frames_received >= 40, 30, lambda: f"status {worker.status()}")
    status = worker.status()
    assert status.frames_skipped > status.frames_analysed, (
        f"at 2 fps of a 12.5 fps source most frames must be skipped: {status}"
    )
    assert status.frames_received == status.frames_analysed + status.frames_skipped


def test_stage_latencies_are_reported(make_worker, street_clip):
    worker = make_worker(street_clip)
    wait_until(lambda: worker.ring.newest_sequence >= 5, 30, "no batches")
    stages = worker.status().stage_seconds
    assert {"decode", "motion"} <= set(stages), f"missing stages in {stages}"
    assert worker.status().capture_to_publish_seconds > 0


def test_latest_jpeg_is_the_current_frame(make_worker, street_clip):
    worker = make_worker(street_clip)
    jpeg = worker.latest_jpeg(0, timeout_s=10)
    assert jpeg is not None, "no frame within 10 s"
    image = cv2.imdecode(np.frombuffer(jpeg.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (180, 320, 3)
    smaller = worker.latest_jpeg(jpeg.frame_sequence - 1, timeout_s=10, max_width=160)
    assert (smaller.width, smaller.height) == (160, 90)


def test_long_poll_does_not_block_status(make_worker, tmp_path):
    worker = make_worker(tmp_path / "missing.mp4")
    result = {}
    poller = threading.Thread(target=lambda: result.setdefault("pull", worker.pull_detections(0, 10, timeout_s=3)))
    poller.start()
    status = worker.status()  # must not wait for the poller
    poller.join()
    assert status.camera_id == "cam-1" and result["pull"].batches == ()


def test_missing_file_fails_with_the_path(make_worker, tmp_path):
    missing = tmp_path / "missing.mp4"
    worker = make_worker(missing)
    wait_until(lambda: worker.state()[0] is CameraState.FAILED, 15, lambda: str(worker.state()))
    assert str(missing) in worker.state()[1], f"reason should name the file: {worker.state()[1]}"


def test_missing_model_fails_the_camera_with_a_clear_reason(make_worker, street_clip, tmp_path):
    worker = make_worker(street_clip, detector=DetectorConfig(model=tmp_path / "nope.cfg"))
    state, reason = worker.state()
    assert state is CameraState.FAILED
    assert "analysis setup failed" in reason and "nope.cfg" in reason, reason


def test_an_analysis_error_on_one_frame_does_not_stop_the_camera(street_clip):
    calls = {"n": 0}

    class FlakyPipeline(AnalysisPipeline):
        def process(self, frame):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("boom")
            return super().process(frame)

    config = CameraConfig(id="cam-1", source=SourceConfig(url=str(street_clip), loop=True))
    worker = CameraWorker(config, pipeline_factory=FlakyPipeline)
    worker.start()
    try:
        wait_until(lambda: worker.ring.newest_sequence >= 4, 30, "camera stopped after an analysis error")
    finally:
        worker.stop()
    assert calls["n"] >= 5


def test_update_keeps_sequence_numbers_growing(make_worker, street_clip):
    worker = make_worker(street_clip)
    wait_until(lambda: worker.ring.newest_sequence >= 3, 30, "no batches")
    before = worker.ring.newest_sequence
    worker.update(worker.config.model_copy(update={"analysis": AnalysisConfig(fps=4.0)}))
    wait_until(lambda: worker.ring.newest_sequence >= before + 3, 30, "no batches after update")
    assert worker.config.analysis.fps == 4.0


def test_update_cannot_change_the_id(make_worker, street_clip):
    worker = make_worker(street_clip)
    with pytest.raises(ValueError, match="cannot change camera id"):
        worker.update(worker.config.model_copy(update={"id": "other"}))


def test_the_analysis_thread_of_a_failed_camera_waits_instead_of_spinning(tmp_path):
    class CountingCapture(CaptureLoop):
        waits = 0

        def wait_due(self, after_sequence, timeout):
            CountingCapture.waits += 1
            return super().wait_due(after_sequence, timeout)

    config = CameraConfig(id="cam-1", source=SourceConfig(url=str(tmp_path / "missing.mp4")))
    worker = CameraWorker(config, capture_factory=CountingCapture)
    worker.start()
    try:
        wait_until(lambda: worker.state()[0] is CameraState.FAILED, 15, lambda: str(worker.state()))
        before = CountingCapture.waits
        time.sleep(1.0)
        waits = CountingCapture.waits - before
    finally:
        worker.stop()
    # Waiting: about 2 a second (one per half-second pause). Spinning: many thousands.
    assert waits <= 20, f"the analysis thread asked for a frame {waits} times in 1 s after the source failed"
