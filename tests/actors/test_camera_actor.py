"""Camera actors on a real local Ray: real files, a real RTSP server, the real detector."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from cluster.actors.camera_actor import CameraActor
from cluster.config import AnalysisConfig, CameraConfig, DetectorConfig, MotionConfig, SourceConfig
from cluster.domain import CameraState
from tests.fixtures.streams import write_random_bytes

pytestmark = pytest.mark.slow


@pytest.fixture
def spawn(ray_local):
    actors = []

    def spawn(camera_id: str, url, **analysis):
        config = CameraConfig(
            id=camera_id,
            source=SourceConfig(url=str(url), loop=True, realtime=True, open_timeout_s=5, read_timeout_s=3),
            analysis=AnalysisConfig(**({"fps": 5.0} | analysis)),
        )
        actor = CameraActor.options(num_cpus=0.1).remote(config)
        actors.append(actor)
        return actor

    yield spawn
    for actor in actors:
        ray_local.kill(actor, no_restart=True)


def wait_status(ray, actor, predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = ray.get(actor.status.remote(), timeout=30)
        if predicate(status):
            return status
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached within {timeout} s; last status: {status}")


def test_bad_cameras_fail_clearly_while_a_good_one_keeps_running(ray_local, spawn, media, tmp_path):
    good = spawn("good", media / "car-detection.mp4")
    missing = spawn("missing", tmp_path / "nowhere.mp4")
    corrupt = spawn("corrupt", write_random_bytes(tmp_path / "noise.mp4"))
    no_model = spawn("no-model", media / "car-detection.mp4", detector=DetectorConfig(model=tmp_path / "x.cfg"))

    for actor, needle in ((missing, "nowhere.mp4"), (corrupt, "noise.mp4"), (no_model, "x.cfg")):
        status = wait_status(ray_local, actor, lambda s: s.state is CameraState.FAILED, 30, "failed state")
        assert needle in status.reason, f"reason should name {needle}: {status.reason}"

    first = wait_status(ray_local, good, lambda s: s.last_sequence >= 3, 60, "good camera publishing")
    later = wait_status(ray_local, good, lambda s: s.last_sequence > first.last_sequence + 3, 60, "progress")
    assert later.state is CameraState.LIVE, f"good camera should stay live: {later.reason}"


def test_camera_actor_process_runs_with_two_malloc_arenas(ray_local, spawn, media):
    """The soak's slow growth was glibc arenas filling under Ray's call threads (issue 15):
    the worker process must be started with the limit, through `.options()` as the scheduler does."""
    actor = spawn("arenas", media / "car-detection.mp4")
    status = wait_status(ray_local, actor, lambda s: s.state is CameraState.LIVE, 60, "live")
    environ = Path(f"/proc/{status.pid}/environ").read_bytes().split(b"\0")
    malloc = sorted(entry.decode() for entry in environ if entry.startswith(b"MALLOC_"))
    assert malloc == ["MALLOC_ARENA_MAX=2"], (
        f"camera actor pid {status.pid} should run with MALLOC_ARENA_MAX=2: {malloc}"
    )


def test_actor_answers_status_while_a_long_poll_waits(ray_local, spawn, tmp_path):
    actor = spawn("idle", tmp_path / "missing.mp4")
    pending = actor.pull_detections.remote(0, 10, 5.0)
    status = ray_local.get(actor.status.remote(), timeout=4)  # must not queue behind the 5 s poll
    assert status.camera_id == "idle"
    assert ray_local.get(pending).batches == ()


def test_rtsp_camera_goes_live_and_serves_frames(ray_local, spawn, rtsp_server):
    actor = spawn("rtsp-live", rtsp_server.url("/live"))
    wait_status(ray_local, actor, lambda s: s.state is CameraState.LIVE and s.last_sequence >= 3, 60, "live")
    jpeg = ray_local.get(actor.latest_jpeg.remote(0, 10.0))
    image = cv2.imdecode(np.frombuffer(jpeg.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (240, 320, 3), f"test pattern is 320x240, got {image.shape}"


def test_an_analysis_update_over_ray_keeps_the_source_running(ray_local, spawn, rtsp_server):
    actor = spawn("rtsp-update", rtsp_server.url("/live"))
    before = wait_status(ray_local, actor, lambda s: s.state is CameraState.LIVE and s.last_sequence >= 3, 60, "live")
    config = ray_local.get(actor.config.remote(), timeout=30)

    quieter = config.model_copy(update={"analysis": AnalysisConfig(fps=2.0, motion=MotionConfig(min_area=0.05))})
    ray_local.get(actor.update.remote(quieter), timeout=30)
    after = wait_status(
        ray_local, actor, lambda s: s.last_sequence >= before.last_sequence + 3, 60, "batches after the update"
    )

    assert ray_local.get(actor.config.remote(), timeout=30) == quieter, "the actor should hold the new settings"
    assert after.reconnects == 0, f"an analysis update must not reconnect the stream: {after}"
    assert after.frames_received > before.frames_received, "the source's frame count must run on, not restart"


def test_detector_camera_tracks_the_car_on_real_footage(ray_local, spawn, media, models):
    detector = DetectorConfig(model=models / "yolo-fastest-1.1-xl.cfg", input_size=416, max_fps=12.5)
    actor = spawn(
        "parking",
        media / "person-bicycle-car-detection.gif",
        fps=12.5,
        detector=detector,
        motion=MotionConfig(gate_detector=False),
    )
    status = wait_status(ray_local, actor, lambda s: s.detector_runs >= 30, 120, "30 detector runs")
    assert status.mode == "detector"
    pull = ray_local.get(actor.pull_detections.remote(0, 1000))
    cars = [d for b in pull.batches for d in b.detections if d.class_name == "car"]
    assert len(cars) >= 5, f"the car should be detected repeatedly, got {len(cars)} car detections"
    assert all(d.track_id is not None for d in cars), "detections must carry track ids"
    # The clip loops, and each pass of the car is a new object: one track id per pass.
    capture = cv2.VideoCapture(str(media / "person-bicycle-car-detection.gif"))
    frames_per_pass = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    by_pass: dict[int, Counter[int]] = defaultdict(Counter)
    for batch in pull.batches:
        for d in batch.detections:
            if d.class_name == "car":
                by_pass[(batch.frame_sequence - 1) // frames_per_pass][d.track_id] += 1
    kept = sum(ids.most_common(1)[0][1] for ids in by_pass.values())
    share = kept / len(cars)
    assert share >= 0.9, f"the car should keep one track id per pass, dominant ids cover {share:.0%}: {dict(by_pass)}"
