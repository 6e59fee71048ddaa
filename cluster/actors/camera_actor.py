"""The Ray actor for one camera: a thin wrapper over `CameraWorker`.

Threaded (max_concurrency > 1) so a long-poll from one reader never blocks
`status()` or another reader; the worker's own threads do the decoding.
"""

from __future__ import annotations

import logging

import ray

from ..config import CameraConfig
from ..domain import CameraStatus, DetectionPull, EventPull, JpegFrame
from .camera import CameraWorker

ACTOR_NAME_PREFIX = "camera:"
# Readers long-poll; each in-flight call holds one of these threads.
MAX_CONCURRENCY = 64


def actor_name(camera_id: str) -> str:
    return f"{ACTOR_NAME_PREFIX}{camera_id}"


# Ray's type overloads omit `max_concurrency`, which `ray.remote` accepts for actor classes.
@ray.remote(max_concurrency=MAX_CONCURRENCY)  # type: ignore[call-overload]
class CameraActor:
    def __init__(self, config: CameraConfig):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        node_id = ray.get_runtime_context().get_node_id()
        self._worker = CameraWorker(config, node_id=node_id)
        self._worker.start()

    def ping(self) -> str:
        return self._worker.camera_id

    def config(self) -> CameraConfig:
        return self._worker.config

    def status(self) -> CameraStatus:
        return self._worker.status()

    def pull_detections(self, after_sequence: int, max_batches: int = 256, timeout_s: float = 0.0) -> DetectionPull:
        return self._worker.pull_detections(after_sequence, max_batches, timeout_s)

    def pull_events(self, after_sequence: int, max_events: int = 256, timeout_s: float = 0.0) -> EventPull:
        return self._worker.pull_events(after_sequence, max_events, timeout_s)

    def latest_jpeg(
        self, after_frame_sequence: int = 0, timeout_s: float = 1.0, max_width: int = 0, quality: int = 0
    ) -> JpegFrame | None:
        return self._worker.latest_jpeg(after_frame_sequence, timeout_s, max_width, quality)

    def update(self, config: CameraConfig) -> None:
        self._worker.update(config)

    def stop(self) -> None:
        self._worker.stop()
