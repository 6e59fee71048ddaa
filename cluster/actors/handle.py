"""Async handle on one camera actor: the only place the gateway touches Ray for data."""

from __future__ import annotations

from ..config import CameraConfig
from ..domain import DetectionPull
from ..domain import CameraStatus, JpegFrame

# Extra time over a long-poll's own timeout before we give up on the actor.
_CALL_SLACK_S = 5.0


class CameraActorHandle:
    """Implements `cluster.control.CameraHandle` over a `CameraActor` handle."""

    def __init__(self, camera_id: str, actor):
        self.camera_id = camera_id
        self.actor = actor

    async def status(self) -> CameraStatus:
        return await self.actor.status.remote()

    async def pull_detections(self, after_sequence: int, max_batches: int, timeout_s: float) -> DetectionPull:
        return await self.actor.pull_detections.remote(after_sequence, max_batches, timeout_s)

    async def update(self, config: CameraConfig) -> None:
        await self.actor.update.remote(config)

    async def latest_jpeg(
        self, after_frame_sequence: int, timeout_s: float, max_width: int = 0, quality: int = 0
    ) -> JpegFrame | None:
        return await self.actor.latest_jpeg.remote(after_frame_sequence, timeout_s, max_width, quality)
