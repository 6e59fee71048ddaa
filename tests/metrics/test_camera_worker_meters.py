"""CameraWorker fills its cumulative meters (CameraStatus.metrics) from real frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.actors.camera import CameraWorker
from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
from cluster.demo import ClipSpec, ensure_demo_clips
from tests.fixtures.waiting import wait_until

TINY = ClipSpec("metrics-tiny", seed=11, people=3, vehicles=1, seconds=2.0, width=160, height=96)


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> Path:
    [path] = ensure_demo_clips(tmp_path_factory.mktemp("clips"), (TINY,))
    return path


@pytest.fixture
def worker_for():
    workers: list[CameraWorker] = []

    def make(source: SourceConfig) -> CameraWorker:
        worker = CameraWorker(CameraConfig(id="cam-m", source=source, analysis=AnalysisConfig(fps=5.0)))
        workers.append(worker)
        worker.start()
        return worker

    yield make
    for worker in workers:
        worker.stop()


def test_analysed_frames_fill_stage_latency_and_class_meters(worker_for, tiny_clip):
    worker = worker_for(SourceConfig(url=str(tiny_clip), loop=True, realtime=True))
    wait_until(lambda: worker.status().frames_analysed >= 4, 30, worker.status)
    status = worker.status()
    meters = status.metrics
    assert meters is not None, "status() must carry the cumulative meters"
    assert meters.capture_to_publish_seconds.count >= 4
    assert meters.capture_to_publish_seconds.count <= status.frames_analysed, "one observation per analysed frame"
    assert {"decode", "motion"} <= set(meters.stage_seconds), f"stages seen: {sorted(meters.stage_seconds)}"
    assert meters.stage_seconds["decode"].count >= meters.stage_seconds["motion"].count, (
        "every analysed frame was decoded first"
    )
    assert meters.stage_seconds["motion"].total > 0
    assert meters.reconnects_by_reason == {"unreachable": 0, "stalled": 0, "stream_error": 0}
    assert meters.analysis_errors == 0


def test_an_unreachable_source_counts_reconnects_by_reason(worker_for):
    # Port 1 on loopback refuses at once: "unreachable", retried after a short backoff.
    source = SourceConfig.model_validate(
        {
            "url": "rtsp://127.0.0.1:1/none",
            "open_timeout_s": 2.0,
            "reconnect": {"initial_s": 0.1, "max_s": 0.2, "jitter": 0.0},
        }
    )
    worker = worker_for(source)
    wait_until(lambda: worker.status().metrics.reconnects_by_reason["unreachable"] >= 2, 30, worker.status)
    assert worker.status().metrics.reconnects_by_reason["stalled"] == 0
