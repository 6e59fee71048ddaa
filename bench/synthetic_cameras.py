"""Synthetic cameras behind the front door's own boundaries, for fan-out benchmarks.

`SyntheticControl` implements `cluster.control.CameraControl` (what resolves a camera id
to a handle) and `SyntheticHandle` implements `cluster.control.CameraHandle` (what the
gateway's fan-out hubs call), for hundreds of cameras in the front door's own process,
without Ray or video. Each camera publishes a `DetectionBatch` at the analysis rate,
replaying the detections the production `AnalysisPipeline` found in a real clip (motion
regions, tracked), so batches have the real camera's number of detections and size.

What differs from the real handles (say so when quoting figures): a real handle's pull
is a Ray call whose reply is unpickled in the front door's process; here the reply is
built in the process and not copied. The synthetic cameras' publishing runs on the front
door's event loop, so it is billed to the front door; `ReplayClock.cpu_share` lets a
benchmark measure it without subscribers.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
from cluster.config.camera import OutputConfig
from cluster.control import CameraNotFound, CameraView, ClusterStatus, DetectionPull, NodeView
from cluster.domain import AnalysisMode, CameraState, CameraStatus, Detection, DetectionBatch, EventPull, JpegFrame

NODE_ID = "synthetic-node"
# Batches each synthetic ring keeps. A real ring (1,024) lives in the camera actor, not in
# the front door: holding 500 of them here would grow the front door's heap by half a
# million batches and bill the garbage collector's passes over them to the front door.
# 64 (13 s at 5 fps) covers the hubs' catch-up reads; a subscriber behind by more would
# show as a data-loss report in the benchmark's table.
SYNTHETIC_RING = 64


# ------------------------------------------------------------ recorded detections


@dataclass(frozen=True, slots=True)
class AnalysedFrame:
    """What the pipeline published for one analysed frame (the replayed part of a batch)."""

    detections: tuple[Detection, ...]
    motion: bool
    motion_ratio: float


def analyse_clip(clip: Path, analysis_fps: float, max_frames: int) -> list[AnalysedFrame]:
    """The production motion pipeline over the first `max_frames` analysed frames of
    `clip`, sampled at `analysis_fps` of media time as the camera actor samples them."""
    import cv2

    from cluster.domain import Frame
    from cluster.video.pipeline import AnalysisPipeline
    from cluster.video.sampler import FrameSampler

    camera = CameraConfig(id="recorded", source=SourceConfig(url=str(clip)), analysis=AnalysisConfig(fps=analysis_fps))
    cv2.setNumThreads(1)
    pipeline = AnalysisPipeline(camera.id, camera.analysis)
    sampler = FrameSampler(camera.analysis.fps)
    capture = cv2.VideoCapture(str(clip))
    analysed: list[AnalysedFrame] = []
    sequence = 0
    try:
        while len(analysed) < max_frames:
            ok, image = capture.read()
            if not ok:
                break
            sequence += 1
            pts = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if sampler.due(pts):
                frame = Frame(sequence=sequence, capture_time=time.time(), image=image, pts=pts)
                result = pipeline.process(frame)
                analysed.append(AnalysedFrame(result.detections, result.motion, result.motion_ratio))
    finally:
        capture.release()
    if not analysed:
        raise RuntimeError(f"{clip}: no frame was analysed")
    return analysed


def batch_sizes(analysed: Sequence[AnalysedFrame]) -> tuple[float, float]:
    """(mean detections per batch, mean wire bytes per batch) of the replayed frames,
    serialised as the gateway serialises them."""
    from cluster.contract.convert import detection_batch_to_proto

    now = time.time()
    sizes = [detection_batch_to_proto(_batch("camera-000", 1, 1, now, frame)).ByteSize() for frame in analysed]
    detections = sum(len(frame.detections) for frame in analysed)
    return detections / len(analysed), sum(sizes) / len(sizes)


def _batch(
    camera_id: str, sequence: int, frame_sequence: int, publish_time: float, frame: AnalysedFrame
) -> DetectionBatch:
    # capture_time = publish_time: what is measured here is delivery (publish → receive).
    return DetectionBatch(
        camera_id=camera_id,
        sequence=sequence,
        frame_sequence=frame_sequence,
        capture_time=publish_time,
        publish_time=publish_time,
        detections=frame.detections,
        motion=frame.motion,
        motion_ratio=frame.motion_ratio,
    )


# ------------------------------------------------------------------ one camera


class SyntheticCamera:
    """A camera's detection ring: dense sequences, bounded, long-polled by its handle."""

    def __init__(self, config: CameraConfig, replay: Sequence[AnalysedFrame], replay_offset: int):
        self.config = config
        self.camera_id = config.id
        self.epoch = f"synthetic-{config.id}"
        self._replay = replay
        self._replay_offset = replay_offset
        self._ring: collections.deque[DetectionBatch] = collections.deque(maxlen=config.output.ring_size)
        self.newest_sequence = 0
        self._published = asyncio.Event()

    def publish(self, now: float) -> None:
        sequence = self.newest_sequence + 1
        frame = self._replay[(self._replay_offset + sequence) % len(self._replay)]
        self._ring.append(_batch(self.camera_id, sequence, sequence, now, frame))
        self.newest_sequence = sequence
        woken, self._published = self._published, asyncio.Event()
        woken.set()

    def read(self, after_sequence: int, max_batches: int) -> DetectionPull:
        """Batches after `after_sequence`, oldest first, as the actor's ring answers."""
        held = len(self._ring)
        oldest = self.newest_sequence - held + 1
        start = max(0, after_sequence + 1 - oldest)
        stop = min(held, start + max(1, max_batches))
        batches = tuple(self._ring[i] for i in range(start, stop))
        return DetectionPull(self.camera_id, batches, oldest, self.newest_sequence, self.epoch)

    async def wait_newer(self, after_sequence: int, timeout_s: float) -> None:
        if self.newest_sequence > after_sequence or timeout_s <= 0:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._published.wait(), timeout_s)

    def status(self) -> CameraStatus:
        return CameraStatus(
            camera_id=self.camera_id,
            state=CameraState.LIVE,
            reason="",
            node_id=NODE_ID,
            pid=0,
            mode=AnalysisMode.MOTION_ONLY,
            frames_received=self.newest_sequence,
            frames_analysed=self.newest_sequence,
            frames_skipped=0,
            detector_runs=0,
            reconnects=0,
            fps_in=self.config.analysis.fps or 0.0,
            fps_out=self.config.analysis.fps or 0.0,
            last_frame_time=None,
            last_sequence=self.newest_sequence,
            stage_seconds={},
            capture_to_publish_seconds=0.0,
            cpu_percent=0.0,
            memory_uss_bytes=0,
        )


class SyntheticHandle:
    """`cluster.control.CameraHandle` over a `SyntheticCamera` (long-polls like the actor's)."""

    def __init__(self, camera: SyntheticCamera):
        self.camera = camera
        self.camera_id = camera.camera_id

    async def status(self) -> CameraStatus:
        return self.camera.status()

    async def pull_detections(self, after_sequence: int, max_batches: int, timeout_s: float) -> DetectionPull:
        await self.camera.wait_newer(after_sequence, timeout_s)
        return self.camera.read(after_sequence, max_batches)

    async def pull_events(self, after_sequence: int, max_events: int, timeout_s: float) -> EventPull:
        await asyncio.sleep(max(0.0, timeout_s))
        return EventPull(self.camera_id, self.camera.epoch, (), after_sequence + 1, after_sequence + 1)

    async def latest_jpeg(
        self, after_frame_sequence: int, timeout_s: float, max_width: int = 0, quality: int = 0
    ) -> JpegFrame | None:
        await asyncio.sleep(max(0.0, timeout_s))  # detections only: no pictures
        return None


# --------------------------------------------------------------- control plane


class SyntheticControl:
    """`cluster.control.CameraControl` for a fixed set of synthetic cameras (read-only)."""

    def __init__(self, cameras: Sequence[SyntheticCamera]):
        self.cameras = {c.camera_id: c for c in cameras}

    def _camera(self, camera_id: str) -> SyntheticCamera:
        try:
            return self.cameras[camera_id]
        except KeyError:
            raise CameraNotFound(camera_id) from None

    @staticmethod
    def _view(camera: SyntheticCamera) -> CameraView:
        return CameraView(camera.config, camera.status(), NODE_ID)

    async def list_cameras(self) -> list[CameraView]:
        return [self._view(c) for c in self.cameras.values()]

    async def get_camera(self, camera_id: str) -> CameraView:
        return self._view(self._camera(camera_id))

    async def handle(self, camera_id: str) -> SyntheticHandle:
        return SyntheticHandle(self._camera(camera_id))

    async def cluster_status(self) -> ClusterStatus:
        ids = tuple(sorted(self.cameras))
        return ClusterStatus(
            nodes=(NodeView(NODE_ID, "127.0.0.1", True, 2.0, ids, 0.0, {}),),
            cameras_configured=len(ids),
            cameras_live=len(ids),
        )

    async def add_camera(self, config: CameraConfig) -> CameraView:
        raise NotImplementedError("the synthetic district is fixed")

    async def update_camera(self, config: CameraConfig) -> CameraView:
        raise NotImplementedError("the synthetic district is fixed")

    async def remove_camera(self, camera_id: str) -> None:
        raise NotImplementedError("the synthetic district is fixed")

    async def drain_node(self, node_id: str):
        raise NotImplementedError("the synthetic district is fixed")

    async def undrain_node(self, node_id: str) -> None:
        raise NotImplementedError("the synthetic district is fixed")


def district(count: int, clip: Path, analysis_fps: float, replay: Sequence[AnalysedFrame]) -> list[SyntheticCamera]:
    """`count` cameras named camera-000..., each replaying the clip from its own offset."""
    width = max(3, len(str(count - 1)))
    cameras = []
    for i in range(count):
        config = CameraConfig(
            id=f"camera-{i:0{width}d}",
            source=SourceConfig(url=str(clip)),
            analysis=AnalysisConfig(fps=analysis_fps),
            output=OutputConfig(ring_size=SYNTHETIC_RING),
        )
        cameras.append(SyntheticCamera(config, replay, replay_offset=(i * 7919) % len(replay)))
    return cameras


# -------------------------------------------------------------------- the clock


class ReplayClock:
    """Publishes every camera's batches at `fps` each, spread evenly over the period
    (camera k of n is due at (cycle + k/n) / fps), on the running event loop."""

    # Publish what is due at most this often: a timer per batch (2,500/s) would cost
    # more than the batches; publish times are stamped when they happen, so the
    # latency measured is unaffected.
    TICK_S = 0.005

    def __init__(self, cameras: Sequence[SyntheticCamera], fps: float):
        self.cameras = list(cameras)
        self.fps = fps
        self.published = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="synthetic-cameras")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        n, period = len(self.cameras), 1.0 / self.fps
        start, due = time.time(), 0  # `due`: batches published so far, over all cameras
        while True:
            now = time.time()
            while start + (due / n) * period <= now:
                self.cameras[due % n].publish(now)
                due += 1
            self.published = due
            await asyncio.sleep(max(self.TICK_S, start + (due / n) * period - time.time()))
