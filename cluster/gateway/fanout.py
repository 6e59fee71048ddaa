"""Fan-out of camera frames and detection batches to many stream subscribers.

No gRPC in here, so it is unit-testable with a fake control plane.

- One upstream pull loop per camera (frames: per camera *rendition*, i.e. max
  width and quality, because the camera actor encodes the JPEG) however many
  subscribers. The loop starts with the first subscriber and stops when the last
  one leaves. A slow subscriber never slows the loop: the loop only appends to
  bounded per-subscriber queues and never awaits a subscriber.
- Frames: newest wins. A full queue drops its oldest frame and counts it.
- Detections: never silently dropped. A subscriber whose queue is full is closed
  (`CloseKind.SLOW_CONSUMER`) and resumes from its last sequence. Resuming and
  catching up read the camera actor's ring (`CameraHandle.pull_detections`) from
  the subscriber's own cursor, at most as many batches as its queue has room
  for; what the ring no longer holds is reported as a `DataLoss` on the next
  batch of that camera.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..contract import DataLoss, LossReason
from ..control import CameraControl, CameraHandle, CameraNotFound, CameraUnavailable, DetectionPull
from ..domain import DetectionBatch, JpegFrame
from .metering import SubscriptionMeter
from .subscriptions import (
    CloseKind,
    DetectionFilter,
    DetectionItem,
    DetectionSubscription,
    FrameItem,
    FrameKey,
    FrameSubscription,
    LimitExceeded,
    StreamClosed,
    _Subscription,
)

__all__ = [
    "CloseKind",
    "DataLoss",
    "DetectionFilter",
    "DetectionItem",
    "DetectionSubscription",
    "Fanout",
    "FanoutSettings",
    "FrameItem",
    "FrameKey",
    "FrameSubscription",
    "LimitExceeded",
    "LossReason",
    "StreamClosed",
]

if TYPE_CHECKING:
    from ..metrics.gateway import GatewayMetrics

log = logging.getLogger("matthan.gateway.fanout")


@dataclass(frozen=True, slots=True)
class FanoutSettings:
    frame_queue_size: int = 2
    detection_queue_size: int = 256
    pull_timeout_s: float = 1.0  # long-poll length of the upstream loops
    pull_max_batches: int = 64
    retry_initial_s: float = 0.2  # upstream errors (camera unavailable, actor moving): backoff
    retry_max_s: float = 2.0
    # Each frame size/quality is encoded by the camera actor separately: bound the work one camera does.
    max_frame_renditions: int = 4

    @property
    def hub_pull_batches(self) -> int:
        # One pull is published to every queue at once: keep it well below the
        # queue size so a burst alone never cuts off a subscriber that keeps up.
        return max(1, min(self.pull_max_batches, self.detection_queue_size // 4))


# ------------------------------------------------------------------------ hubs


class _Hub:
    def __init__(self, fanout: Fanout, camera_id: str):
        self.fanout = fanout
        self.camera_id = camera_id
        self.subscribers: set = set()
        self.task: asyncio.Task | None = None
        self.stopped = False  # checked by the loop too: Python 3.11's wait_for can swallow a cancel
        self._handle: CameraHandle | None = None

    def start(self) -> None:
        name = f"fanout-{type(self).__name__}-{self.camera_id}"
        self.task = asyncio.get_running_loop().create_task(self._run(), name=name)

    async def handle(self) -> CameraHandle:
        if self._handle is None:
            self._handle = await self.fanout.control.handle(self.camera_id)
        return self._handle

    async def _run(self) -> None:
        """Pull until stopped or the camera is removed. Never ends on another error: a
        camera that is not running or not answering in time (CameraUnavailable, e.g.
        restarting, moving, frozen) is retried with backoff, and so, logged loudly, is
        anything unexpected, so one camera's trouble never ends its streams."""
        settings = self.fanout.settings
        delay = settings.retry_initial_s
        while not self.stopped:
            try:
                await self._pull_once(await self.handle())
                delay = settings.retry_initial_s
                continue
            except CameraNotFound:
                for sub in list(self.subscribers):
                    self._camera_gone(sub)
                self.fanout.meter.camera_gone(self.camera_id)
                return
            except CameraUnavailable as exc:
                log.warning("upstream pull of camera %s failed (%s); retrying in %.1fs", self.camera_id, exc, delay)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not end the camera's streams: logged, then retried
                log.exception(
                    "upstream pull of camera %s failed unexpectedly; retrying in %.1fs", self.camera_id, delay
                )
            self._handle = None
            self._after_error()
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.retry_max_s)

    async def _pull_once(self, handle: CameraHandle) -> None:
        raise NotImplementedError

    def _after_error(self) -> None:
        """Forget per-actor state that a restarted actor would not honour."""

    def _camera_gone(self, sub) -> None:
        raise NotImplementedError


class FrameHub(_Hub):
    # A restarted actor numbers frames from 1 again and would never answer
    # "newer than 5000": after this many empty long-polls, ask for any frame.
    EMPTY_POLLS_BEFORE_RESET = 3

    def __init__(self, fanout: Fanout, key: FrameKey):
        super().__init__(fanout, key.camera_id)
        self.key = key
        self.last_frame: JpegFrame | None = None
        self._after = 0
        self._empty_polls = 0

    # Re-check the subscribers at least this often while pacing, so a new
    # unlimited-rate subscriber does not wait long for its first frame.
    MAX_PACING_SLEEP_S = 0.25

    async def _pull_once(self, handle: CameraHandle) -> None:
        # Pull no faster than the most eager subscriber accepts: every pull makes the
        # camera decode and JPEG-encode a frame, and at 5 fps of a 12.5 fps source
        # most of those would be skipped here.
        subscribers = list(self.subscribers)
        if subscribers:
            now = self.fanout._monotonic()
            wait = min(sub.wants_frame_in(now) for sub in subscribers)
            if wait > 0:
                await asyncio.sleep(min(wait, self.MAX_PACING_SLEEP_S))
                return
        frame = await handle.latest_jpeg(
            self._after, self.fanout.settings.pull_timeout_s, max_width=self.key.max_width, quality=self.key.quality
        )
        if frame is None:
            self._empty_polls += 1
            if self._empty_polls >= self.EMPTY_POLLS_BEFORE_RESET:
                self._after_error()
            return
        self._empty_polls = 0
        self._after = frame.frame_sequence
        last = self.last_frame
        if last is not None and (last.frame_sequence, last.capture_time) == (frame.frame_sequence, frame.capture_time):
            return  # the same picture again after a reset
        self.last_frame = frame
        for sub in list(self.subscribers):
            sub._offer(frame)

    def _after_error(self) -> None:
        self._after = 0
        self._empty_polls = 0

    def _camera_gone(self, sub: FrameSubscription) -> None:
        sub.close(CloseKind.CAMERA_REMOVED, f"camera {self.camera_id!r} was removed")


class DetectionHub(_Hub):
    def __init__(self, fanout: Fanout, camera_id: str):
        super().__init__(fanout, camera_id)
        self.position: int | None = None  # last sequence published to subscribers
        self.epoch = ""  # the ring's life that `position` counts in ("" until known)

    async def read_ring(self, after_sequence: int, max_batches: int) -> DetectionPull:
        """A non-blocking read of the actor's ring, for a subscriber catching up."""
        return await (await self.handle()).pull_detections(after_sequence, max_batches, 0.0)

    async def _pull_once(self, handle: CameraHandle) -> None:
        settings = self.fanout.settings
        if self.position is None:
            # Start live: only batches published from now on.
            pull = await handle.pull_detections(0, 1, 0.0)
            self.position, self.epoch = pull.newest_sequence, pull.epoch
            self._publish(())
            return
        pull = await handle.pull_detections(self.position, settings.hub_pull_batches, settings.pull_timeout_s)
        # A new epoch is a new actor even when its ring already passed our position (a
        # short-lived actor restarted: its batches must not read as the old one's).
        new_epoch = bool(pull.epoch and self.epoch and pull.epoch != self.epoch)
        if pull.newest_sequence < self.position or new_epoch:
            log.info("camera %s restarted (sequence %d -> %d)", self.camera_id, self.position, pull.newest_sequence)
            self.position, self.epoch = 0, pull.epoch
            for sub in list(self.subscribers):
                sub._camera_restarted(self.camera_id, pull.newest_sequence, pull.epoch)
            return
        self.epoch = pull.epoch or self.epoch
        if pull.batches:
            self.position = max(self.position, pull.batches[-1].sequence)
            self._publish(pull.batches)

    def _publish(self, batches: Iterable[DetectionBatch]) -> None:
        batches = tuple(batches)
        for sub in list(self.subscribers):
            sub._publish(self.camera_id, batches, self.position)

    def _camera_gone(self, sub: DetectionSubscription) -> None:
        sub._camera_gone(self.camera_id)


# ---------------------------------------------------------------------- manager


class Fanout:
    """Owns the hubs. Subscribe and close synchronously from the event loop."""

    def __init__(
        self,
        control: CameraControl,
        settings: FanoutSettings | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: GatewayMetrics | None = None,
    ):
        self.control = control
        self.settings = settings or FanoutSettings()
        self._monotonic = monotonic
        # Subscribers, deliveries and drops for Prometheus; a no-op without `metrics`.
        self.meter = SubscriptionMeter(metrics)
        self._frame_hubs: dict[FrameKey, FrameHub] = {}
        self._detection_hubs: dict[str, DetectionHub] = {}
        self._subscriptions: set[_Subscription] = set()
        self._stopping: set[asyncio.Task] = set()
        self._closed: StreamClosed | None = None

    # -- public

    def subscribe_frames(self, key: FrameKey, max_fps: float = 0.0) -> FrameSubscription:
        self._check_open()
        sub = FrameSubscription(self, key, self.settings.frame_queue_size, max_fps, self._monotonic)
        hub = self._frame_hubs.get(key)
        if hub is None:
            renditions = sorted((k.max_width, k.quality) for k in self._frame_hubs if k.camera_id == key.camera_id)
            if len(renditions) >= self.settings.max_frame_renditions:
                shown = ", ".join(f"max_width={w} quality={q}" for w, q in renditions)
                raise LimitExceeded(
                    f"camera {key.camera_id!r} already streams {len(renditions)} frame sizes ({shown}); "
                    "ask for one of them"
                )
            hub = self._frame_hubs[key] = FrameHub(self, key)
            hub.start()
        hub.subscribers.add(sub)
        self._subscriptions.add(sub)
        self.meter.joined(sub, key.camera_id)
        if hub.last_frame is not None:
            sub._offer(hub.last_frame)  # start with the current picture instead of waiting a frame
        return sub

    def subscribe_detections(
        self,
        camera_ids: Iterable[str],
        filter: DetectionFilter | None = None,
        resume_after: Mapping[str, int] | None = None,
        follow_all: bool = False,
    ) -> DetectionSubscription:
        self._check_open()
        sub = DetectionSubscription(self, self.settings.detection_queue_size, filter or DetectionFilter(), follow_all)
        self._subscriptions.add(sub)
        resume_after = resume_after or {}
        for camera_id in camera_ids:
            sub.add_camera(camera_id, resume_after.get(camera_id))
        return sub

    async def close(self, message: str = "server shutting down") -> None:
        """End every subscription (CloseKind.SHUTDOWN) and wait for the hubs to stop."""
        self._closed = StreamClosed(CloseKind.SHUTDOWN, message)
        for sub in list(self._subscriptions):
            sub.close(CloseKind.SHUTDOWN, message)
        await self.wait_idle()

    async def wait_idle(self, timeout_s: float = 10.0) -> None:
        """Wait (bounded) until the upstream loops of stopped hubs have finished."""
        if self._stopping:
            _, pending = await asyncio.wait(set(self._stopping), timeout=timeout_s)
            if pending:
                log.warning("%d upstream loops did not stop within %.0f s", len(pending), timeout_s)

    @property
    def upstream_loops(self) -> dict[str, int]:
        """Running upstream loops per camera (frames and detections together)."""
        counts: dict[str, int] = {}
        for hub in [*self._frame_hubs.values(), *self._detection_hubs.values()]:
            if hub.task is not None and not hub.task.done():
                counts[hub.camera_id] = counts.get(hub.camera_id, 0) + 1
        return counts

    @property
    def subscription_count(self) -> int:
        return len(self._subscriptions)

    # -- internals

    def _check_open(self) -> None:
        if self._closed is not None:
            raise self._closed

    # -- SubscriptionOwner (what subscriptions call)

    @property
    def retry_initial_s(self) -> float:
        return self.settings.retry_initial_s

    def detection_source(self, camera_id: str) -> DetectionHub | None:
        return self._detection_hubs.get(camera_id)

    def join_detection_hub(self, camera_id: str) -> DetectionHub:
        hub = self._detection_hubs.get(camera_id)
        if hub is None:
            hub = self._detection_hubs[camera_id] = DetectionHub(self, camera_id)
            hub.start()
        return hub

    def leave_detection_hub(self, camera_id: str, sub: DetectionSubscription) -> None:
        hub = self._detection_hubs.get(camera_id)
        if hub is not None:
            hub.subscribers.discard(sub)
            if not hub.subscribers:
                self._stop_hub(self._detection_hubs, camera_id)

    def forget(self, sub: _Subscription) -> None:
        self._subscriptions.discard(sub)
        reason = sub.closed.kind if sub.closed is not None else CloseKind.CLOSED
        if isinstance(sub, FrameSubscription):
            self.meter.ended(sub, reason)
            hub = self._frame_hubs.get(sub.key)
            if hub is not None:
                hub.subscribers.discard(sub)
                if not hub.subscribers:
                    self._stop_hub(self._frame_hubs, sub.key)
        elif isinstance(sub, DetectionSubscription):
            self.meter.ended(sub, reason)
            for camera_id in list(sub.cameras):
                self.leave_detection_hub(camera_id, sub)

    def _stop_hub(self, hubs: dict, key: object) -> None:
        hub = hubs.pop(key)
        hub.stopped = True
        if hub.task is not None and not hub.task.done():
            hub.task.cancel()
            self._stopping.add(hub.task)
            hub.task.add_done_callback(self._stopping.discard)
