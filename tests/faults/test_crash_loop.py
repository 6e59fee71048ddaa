"""A camera actor SIGKILLed again and again, on local Ray through the serve path (the
scheduler actor, camera actors, the gRPC front door), while a client streams its
detections: the scheduler's restart backoff grows (as its report says), the camera is
back once the kills stop, and the client is told of each restart exactly once, with
nothing repeated. Enough kills within the window make a crash loop: FAILED, not
restarted, until the operator updates the camera.

Prints `MEASURED` lines (run with `-s`) for docs/reliability.md.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from cluster.client import DetectionEvent
from cluster.contract import LossReason
from cluster.demo import ClipSpec, ensure_demo_clips
from cluster.scheduler.report import CameraPhase
from tests.fixtures.stream_reader import Reader
from tests.fixtures.waiting import wait_until

from .live_gateway import LiveGateway, camera

pytestmark = pytest.mark.slow

CLIP = ClipSpec("crash", seed=5, people=3, vehicles=1, seconds=3, width=320, height=180)
KILLS = 3
# Exact delays (no jitter): 1, 2, 4 s. The fourth failure within the window is a crash loop.
SETTINGS = {
    "restart_initial_s": 1.0,
    "restart_multiplier": 2.0,
    "restart_jitter": 0.0,
    "crash_loop_failures": KILLS + 1,
    "crash_loop_retry_s": 600.0,
    "heartbeat_timeout_s": 60.0,
}
NOTICED_WITHIN_S = 30.0
RESTART_DELAY = re.compile(r"restart #(\d+) in ([0-9.]+) s")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_demo_clips(tmp_path_factory.mktemp("clips"), (CLIP,))[0]


@pytest.fixture
def gateway(ray_local, clip: Path, tmp_path: Path):
    gateway = LiveGateway.start(tmp_path / "state", [camera("crashy", clip)], prefix="crash-loop", **SETTINGS)
    yield gateway
    gateway.close()


def kill(pid: int) -> float:
    os.kill(pid, signal.SIGKILL)
    return time.monotonic()


def restart_reason(gateway: LiveGateway, camera_id: str, killed_pid: int) -> str:
    """Wait until the scheduler has counted the death of `killed_pid`; its reason then."""

    def counted() -> str | None:
        report = gateway.report(camera_id)
        if report.phase in (CameraPhase.BACKING_OFF, CameraPhase.FAILED):
            return report.reason
        return None

    return wait_until(counted, NOTICED_WITHIN_S, lambda: f"the death of pid {killed_pid} is counted", poll_s=0.05)


def test_repeated_sigkills_back_off_longer_each_time_and_the_client_is_told_of_each_restart_once(
    gateway: LiveGateway,
) -> None:
    client = gateway.client()
    view = gateway.wait_live("crashy")
    reader = Reader(client.stream_detections(["crashy"], include_empty=True, max_retries=50))
    reader.wait_count(3, what="detections before the first kill")

    delays, back_after = [], []
    pid = view.status.pid
    for number in range(1, KILLS + 1):
        seen = len(reader.events)
        killed_at = kill(pid)
        reason = restart_reason(gateway, "crashy", pid)
        match = RESTART_DELAY.search(reason)
        assert match and int(match.group(1)) == number, f"kill {number} is restart #{number}: {reason!r}"
        delays.append(float(match.group(2)))
        view = gateway.wait_live("crashy", other_than_pid=pid)
        back_after.append(time.monotonic() - killed_at)
        pid = view.status.pid
        reader.wait_count(seen + 3, what=f"detections after restart {number}")
    print(
        f"MEASURED crash loop: reported restart delays {delays} s; live again (new pid, publishing) "
        f"{', '.join(f'{s:.1f}' for s in back_after)} s after each SIGKILL"
    )

    report = gateway.report("crashy")
    events: list[DetectionEvent] = list(reader.events)
    reader.stop()
    losses = [(i, e) for i, e in enumerate(events) if e.data_loss is not None]
    print("MEASURED crash loop: sequences delivered", [(e.batch.sequence, e.data_loss is not None) for e in events])
    assert delays == sorted(delays) and delays[0] < delays[-1], f"the backoff grows: {delays}"
    assert delays == [1.0, 2.0, 4.0], f"exactly the configured backoff, without jitter: {delays}"
    assert report.phase is CameraPhase.RUNNING and report.restarts == KILLS, f"back and counted: {report}"
    assert len(losses) == KILLS, f"one data loss per restart, no more: {[e.data_loss for _, e in losses]}"
    for index, event in losses:
        loss = event.data_loss
        before = events[index - 1].batch.sequence
        assert loss.reason is LossReason.CAMERA_RESTARTED, f"said to be a restart: {loss}"
        assert loss.first_missing == before + 1, f"the loss starts after the last batch delivered ({before}): {loss}"
        assert event.batch.sequence == 1, f"the new actor's batches are delivered from its first: {event.batch}"
    runs = [[e.batch.sequence for e in events[start:end]] for start, end in _runs(events, losses)]
    for run in runs:
        assert run == list(range(run[0], run[0] + len(run))), f"within one actor's life, dense and no repeats: {run}"
    assert reader.error is None, f"the stream never ended: {reader.error!r}"


def _runs(events: list[DetectionEvent], losses: list[tuple[int, DetectionEvent]]) -> list[tuple[int, int]]:
    starts = [0] + [index for index, _ in losses]
    ends = [index for index, _ in losses] + [len(events)]
    return list(zip(starts, ends, strict=True))


def test_a_crash_loop_is_failed_and_not_restarted_until_the_camera_is_updated(gateway: LiveGateway) -> None:
    client = gateway.client()
    pid = gateway.wait_live("crashy").status.pid
    for number in range(1, KILLS + 2):
        kill(pid)
        reason = restart_reason(gateway, "crashy", pid)
        if number <= KILLS:
            pid = gateway.wait_live("crashy", other_than_pid=pid).status.pid

    report = gateway.report("crashy")
    assert report.phase is CameraPhase.FAILED, f"{KILLS + 1} deaths within the window are a crash loop: {report}"
    assert reason.startswith(f"crash loop: {KILLS + 1} failures"), f"the reason says so: {reason!r}"
    assert report.retry_in_s is not None and report.retry_in_s > 60, f"not retried soon: {report}"
    time.sleep(3.0)  # longer than any backoff so far: it stays down
    assert gateway.report("crashy").phase is CameraPhase.FAILED, "a crash loop is not restarted by itself"

    updated = gateway.view("crashy").config.model_copy(update={"name": "fixed"})
    client.update_camera(updated)
    revived = gateway.wait_live("crashy", other_than_pid=pid)
    print(f"MEASURED crash loop: FAILED after {KILLS + 1} kills; live after UpdateCamera (pid {revived.status.pid})")
    assert gateway.report("crashy").phase is CameraPhase.RUNNING, "an update forgives the crash loop"
