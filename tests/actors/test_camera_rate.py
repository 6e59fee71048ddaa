"""CameraWorker's graceful overload: an analysis that falls behind lowers the camera's
rate toward analysis.min_fps and raises it back once it keeps up (real footage, no Ray).

A pipeline that sleeps stands in for a node short of CPU: what the controller sees
(due frames the analysis did not finish) is the same, and the test controls it."""

from __future__ import annotations

import time
from pathlib import Path

from cluster.actors.camera import CameraWorker
from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
from cluster.video.pipeline import AnalysisPipeline

from .conftest import wait_until


class SlowAnalysis:
    """Pipelines that take `seconds` longer per frame, changeable while the camera runs."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, camera_id, config, *, events=None, previous=None) -> AnalysisPipeline:
        slow = self

        class Slow(AnalysisPipeline):
            def process(self, frame):
                time.sleep(slow.seconds)
                return super().process(frame)

        return Slow(camera_id, config, events=events, previous=previous)


def camera(media: Path, **analysis: object) -> CameraConfig:
    return CameraConfig(
        id="cam",
        source=SourceConfig(url=str(media / "car-detection.mp4"), loop=True, realtime=True),
        analysis=AnalysisConfig(**({"fps": 10.0, "width": 320} | analysis)),
    )


def test_a_camera_behind_lowers_its_rate_and_returns_to_it_when_it_keeps_up(run_worker, media: Path):
    slow = SlowAnalysis(0.3)  # about 3 frames a second of the 10 due
    worker: CameraWorker = run_worker(camera(media, min_fps=1.0), pipeline_factory=slow)
    wait_until(
        lambda: worker.status().degraded and worker.status().target_fps <= 4.0,
        90,
        lambda: f"a camera analysing 3 of 10 fps did not lower its rate: {worker.status()}",
    )
    lowered = worker.status()
    assert lowered.target_fps >= 1.0, f"the rate went below analysis.min_fps: {lowered.target_fps}"

    slow.seconds = 0.0
    wait_until(
        lambda: not worker.status().degraded,
        120,
        lambda: f"a camera keeping up again did not return to analysis.fps: {worker.status()}",
    )
    back = worker.status()
    assert back.target_fps == 10.0, f"back at full rate means analysis.fps, not {back.target_fps}"
    assert back.reconnects == 0, "changing the rate must not reconnect the source"


def test_a_camera_without_a_floor_keeps_its_rate_when_behind(run_worker, media: Path):
    worker: CameraWorker = run_worker(camera(media), pipeline_factory=SlowAnalysis(0.3))
    wait_until(lambda: worker.status().frames_analysed >= 25, 60, lambda: f"analysis stalled: {worker.status()}")
    status = worker.status()
    assert not status.degraded and status.target_fps == 10.0, (
        f"without analysis.min_fps the camera must never lower its rate: {status}"
    )


def test_an_update_of_the_floor_restarts_at_the_full_rate(run_worker, media: Path):
    slow = SlowAnalysis(0.3)
    config = camera(media, min_fps=1.0)
    worker: CameraWorker = run_worker(config, pipeline_factory=slow)
    wait_until(lambda: worker.status().degraded, 90, lambda: f"never degraded: {worker.status()}")
    slow.seconds = 0.0
    worker.update(config.model_copy(update={"analysis": config.analysis.model_copy(update={"min_fps": 2.0})}))
    status = worker.status()
    assert not status.degraded and status.target_fps == 10.0, f"a new floor starts from the full rate: {status}"
