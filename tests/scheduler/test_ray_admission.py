"""Admission on a single-node local Ray of this machine's size (2 logical CPUs), through
the serve path (scheduler actor + SchedulerClient), as `matthan serve` runs it.

- 64 cheap looping file cameras: placed in the step that seeds them (their clip is
  probed, so each is costed at what it really costs, not at the 0.23 cores of an
  unknown 720p source) and all live, with the node's reserved CPU never above its
  usable share; then 16 of them made costlier (a detector) are each either taken
  with its new cost or refused with a reason naming the node's reserved and
  measured CPU, none silently.
- A camera's reservation follows its measurement without a restart of its stream,
  and a camera waiting for room reserved by its neighbours' priors is placed as
  soon as their measurements give the room back (no state in which measured idle
  capacity stays unusable).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import pytest
import ray

from cluster.config import AnalysisConfig, CameraConfig, DetectorConfig, SourceConfig
from cluster.control import PlacementRejected
from cluster.domain import CameraState
from cluster.scheduler.report import SchedulerReport
from tests.fixtures.serve_path import ServePath
from tests.ray_cluster import init_local

from .ray_helpers import named_camera_actors, run, tiny_camera, tiny_clip, wait_until

pytestmark = pytest.mark.slow

NODE_CPUS = 2  # this machine's size
CHEAP = [f"cheap{i:02d}" for i in range(64)]
COSTLIER = CHEAP[:16]
START_TIMEOUT_S = 300.0  # 64 Python workers start on 2 busy cores


@pytest.fixture(scope="module")
def two_cpu_ray():
    if ray.is_initialized():
        ray.shutdown()  # the session's Ray, or a cluster another module left
    init_local(  # started again if Ray's fixed 30 s start-up wait times out (tests/ray_cluster.py)
        num_cpus=NODE_CPUS,
        include_dashboard=False,
        namespace="admission-test",
        logging_level="WARNING",
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


class Watch:
    """The scheduler's report, polled; remembers the highest reservation a node ever had."""

    def __init__(self, path: ServePath) -> None:
        self.path = path
        self.worst: tuple[float, float] = (0.0, 1.0)  # (reserved, usable) of the fullest report seen

    def report(self) -> SchedulerReport:
        report = run(self.path.client.report())
        for node in report.nodes:
            if node.alive and node.usable > 0 and node.load / node.usable > self.worst[0] / self.worst[1]:
                self.worst = (node.load, node.usable)
        return report

    def describe(self) -> str:
        report = self.report()
        nodes = [(n.load, n.measured, n.usable) for n in report.nodes]
        return f"phases {report.phase_counts()}, nodes (reserved, measured, usable) {nodes}, unplaced {report.unplaced}"


@pytest.fixture(scope="module")
def cheap(two_cpu_ray, tmp_path_factory):
    clip = tiny_clip(tmp_path_factory.mktemp("clips"))
    started = time.monotonic()
    path = run(
        ServePath.start(
            tmp_path_factory.mktemp("state"),
            [tiny_camera(c, clip) for c in CHEAP],
            prefix="admit-cheap",
            cost_warmup_s=5.0,
        )
    )
    watch = Watch(path)
    try:
        yield watch, watch.report(), started
    finally:
        run(path.stop())


def test_64_cheap_cameras_are_placed_in_one_step_and_go_live_within_the_usable_share(cheap):
    watch, seeded, started = cheap
    # Placed at once, started in turns: 2 CPUs x max_starts_per_cpu 2 create 4 actors at a time.
    assert seeded.phase_counts() == {"starting": 4, "pending": 60}, f"4 start, the rest wait their turn: {seeded}"
    assert seeded.unplaced == (), f"none waits for room: {seeded.unplaced}"
    waiting = [c.reason for c in seeded.cameras if c.phase.value == "pending"]
    assert all("waiting its turn" in r for r in waiting), f"the pending ones wait for a start turn: {waiting[:3]}"

    def all_live():
        report = watch.report()
        return sum(1 for c in report.cameras if c.state == "live") == len(CHEAP) and report

    report = wait_until(all_live, START_TIMEOUT_S, watch.describe, poll_s=1.0)
    print(f"\n64 cheap cameras live {time.monotonic() - started:.1f} s after the seed; node {report.nodes[0]}")
    reserved, usable = watch.worst
    assert reserved <= usable + 1e-6, f"the node was reserved {reserved:.3f} of its {usable:.3f} usable cores"
    assert named_camera_actors(watch.path.namespace) == sorted(CHEAP), "one actor per camera"
    assert all(c.restarts == 0 for c in report.cameras), "no camera was restarted to get there"


def test_16_cameras_made_costlier_are_each_taken_or_refused_with_a_reason(cheap, models):
    watch, _, _ = cheap
    wait_until(lambda: all(c.state == "live" for c in watch.report().cameras), START_TIMEOUT_S, watch.describe)
    before = {c.camera_id: c.cost for c in watch.report().cameras}
    views = {v.config.id: v for v in run(watch.path.client.list_cameras())}

    def costlier(camera_id: str) -> CameraConfig:
        config = views[camera_id].config
        detector = DetectorConfig(model=models / "yolo-fastest-1.1-xl.cfg", input_size=320, max_fps=4.0)
        return config.model_copy(update={"analysis": AnalysisConfig(fps=4.0, detector=detector)})

    async def update_all():
        return await asyncio.gather(
            *(watch.path.client.update_camera(costlier(c)) for c in COSTLIER), return_exceptions=True
        )

    outcomes = dict(zip(COSTLIER, run(update_all()), strict=True))
    taken = sorted(c for c, o in outcomes.items() if not isinstance(o, BaseException))
    refused = {c: o for c, o in outcomes.items() if isinstance(o, PlacementRejected)}
    other = {c: repr(o) for c, o in outcomes.items() if isinstance(o, BaseException) and c not in refused}
    print(f"\n16 costlier cameras: {len(taken)} taken, {len(refused)} refused")
    assert not other, f"every update is taken or refused for lack of room, nothing else: {other}"
    assert taken and refused, f"the node has room for some detectors, not for 16: taken {taken}"
    for camera_id, error in refused.items():
        message = str(error)
        assert camera_id in message and "reserved" in message and "measured" in message, (
            f"a refusal names the camera and the node's reserved and measured CPU: {message}"
        )
    report = watch.report()
    for camera_id in taken:
        assert report.camera(camera_id).cost > before[camera_id], f"{camera_id} is reserved its new, higher cost"
        assert report.camera(camera_id).phase.value == "running", f"{camera_id} keeps running (updated in place)"
    current = {v.config.id: v.config for v in run(watch.path.client.list_cameras())}
    for camera_id in refused:
        assert current[camera_id].analysis.detector is None, f"refused, {camera_id} keeps its old settings"
    node = report.nodes[0]
    assert node.load <= node.usable + 1e-6, f"still within the usable share: {node}"


def clip_camera(camera_id: str, clip: Path) -> CameraConfig:
    """The shared 768x432 H.264 clip at 12.5 fps, motion at 5 fps: its prior (0.095 cores)
    is about twice what it measures here."""
    return CameraConfig(
        id=camera_id, source=SourceConfig(url=str(clip), loop=True, realtime=True), analysis=AnalysisConfig(fps=5.0)
    )


def test_reservations_follow_measurements_without_restarts_and_give_waiting_cameras_their_room(
    two_cpu_ray, tmp_path, media
):
    # 80% headroom leaves 0.4 usable cores: four priors of 0.095 fit, a fifth waits.
    ids = [f"clip{i}" for i in range(5)]
    path = run(
        ServePath.start(
            tmp_path / "state",
            [clip_camera(c, media / "car-detection.mp4") for c in ids],
            prefix="admit-follow",
            headroom=0.8,
            cost_warmup_s=2.0,
            cost_smoothing_s=4.0,
        )
    )
    try:
        watch = Watch(path)
        seeded = watch.report()
        (waiting,) = seeded.unplaced
        prior = waiting.cost
        assert (
            waiting.reason.value == "no_capacity" and "reserved" in waiting.detail and "measured" in waiting.detail
        ), f"the reason names the node's reserved and measured CPU: {waiting.detail}"
        running = [c.camera_id for c in seeded.cameras if c.camera_id != waiting.camera_id]

        def live(camera_ids):
            views = {v.config.id: v for v in run(path.client.list_cameras())}
            ok = all(views[c].status is not None and views[c].status.state is CameraState.LIVE for c in camera_ids)
            return ok and views

        first = wait_until(lambda: live(running), START_TIMEOUT_S, watch.describe)
        placed = wait_until(lambda: live(ids), START_TIMEOUT_S, watch.describe)
        print(f"\nthe waiting camera was placed and went live; {watch.describe()}")
        report = watch.report()
        samples: dict[str, list[float]] = {c: [] for c in running}
        for _ in range(8):
            for cam in watch.report().cameras:
                if cam.camera_id in samples and cam.measured is not None:
                    samples[cam.camera_id].append(cam.measured)
            time.sleep(1.0)
        report = watch.report()
        for camera_id in running:
            cam = report.camera(camera_id)
            measured = statistics.mean(samples[camera_id])
            assert cam.cost_basis == "measured", f"{camera_id} is costed by its own measurements: {cam}"
            assert abs(cam.cost - measured) < abs(prior - measured), (
                f"{camera_id}: its reservation {cam.cost:.3f} followed what it measures ({measured:.3f}) "
                f"from the prior {prior:.3f}"
            )
            before, after = first[camera_id].status, placed[camera_id].status
            now = run(path.client.get_camera(camera_id)).status
            assert now.pid == before.pid and cam.restarts == 0, f"{camera_id}'s actor was not restarted"
            assert now.reconnects == before.reconnects == 0, f"{camera_id}'s stream never reconnected"
            assert now.frames_received > after.frames_received > before.frames_received, (
                f"{camera_id}'s frame sequence went on unbroken"
            )
        reserved, usable = watch.worst
        assert reserved <= usable + 1e-6, f"the node was reserved {reserved:.3f} of its {usable:.3f} usable cores"
    finally:
        run(path.stop())
