"""An in-memory CameraControl / CameraHandle for gateway tests.

Cameras publish when told to (`publish_batch`, `publish_frame`) or from a
producer task (`start_producing`). A camera can be frozen (`freeze`, `thaw`):
its handle's calls then wait, and like the real handle's end after their own
long-poll plus `frozen_slack_s` with `CameraUnresponsive`. All methods run on
the event loop that owns the control; tests on other threads go through
`LoopThread.call`.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from cluster.config import CameraConfig
from cluster.control import (
    CameraExists,
    CameraNotFound,
    CameraUnavailable,
    CameraUnresponsive,
    CameraView,
    ClusterStatus,
    DetectionPull,
    NodeView,
)
from cluster.domain import Box, CameraState, CameraStatus, Detection, DetectionBatch, JpegFrame
from tests.fixtures.waiting import wait_until as shared_wait_until

# A real (tiny) JPEG is not needed: the gateway never decodes frames.
FAKE_JPEG = b"\xff\xd8\xff\xe0" + b"0" * 200 + b"\xff\xd9"


def camera_config(camera_id: str, groups: tuple[str, ...] = (), ring_size: int = 1024) -> CameraConfig:
    return CameraConfig.model_validate(
        {
            "id": camera_id,
            "name": f"Camera {camera_id}",
            "groups": list(groups),
            "source": {"url": f"rtsp://user:secret@cams.local/{camera_id}"},
            "output": {"ring_size": ring_size},
        }
    )


def make_detections(n: int = 1, class_name: str = "person", confidence: float = 0.9) -> tuple[Detection, ...]:
    return tuple(
        Detection(class_id=0, class_name=class_name, confidence=confidence, box=Box(0.1, 0.2, 0.3, 0.4), track_id=i + 1)
        for i in range(n)
    )


class FakeCamera:
    def __init__(self, config: CameraConfig, clock: Callable[[], float]):
        self.config = config
        self.clock = clock
        self.ring: deque[DetectionBatch] = deque(maxlen=config.output.ring_size)
        self.epoch = "epoch-1"  # the ring's life, as a real actor's ring has one
        self.next_sequence = 1
        self.frame_sequence = 0
        self.latest: JpegFrame | None = None
        self.unavailable = False
        self.removed = False
        self.frozen_slack_s = 0.2  # the fake handle's deadline slack while frozen
        self.frozen_calls = 0  # handle calls that found the camera frozen
        self._thawed: asyncio.Event | None = None
        self.long_polls_in_flight = 0
        self.max_long_polls_in_flight = 0
        self.pull_calls = 0
        self._changed: asyncio.Condition | None = None
        self._producer: asyncio.Task | None = None

    @property
    def changed(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    @property
    def frozen(self) -> bool:
        return self._thawed is not None and not self._thawed.is_set()

    def freeze(self) -> None:
        """Like a SIGSTOPped actor: calls neither answer nor fail until thawed."""
        if not self.frozen:
            self._thawed = asyncio.Event()

    def thaw(self) -> None:
        if self._thawed is not None:
            self._thawed.set()

    async def wait_if_frozen(self, camera_id: str, method: str, wait_s: float) -> None:
        if not self.frozen:
            return
        self.frozen_calls += 1
        deadline = wait_s + self.frozen_slack_s
        try:
            await asyncio.wait_for(self._thawed.wait(), deadline)
        except asyncio.TimeoutError:
            raise CameraUnresponsive(camera_id, method, deadline) from None

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def publish_batch(self, detections: tuple[Detection, ...] | None = None, count: int = 1) -> None:
        for _ in range(count):
            self.frame_sequence += 1
            now = self.clock()
            self.ring.append(
                DetectionBatch(
                    camera_id=self.config.id,
                    sequence=self.next_sequence,
                    frame_sequence=self.frame_sequence,
                    capture_time=now,
                    publish_time=now,
                    detections=make_detections() if detections is None else detections,
                    motion=True,
                    motion_ratio=0.05,
                )
            )
            self.next_sequence += 1
        await self._notify()

    async def publish_frame(self, jpeg: bytes = FAKE_JPEG) -> None:
        self.frame_sequence += 1
        self.latest = JpegFrame(self.config.id, self.frame_sequence, self.clock(), 64, 48, jpeg)
        await self._notify()

    async def restart(self) -> None:
        """A new actor: empty ring, sequences from 1 again, a new epoch."""
        self.ring.clear()
        self.epoch = f"epoch-{int(self.epoch.rpartition('-')[2]) + 1}"
        self.next_sequence = 1
        self.frame_sequence = 0
        self.latest = None
        await self._notify()

    def start_producing(
        self,
        interval_s: float,
        frames: bool = True,
        batches: bool = True,
        detections: int = 1,
        jpeg: bytes = FAKE_JPEG,
    ) -> None:
        async def produce() -> None:
            while True:
                if batches:
                    await self.publish_batch(make_detections(detections))
                if frames:
                    await self.publish_frame(jpeg)
                await asyncio.sleep(interval_s)

        self.stop_producing()
        self._producer = asyncio.get_running_loop().create_task(produce())

    def stop_producing(self) -> None:
        if self._producer is not None:
            self._producer.cancel()
            self._producer = None

    def status(self) -> CameraStatus:
        return CameraStatus(
            camera_id=self.config.id,
            state=CameraState.LIVE,
            reason="",
            node_id="node-1",
            pid=1234,
            mode="motion-only",
            frames_received=self.frame_sequence,
            frames_analysed=self.next_sequence - 1,
            frames_skipped=0,
            detector_runs=0,
            reconnects=0,
            fps_in=10.0,
            fps_out=5.0,
            last_frame_time=self.latest.capture_time if self.latest else None,
            last_sequence=self.next_sequence - 1,
            stage_seconds={"motion": 0.002},
            capture_to_publish_seconds=0.01,
            cpu_percent=12.5,
            memory_uss_bytes=50_000_000,
        )


class FakeHandle:
    def __init__(self, camera: FakeCamera):
        self.camera = camera
        self.camera_id = camera.config.id

    def _check(self) -> None:
        if self.camera.removed:
            raise CameraNotFound(self.camera_id)
        if self.camera.unavailable:
            raise CameraUnavailable(f"camera {self.camera_id!r} is not running")

    async def status(self) -> CameraStatus:
        self._check()
        await self.camera.wait_if_frozen(self.camera_id, "status", 0.0)
        return self.camera.status()

    async def _long_poll(self, ready: Callable[[], bool], timeout_s: float) -> None:
        cam = self.camera
        if timeout_s <= 0 or ready():
            return
        cam.long_polls_in_flight += 1
        cam.max_long_polls_in_flight = max(cam.max_long_polls_in_flight, cam.long_polls_in_flight)
        try:
            async with cam.changed:
                await asyncio.wait_for(cam.changed.wait_for(lambda: ready() or cam.removed), timeout_s)
        except asyncio.TimeoutError:
            pass
        finally:
            cam.long_polls_in_flight -= 1
        self._check()

    async def pull_detections(self, after_sequence: int, max_batches: int, timeout_s: float) -> DetectionPull:
        self._check()
        cam = self.camera
        cam.pull_calls += 1
        await cam.wait_if_frozen(self.camera_id, "pull_detections", timeout_s)
        await self._long_poll(lambda: cam.next_sequence - 1 > after_sequence, timeout_s)
        batches = tuple(b for b in cam.ring if b.sequence > after_sequence)[:max_batches]
        oldest = cam.ring[0].sequence if cam.ring else cam.next_sequence
        return DetectionPull(self.camera_id, batches, oldest, cam.next_sequence - 1, cam.epoch)

    async def latest_jpeg(
        self, after_frame_sequence: int, timeout_s: float, max_width: int = 0, quality: int = 0
    ) -> JpegFrame | None:
        self._check()
        cam = self.camera
        await cam.wait_if_frozen(self.camera_id, "latest_jpeg", timeout_s)

        def newer() -> bool:
            return cam.latest is not None and cam.latest.frame_sequence > after_frame_sequence

        await self._long_poll(newer, timeout_s)
        if cam.latest is None or cam.latest.frame_sequence <= after_frame_sequence:
            return None
        return cam.latest


class FakeControl:
    def __init__(self, configs: list[CameraConfig] = (), clock: Callable[[], float] | None = None):
        import time

        self.clock = clock or time.time
        self.cameras: dict[str, FakeCamera] = {c.id: FakeCamera(c, self.clock) for c in configs}
        self.scheduler_frozen = False  # like SIGSTOP of the scheduler actor: every call waits
        self.calls_while_frozen = 0

    async def _scheduler(self) -> None:
        if self.scheduler_frozen:
            self.calls_while_frozen += 1
        while self.scheduler_frozen:
            await asyncio.sleep(0.02)

    def _camera(self, camera_id: str) -> FakeCamera:
        try:
            return self.cameras[camera_id]
        except KeyError:
            raise CameraNotFound(camera_id) from None

    def _view(self, cam: FakeCamera) -> CameraView:
        return CameraView(cam.config, None if cam.unavailable else cam.status(), None if cam.unavailable else "node-1")

    async def list_cameras(self) -> list[CameraView]:
        await self._scheduler()
        return [self._view(c) for c in self.cameras.values()]

    async def get_camera(self, camera_id: str) -> CameraView:
        await self._scheduler()
        return self._view(self._camera(camera_id))

    async def add_camera(self, config: CameraConfig) -> CameraView:
        await self._scheduler()
        if config.id in self.cameras:
            if self.cameras[config.id].config == config:
                return self._view(self.cameras[config.id])  # idempotent, as the scheduler
            raise CameraExists(config.id)
        self.cameras[config.id] = FakeCamera(config, self.clock)
        return self._view(self.cameras[config.id])

    async def update_camera(self, config: CameraConfig) -> CameraView:
        await self._scheduler()
        cam = self._camera(config.id)
        cam.config = config
        return self._view(cam)

    async def remove_camera(self, camera_id: str) -> None:
        await self._scheduler()
        cam = self.cameras.pop(camera_id, None)
        if cam is None:
            raise CameraNotFound(camera_id)
        cam.removed = True
        cam.stop_producing()
        await cam._notify()

    async def handle(self, camera_id: str) -> FakeHandle:
        await self._scheduler()
        cam = self._camera(camera_id)
        if cam.unavailable:
            raise CameraUnavailable(f"camera {camera_id!r} is not running")
        return FakeHandle(cam)

    async def cluster_status(self) -> ClusterStatus:
        await self._scheduler()
        return ClusterStatus(
            nodes=(NodeView("node-1", "10.0.0.1", True, 2.0, tuple(sorted(self.cameras)), 0.5, {"zone": "a"}),),
            cameras_configured=len(self.cameras),
            cameras_live=len(self.cameras),
        )

    async def drain_node(self, node_id: str):
        """Like the scheduler's: unknown nodes are NodeNotFound; every camera 'moves'."""
        await self._scheduler()
        from cluster.control import DrainResult, NodeNotFound

        if node_id != "node-1":
            raise NodeNotFound(node_id)
        return DrainResult(node_id=node_id, moved_camera_ids=tuple(sorted(self.cameras)))

    async def undrain_node(self, node_id: str) -> None:
        await self._scheduler()
        from cluster.control import NodeNotFound

        if node_id != "node-1":
            raise NodeNotFound(node_id)

    def long_polls_in_flight(self) -> int:
        return sum(c.long_polls_in_flight for c in self.cameras.values())


class LoopThread:
    """An asyncio loop on a daemon thread: the server lives there, tests call in."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="gateway-test-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 20.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 20.0) -> Any:
        async def wrapper() -> Any:
            return fn(*args)

        return self.run(wrapper(), timeout)

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=5)

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.01, what: str = "condition"
) -> None:
    shared_wait_until(predicate, timeout, what, poll_s=interval)
