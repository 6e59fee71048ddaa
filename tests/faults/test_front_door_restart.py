"""The front door SIGKILLed and started again on the same port while clients stream.

`matthan serve --address` joins a running Ray cluster (here the tests' local Ray): the
scheduler, the camera actors and the event writer are detached and keep running when
the front door dies, and the next `serve` finds them. A client of the project's own
library (`cluster/client/`) streaming detections resumes from the last sequence it saw
per camera: every batch the cameras' rings still hold arrives exactly once, and what a
ring no longer holds is reported as a DataLoss naming exactly the missing range.

Prints `MEASURED` lines (run with `-s`) for docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray
import yaml

from cluster.client import DetectionEvent, MatthanClient
from cluster.contract import LossReason
from cluster.demo import ClipSpec, ensure_demo_clips
from cluster.eventwriter.settings import EVENT_WRITER_ACTOR_NAME
from cluster.jobrunner.settings import JOB_MANAGER_ACTOR_NAME
from cluster.scheduler.client import SchedulerClient
from cluster.scheduler.settings import SCHEDULER_ACTOR_NAME
from tests.fixtures.stream_reader import Reader
from tests.fixtures.streams import free_port
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.slow

CLIP = ClipSpec("front-door", seed=7, people=3, vehicles=1, seconds=3, width=320, height=180)
ANALYSIS_FPS = 5
SMALL_RING = 16  # batches: about 3 s at 5 fps, less than the front door is away
AWAY_S = 15.0
SERVING_WITHIN_S = 180.0


class FrontDoor:
    """`matthan serve --address GCS --config FILE` as its own process."""

    def __init__(self, config: Path, log: Path, address: str) -> None:
        self.config, self.log_path, self.address = config, log, address
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "a") as log:
            argv = [sys.executable, "-m", "cluster.cli.main", "serve", "--address", self.address]
            self.process = subprocess.Popen([*argv, "--config", str(self.config)], stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no shutdown code runs
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def camera(camera_id: str, clip: Path, **output: int) -> dict:
    return {
        "id": camera_id,
        "source": {"url": str(clip), "loop": True, "realtime": True},
        "analysis": {"fps": ANALYSIS_FPS, "motion": {"min_area": 0.001}},
        "output": output,
    }


@pytest.fixture
def front_door(ray_local, tmp_path: Path):
    [clip] = ensure_demo_clips(tmp_path / "clips", (CLIP,))
    namespace = f"front-door-{tmp_path.name[-12:]}".replace("_", "-")
    port = free_port()
    config = {
        "cameras": [camera("door-big", clip), camera("door-small", clip, ring_size=SMALL_RING)],
        "runtime": {"state_dir": str(tmp_path / "state"), "ray": {"namespace": namespace}},
        "scheduler": {"tick_s": 0.5, "start_timeout_s": 240.0},
        "server": {
            "host": "127.0.0.1",
            "port": port,
            "allow_unauthenticated": True,
            "file_roots": [str(tmp_path / "clips")],
        },
        "metrics": {"host": "127.0.0.1", "port": free_port()},
    }
    path = tmp_path / "cameras.yaml"
    path.write_text(yaml.safe_dump(config))
    door = FrontDoor(path, tmp_path / "serve.log", ray.get_runtime_context().gcs_address)
    door.start()
    try:
        yield door, f"127.0.0.1:{port}"
    finally:
        door.stop()
        _stop_detached_actors(namespace)


def _stop_detached_actors(namespace: str) -> None:
    """The joined front door leaves them running, as in production: end them here."""
    with contextlib.suppress(ValueError):
        scheduler = ray.get_actor(SCHEDULER_ACTOR_NAME, namespace=namespace)
        asyncio.run(SchedulerClient(scheduler, namespace).shutdown(stop_cameras=True))
    for name in (EVENT_WRITER_ACTOR_NAME, JOB_MANAGER_ACTOR_NAME):
        with contextlib.suppress(ValueError):
            ray.kill(ray.get_actor(name, namespace=namespace), no_restart=True)


def publishing(target: str, *camera_ids: str) -> bool:
    with MatthanClient(target, timeout_s=5) as client:
        views = {v.config.id: v for v in client.list_cameras()}
    return all(
        views.get(c) is not None and views[c].status is not None and views[c].status.last_sequence > 0
        for c in camera_ids
    )


def by_camera(events: list[DetectionEvent], camera_id: str) -> list[DetectionEvent]:
    return [e for e in events if e.batch.camera_id == camera_id]


def test_a_client_streaming_through_a_killed_and_restarted_front_door_resumes_without_duplicates(
    front_door,
) -> None:
    door, target = front_door
    wait_until(
        lambda: publishing(target, "door-big", "door-small"),
        SERVING_WITHIN_S,
        lambda: f"both cameras publishing through the front door\n{door.output()}",
        poll_s=0.5,
        tolerate_errors=True,
    )
    client = MatthanClient(target)
    stream = client.stream_detections(["door-big", "door-small"], include_empty=True)
    reader = Reader(stream)
    reader.wait_count(10, what="detections before the kill")

    killed_at = time.monotonic()
    seen_before = len(reader.events)
    door.kill()
    # Away as long as a supervisor's restart takes: longer than the small ring holds (it
    # must overflow) and than a client's first tries, far shorter than the big ring holds.
    time.sleep(AWAY_S)
    door.start()  # same port, same config: as a supervisor restarts it
    # Both cameras' batches after the resume: on a slow machine the first ten can all be
    # door-big's, and door-small's loss report comes with its first batch after the gap.
    wait_until(
        lambda: (
            reader.done.is_set()
            or (
                len(reader.events) > seen_before + 10
                and bool(by_camera(list(reader.events)[seen_before:], "door-small"))
            )
        ),
        SERVING_WITHIN_S,
        lambda: f"the stream to resume (resumes {stream.resumes}; error {reader.error!r})\n{door.output()}",
        poll_s=0.2,
    )
    first_after = next((i for i, e in enumerate(reader.events) if i >= seen_before), None)
    resumed_in = time.monotonic() - killed_at
    events = list(reader.events)
    reader.stop()
    client.close()

    big, small = by_camera(events, "door-big"), by_camera(events, "door-small")
    small_losses = [e for e in small if e.data_loss is not None]
    print(
        f"MEASURED front door SIGKILL, restarted {AWAY_S:.0f} s later: the stream resumed "
        f"({stream.resumes} reconnects) and had 10 more batches {resumed_in:.1f} s after the kill; "
        f"door-big {len(big)} batches, no loss; door-small losses "
        f"{[(e.data_loss.first_missing, e.data_loss.last_missing) for e in small_losses]}"
    )

    assert reader.error is None, f"the stream survived the restart: {reader.error!r}"
    assert first_after is not None and stream.resumes >= 1, f"it resumed after the kill: {stream.resumes}"
    big_sequences = [e.batch.sequence for e in big]
    assert big_sequences == list(range(big_sequences[0], big_sequences[0] + len(big))), (
        f"a ring that held the gap: every batch exactly once, in order: {big_sequences}"
    )
    assert all(e.data_loss is None for e in big), "and no loss is reported for it"
    small_sequences = [e.batch.sequence for e in small]
    assert len(set(small_sequences)) == len(small_sequences), f"no duplicates: {small_sequences}"
    assert small_sequences == sorted(small_sequences), f"in order: {small_sequences}"
    assert len(small_losses) == 1, f"the small ring overflowed during the outage once: {small_losses}"
    index = small.index(small_losses[0])
    loss = small_losses[0].data_loss
    assert loss.reason is LossReason.RING_OVERWRITTEN, f"{loss}"
    assert loss.first_missing == small[index - 1].batch.sequence + 1, f"starts after the last delivered: {loss}"
    assert loss.last_missing == small[index].batch.sequence - 1, f"ends before the next delivered: {loss}"
    gaps = [b - a for a, b in itertools.pairwise(small_sequences) if b - a != 1]
    assert gaps == [loss.last_missing - loss.first_missing + 2], f"the only gap is the one reported: {gaps}"
