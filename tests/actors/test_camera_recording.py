"""Recording in the live camera (CameraWorker, no Ray) against the real GStreamer RTSP
server: segments on the one connection the analysis reads, with exact wall-clock times;
a server killed and restarted is a gap; recording turned on and off live; a full or
read-only disk stops recording loudly while the analysis goes on, and it resumes."""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from pathlib import Path

import pytest

from cluster.actors.camera import CameraWorker
from cluster.config import CameraConfig
from cluster.domain import RecordingState
from cluster.recordings.chain import EntryKind, read_chain, verify_chain
from cluster.recordings.index import live_segments
from tests.fixtures.small_fs import SmallFilesystem

from .conftest import wait_until

FAST_RECONNECT = {"initial_s": 0.2, "max_s": 1.0, "multiplier": 2.0, "jitter": 0.1}
SEGMENT_S = 2.0  # testsrc sends a keyframe every second (10 frames at 10 fps)


def _config(url: str, directory: Path | None, *, mode: str = "continuous", **recording) -> CameraConfig:
    return CameraConfig.model_validate(
        {
            "id": "alley-1",
            "source": {
                "url": url,
                "open_timeout_s": 5,
                "read_timeout_s": 1,
                "stall_timeout_s": 2,
                "reconnect": FAST_RECONNECT,
            },
            "analysis": {"fps": 5.0},
            "recording": {
                "mode": mode,
                "segment_s": SEGMENT_S,
                "retry_s": 0.5,
                **({"directory": str(directory)} if directory else {}),
                **recording,
            },
        }
    )


def _segments(camera_dir: Path):
    return live_segments(read_chain(camera_dir)) if (camera_dir / "chain.jsonl").exists() else []


def _wait_segments(camera_dir: Path, count: int, timeout: float, after: float = 0.0):
    def enough():
        found = [s for s in _segments(camera_dir) if s.start >= after]
        return found if len(found) >= count else None

    return wait_until(enough, timeout, f"{count} segment(s) in {camera_dir} after {after}")


def _analysed(worker: CameraWorker) -> int:
    return worker.status().frames_analysed


def _duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return float(json.loads(out.stdout)["format"]["duration"])


@pytest.fixture
def worker_for(run_worker):
    def make(config: CameraConfig) -> CameraWorker:
        return run_worker(config)

    return make


def test_segments_from_the_live_stream_have_exact_wall_clock_times(rtsp_server_factory, worker_for, tmp_path):
    server = rtsp_server_factory({"/live": "testsrc"})
    started = time.time()
    worker = worker_for(_config(server.url("/live"), tmp_path))
    camera_dir = tmp_path / "alley-1"
    segments = _wait_segments(camera_dir, 3, 40)
    now = time.time()
    for before, after in itertools.pairwise(segments):
        assert after.start == pytest.approx(before.end, abs=1e-3), "consecutive segments meet exactly"
    for segment in segments:
        assert started <= segment.start < segment.end <= now, f"wall-clock times within the run: {segment.fields}"
        length = segment.end - segment.start
        assert SEGMENT_S - 0.01 <= length <= SEGMENT_S + 1.1, f"cut at the first keyframe after {SEGMENT_S} s: {length}"
        assert _duration(camera_dir / segment.file) == pytest.approx(length, abs=0.15), (
            f"{segment.file} plays for as long as its wall-clock range"
        )
    status = worker.status()
    assert status.recording is not None and status.recording.state is RecordingState.RECORDING, status.recording
    assert status.recording.segments_written >= 3 and status.recording.bytes_written > 0, status.recording
    assert status.reconnects == 0, "one connection for analysis and recording"
    assert status.frames_analysed > 0, "and the analysis runs on it"


def test_a_server_killed_and_restarted_is_a_gap(rtsp_server_factory, worker_for, tmp_path):
    server = rtsp_server_factory({"/live": "testsrc"})
    worker = worker_for(_config(server.url("/live"), tmp_path))
    camera_dir = tmp_path / "alley-1"
    _wait_segments(camera_dir, 2, 40)
    server.kill()
    killed = time.time()
    wait_until(lambda: worker.status().recording.state is RecordingState.INTERRUPTED, 20, "recording interrupted")
    time.sleep(2.0)
    server.restart()
    restarted = time.time()
    _wait_segments(camera_dir, 1, 40, after=restarted)
    gaps = [e for e in read_chain(camera_dir) if e.kind is EntryKind.GAP]
    assert len(gaps) == 1, f"one gap: {[g.fields for g in gaps]}"
    gap = gaps[0]
    assert gap.fields["reason"].startswith("camera stream down"), gap.fields
    assert gap.start <= killed + 0.5 and gap.end >= restarted, (
        f"the gap covers the time the server was away: gap {gap.start - killed:+.2f}..{gap.end - restarted:+.2f} "
        "around the kill and the restart"
    )
    before = [s for s in _segments(camera_dir) if s.end <= gap.start + 1e-6]
    after = [s for s in _segments(camera_dir) if s.start >= gap.end - 1e-6]
    assert before and after, "recorded on both sides"
    assert before[-1].end == pytest.approx(gap.start, abs=1e-3), "the gap starts where the footage stops"
    assert after[0].start == pytest.approx(gap.end, abs=1e-3), "and ends where it starts again"
    assert verify_chain(camera_dir, "alley-1").ok, "the chain is whole"


def test_recording_is_turned_on_and_off_live_without_reconnecting(rtsp_server_factory, worker_for, tmp_path):
    server = rtsp_server_factory({"/live": "testsrc"})
    config = _config(server.url("/live"), tmp_path, mode="off")
    worker = worker_for(config)
    wait_until(lambda: _analysed(worker) > 3, 30, "analysis running")
    assert worker.status().recording is None, "off: no recorder"
    on = _config(server.url("/live"), tmp_path, mode="continuous")
    worker.update(on)
    _wait_segments(tmp_path / "alley-1", 1, 30)
    worker.update(config)
    wait_until(lambda: worker.status().recording is None, 10, "recorder stopped")
    count = len(_segments(tmp_path / "alley-1"))
    analysed = _analysed(worker)
    wait_until(lambda: _analysed(worker) > analysed + 5, 20, "analysis still running")
    assert len(_segments(tmp_path / "alley-1")) == count, "no segment after recording was turned off"
    assert worker.status().reconnects == 0, "turning recording on and off never reconnects"


@pytest.mark.parametrize("trouble", ["full", "read-only"])
def test_a_failing_disk_stops_recording_loudly_and_analysis_goes_on(rtsp_server_factory, worker_for, tmp_path, trouble):
    server = rtsp_server_factory({"/live": "testsrc"})
    with SmallFilesystem(tmp_path / "disk", size_mib=16) as disk:
        worker = worker_for(_config(server.url("/live"), disk.path, min_free_bytes=0))
        camera_dir = disk.path / "alley-1"
        _wait_segments(camera_dir, 2, 40)
        kept = {s.file: s.fields["sha256"] for s in _segments(camera_dir)}
        if trouble == "full":
            disk.fill()
        else:
            disk.read_only(True)
        wait_until(lambda: worker.status().recording.state is RecordingState.FAILED, 30, "recording failed")
        expected = "No space left" if trouble == "full" else "Read-only"
        wait_until(  # the first write to fail may say less; the retries say what is wrong
            lambda: expected in worker.status().recording.reason, 10, f"the reason says {expected!r}"
        )
        analysed = _analysed(worker)
        wait_until(lambda: _analysed(worker) > analysed + 10, 20, "analysis goes on while recording is stopped")
        assert worker.status().recording.state is RecordingState.FAILED, "and recording stays stopped"
        if trouble == "full":
            disk.free()
        else:
            disk.read_only(False)
        back = time.time()
        wait_until(
            lambda: worker.status().recording.state is RecordingState.RECORDING, 30, "recording resumes by itself"
        )
        _wait_segments(camera_dir, 1, 30, after=back - 1.0)
        gaps = [e for e in read_chain(camera_dir) if e.kind is EntryKind.GAP]
        assert gaps and any(w in gaps[-1].fields["reason"] for w in ("No space", "Read-only", "write", "finishing")), (
            f"the lost time is a gap naming the disk: {[g.fields for g in gaps]}"
        )
        for segment in _segments(camera_dir):
            if segment.file in kept:
                assert segment.fields["sha256"] == kept[segment.file], "nothing already recorded is damaged"
        assert verify_chain(camera_dir, "alley-1").ok, "the chain verifies after the trouble"
        worker.stop()


@pytest.mark.slow
def test_a_ray_camera_actor_records_and_reports_it(ray_local, rtsp_server_factory, tmp_path):
    from cluster.actors.camera_actor import CameraActor

    server = rtsp_server_factory({"/live": "testsrc"})
    actor = CameraActor.options(num_cpus=0.1).remote(_config(server.url("/live"), tmp_path))
    try:
        status = wait_until(
            lambda: (
                (s := ray_local.get(actor.status.remote(), timeout=30)).recording is not None
                and s.recording.segments_written >= 2
                and s
            ),
            60,
            "two segments reported through Ray",
            poll_s=0.5,
        )
        assert status.recording.state is RecordingState.RECORDING, status.recording
        assert status.recording.directory == str(tmp_path / "alley-1"), "where it records is in its status"
        assert len(_segments(tmp_path / "alley-1")) >= 2, "and the segments are on disk"
        assert status.frames_analysed > 0, "beside the analysis"
    finally:
        ray_local.kill(actor, no_restart=True)
