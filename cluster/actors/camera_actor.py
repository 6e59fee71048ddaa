"""The Ray actor for one camera: a thin wrapper over `CameraWorker`.

Threaded (max_concurrency > 1) so a long-poll from one reader never blocks
`status()` or another reader; the worker's own threads do the decoding.

Allocator. glibc gives every thread that allocates its own malloc arena, up to 8 per
core; Ray serves a threaded actor's calls from its `max_concurrency` threads, so over
hours of calls the arenas of those threads fill one by one with what a call leaves
behind (its request, its reply's pickle, a JPEG) and the process grows, slowly and
with no leak to find (the soak of issue 15 saw +20 MB/h per camera actor). Two arenas
for the whole process keep that a few MB: the worker process is started with
`MALLOC_ARENA_MAX=2` (`ALLOCATOR_ENV`, its runtime environment; glibc reads it when
the process starts, so it cannot be set from inside). Measured side by side with
`python -m bench.camera_memory`; see the Soak section of docs/reliability.md.

OpenCV's thread pool is per process too, so the actor sizes it from the camera's
`analysis.opencv_threads` when it starts and on every update (`video/process.py`).
"""

from __future__ import annotations

import logging

import ray

from ..config import CameraConfig
from ..domain import CameraStatus, DetectionPull, EventPull, JpegFrame
from ..video.process import use_opencv_threads
from .camera import CameraWorker

ACTOR_NAME_PREFIX = "camera:"
# Readers long-poll; each in-flight call holds one of these threads.
MAX_CONCURRENCY = 64
# The camera actor's worker process environment (see the module docstring): one malloc
# arena besides the main one, however many threads allocate.
ALLOCATOR_ENV = {"MALLOC_ARENA_MAX": "2"}


def actor_name(camera_id: str) -> str:
    return f"{ACTOR_NAME_PREFIX}{camera_id}"


# Ray's type overloads omit `max_concurrency`, which `ray.remote` accepts for actor classes.
@ray.remote(max_concurrency=MAX_CONCURRENCY, runtime_env={"env_vars": ALLOCATOR_ENV})  # type: ignore[call-overload]
class CameraActor:
    def __init__(self, config: CameraConfig):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        use_opencv_threads(config.analysis)
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
        use_opencv_threads(self._worker.config.analysis)  # what the worker now runs

    def stop(self) -> None:
        self._worker.stop()
