"""Async handle on one camera actor: the thin Ray wrapper the data plane (gateway,
CLI, metrics, benchmarks) talks to a camera through.

Every call has a deadline: its own long-poll time plus `slack_s` (status, pulls and
JPEGs answer in milliseconds when the actor is well, so a call still unanswered
after that found a frozen process, a wedged decoder or an unreachable node). The
outcome is typed, never a hang and never a Ray error to classify by its text:

- no answer within the deadline: `CameraUnresponsive` (the call is cancelled, so a
  frozen actor does not pile up queued work for when it thaws);
- the actor is dead or unreachable (`RayActorError` and its subclasses
  `ActorDiedError`, `ActorUnavailableError`): `CameraUnavailable`.

Both are `CameraUnavailable`, which the gateway answers with UNAVAILABLE and the
fan-out hubs retry with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ray
from ray.exceptions import RayActorError

from ..domain import CameraStatus, CameraUnavailable, CameraUnresponsive, DetectionPull, EventPull, JpegFrame

logger = logging.getLogger(__name__)

# Extra time over a call's own long-poll before the actor counts as unresponsive.
CALL_SLACK_S = 5.0


class CameraActorHandle:
    """Implements `cluster.control.CameraHandle` over a `CameraActor` handle."""

    def __init__(self, camera_id: str, actor: Any, *, slack_s: float = CALL_SLACK_S):
        if not slack_s > 0:
            raise ValueError(f"slack_s must be a positive number of seconds, got {slack_s!r}")
        self.camera_id = camera_id
        self.actor = actor
        self.slack_s = slack_s

    async def status(self) -> CameraStatus:
        return await self._call("status", 0.0)

    async def pull_detections(self, after_sequence: int, max_batches: int, timeout_s: float) -> DetectionPull:
        return await self._call("pull_detections", timeout_s, after_sequence, max_batches, timeout_s)

    async def pull_events(self, after_sequence: int, max_events: int, timeout_s: float) -> EventPull:
        """Event revisions after `after_sequence` (the store writer's cursor), long-polling
        up to `timeout_s` for the first; same deadline rule as every call."""
        return await self._call("pull_events", timeout_s, after_sequence, max_events, timeout_s)

    async def latest_jpeg(
        self, after_frame_sequence: int, timeout_s: float, max_width: int = 0, quality: int = 0
    ) -> JpegFrame | None:
        return await self._call("latest_jpeg", timeout_s, after_frame_sequence, timeout_s, max_width, quality)

    async def _call(self, method: str, wait_s: float, *args: Any) -> Any:
        deadline_s = max(0.0, wait_s) + self.slack_s
        try:
            ref = getattr(self.actor, method).remote(*args)
        except RayActorError as exc:
            raise self._unavailable(method, exc) from None
        try:
            return await asyncio.wait_for(_result(ref), deadline_s)
        except asyncio.TimeoutError:
            _cancel(ref)
            raise CameraUnresponsive(self.camera_id, method, deadline_s) from None
        except RayActorError as exc:
            raise self._unavailable(method, exc) from None

    def _unavailable(self, method: str, exc: RayActorError) -> CameraUnavailable:
        logger.debug("camera %s: %s: actor unavailable: %r", self.camera_id, method, exc)
        return CameraUnavailable(f"camera {self.camera_id!r} is not running ({type(exc).__name__} in {method})")


async def _result(ref: Any) -> Any:
    return await ref


def _cancel(ref: Any) -> None:
    """Drop a call that timed out if it has not started yet (a running one finishes)."""
    try:
        ray.cancel(ref)
    except Exception as exc:  # noqa: BLE001 - best effort: the actor may be gone already
        logger.debug("could not cancel a timed-out camera call: %r", exc)
