"""Subscription bookkeeping between the fan-out and `GatewayMetrics`.

The fan-out and the stream handlers report what happens to subscriptions here;
this turns it into `GatewayMetrics` calls with bounded labels (camera ids, the
kinds "frames" / "detections", and fixed reason codes: `CloseKind` and
`LossReason` values, "queue_full").

Why a layer of its own rather than calling `GatewayMetrics` directly:

- The open-subscribers gauge must go down exactly once per camera a stream
  joined, whatever path ends it (client gone, camera removed, revoked,
  shutdown, a follow-all stream dropping one camera). Joins are remembered per
  subscription, so a second "left" is a no-op.
- Removed cameras must not leave series behind: once a camera is gone (a hub
  saw CameraNotFound, or RemoveCamera went through this gateway) and its last
  subscription has left, its per-camera series are dropped
  (`GatewayMetrics.forget_camera`), and late reports for it are ignored until a
  stream subscribes to that id again.

Everything runs on the gateway's event loop; without metrics every method is a
no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .subscriptions import CloseKind, DetectionItem, DetectionSubscription, FrameItem, FrameSubscription

if TYPE_CHECKING:
    from ..metrics.gateway import GatewayMetrics

Subscription = FrameSubscription | DetectionSubscription

FRAMES = "frames"
DETECTIONS = "detections"
# A frame replaced in a full per-stream queue (newest wins) because the client read too slowly.
FRAME_QUEUE_FULL = "queue_full"
# Removed cameras remembered so late reports cannot recreate their series; oldest forgotten first.
MAX_FORGOTTEN_CAMERAS = 4096


def subscription_kind(sub: Subscription) -> str:
    return FRAMES if isinstance(sub, FrameSubscription) else DETECTIONS


class SubscriptionMeter:
    def __init__(self, metrics: GatewayMetrics | None = None):
        self.metrics = metrics
        self._joined: dict[Subscription, set[str]] = {}  # cameras each open subscription is counted on
        self._open_per_camera: dict[str, int] = {}
        self._gone: set[str] = set()  # removed, waiting for their last subscription to leave
        self._forgotten: dict[str, None] = {}  # ordered set: series dropped, ignore late reports

    # ---- subscriptions (called by the fan-out) -----------------------------------------

    def joined(self, sub: Subscription, camera_id: str) -> None:
        """`sub` now receives `camera_id` (once per camera of a multi-camera stream)."""
        if self.metrics is None:
            return
        cameras = self._joined.setdefault(sub, set())
        if camera_id in cameras:
            return
        cameras.add(camera_id)
        self._open_per_camera[camera_id] = self._open_per_camera.get(camera_id, 0) + 1
        # Subscribing again means the id is back (re-added): record it afresh.
        self._gone.discard(camera_id)
        self._forgotten.pop(camera_id, None)
        self.metrics.subscription_opened(camera_id, subscription_kind(sub))

    def left(self, sub: Subscription, camera_id: str, reason: CloseKind) -> None:
        """`sub` stopped receiving `camera_id` (the stream may go on with other cameras)."""
        if self.metrics is None:
            return
        cameras = self._joined.get(sub)
        if cameras is None or camera_id not in cameras:
            return
        cameras.discard(camera_id)
        if not cameras:
            del self._joined[sub]
        self._close(sub, camera_id, reason)

    def ended(self, sub: Subscription, reason: CloseKind) -> None:
        """`sub` is closed: it leaves every camera it still receives."""
        if self.metrics is None:
            return
        for camera_id in sorted(self._joined.pop(sub, ())):
            self._close(sub, camera_id, reason)

    def camera_gone(self, camera_id: str) -> None:
        """The camera was removed: drop its series once no subscription counts on it."""
        if self.metrics is None:
            return
        if self._open_per_camera.get(camera_id, 0):
            self._gone.add(camera_id)
        else:
            self._forget(camera_id)

    # ---- messages ----------------------------------------------------------------------

    def delivered(self, sub: Subscription, item: FrameItem | DetectionItem) -> None:
        """The handler wrote `item` to the client (called after the write succeeded)."""
        if self.metrics is None:
            return
        if isinstance(item, DetectionItem):
            camera_id = item.batch.camera_id
            loss = item.data_loss
            # Counted when the client is told, so a loss reported again after a resume counts once.
            # A restart's loss has no known end (last_missing 0): its size is unknown, not counted.
            if loss is not None and loss.last_missing >= loss.first_missing > 0:
                self.dropped(camera_id, DETECTIONS, loss.reason.value, loss.last_missing - loss.first_missing + 1)
        else:
            camera_id = item.frame.camera_id
        if camera_id not in self._forgotten:
            self.metrics.messages_delivered(camera_id, subscription_kind(sub), 1)

    def frame_replaced(self, sub: FrameSubscription) -> None:
        """A full frame queue dropped its oldest frame for a newer one (the client is slow)."""
        self.dropped(sub.key.camera_id, FRAMES, FRAME_QUEUE_FULL)

    def detections_cut_off(self, lost: Mapping[str, int]) -> None:
        """A detection stream was cut off (slow consumer): batches per camera it will not get."""
        for camera_id, count in sorted(lost.items()):
            self.dropped(camera_id, DETECTIONS, CloseKind.SLOW_CONSUMER.value, count)

    def dropped(self, camera_id: str, kind: str, reason: str, count: int = 1) -> None:
        if self.metrics is None or camera_id in self._forgotten:
            return
        self.metrics.messages_dropped(camera_id, kind, reason, count)

    # ---- internals ---------------------------------------------------------------------

    def _close(self, sub: Subscription, camera_id: str, reason: CloseKind) -> None:
        if self.metrics is None:
            return
        self.metrics.subscription_closed(camera_id, subscription_kind(sub), reason.value)
        remaining = self._open_per_camera.get(camera_id, 0) - 1
        if remaining > 0:
            self._open_per_camera[camera_id] = remaining
            return
        self._open_per_camera.pop(camera_id, None)
        if camera_id in self._gone:
            self._forget(camera_id)

    def _forget(self, camera_id: str) -> None:
        self._gone.discard(camera_id)
        if self.metrics is not None:
            self.metrics.forget_camera(camera_id)
        self._forgotten[camera_id] = None
        while len(self._forgotten) > MAX_FORGOTTEN_CAMERAS:
            del self._forgotten[next(iter(self._forgotten))]
