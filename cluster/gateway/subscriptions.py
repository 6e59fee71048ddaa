"""Per-stream subscriptions of the fan-out: bounded queues and per-camera cursors.

Hubs (fanout.py) call the underscore methods synchronously from their pull loop;
the stream handler awaits `next()`. Everything runs on one event loop, so a
method without `await` is atomic with respect to the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
import math
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ..contract import DataLoss, LossReason
from ..control import CameraNotFound
from ..domain import DetectionBatch, DetectionPull, JpegFrame

log = logging.getLogger("matthan.gateway.fanout")


# ---- what subscriptions need from the fan-out that owns them (fanout.py implements it)


class DetectionSource(Protocol):
    """One camera's detection hub, as a subscription sees it."""

    subscribers: set

    @property
    def position(self) -> int | None:
        """The last sequence the hub published (None before its first pull)."""
        ...

    @property
    def epoch(self) -> str:
        """The ring life `position` counts in ("" until known)."""
        ...

    async def read_ring(self, after_sequence: int, max_batches: int) -> DetectionPull: ...


class SubscriptionEvents(Protocol):
    """Where subscriptions report joins, leaves, replaced frames and cut-offs (SubscriptionMeter)."""

    def joined(self, sub: FrameSubscription | DetectionSubscription, camera_id: str) -> None: ...

    def left(self, sub: FrameSubscription | DetectionSubscription, camera_id: str, reason: CloseKind) -> None: ...

    def frame_replaced(self, sub: FrameSubscription) -> None: ...

    def camera_gone(self, camera_id: str) -> None: ...

    def detections_cut_off(self, lost: Mapping[str, int]) -> None: ...


class SubscriptionOwner(Protocol):
    """The fan-out, as its subscriptions see it."""

    @property
    def meter(self) -> SubscriptionEvents: ...

    @property
    def retry_initial_s(self) -> float: ...

    def forget(self, sub: _Subscription) -> None:
        """The subscription closed: leave every hub."""
        ...

    def join_detection_hub(self, camera_id: str) -> DetectionSource: ...

    def leave_detection_hub(self, camera_id: str, sub: DetectionSubscription) -> None: ...

    def detection_source(self, camera_id: str) -> DetectionSource | None: ...


class CloseKind(enum.Enum):
    SLOW_CONSUMER = "slow_consumer"  # detection queue overflowed: resume from the last sequence
    CAMERA_REMOVED = "camera_removed"
    SHUTDOWN = "shutdown"
    STUCK_CLIENT = "stuck_client"  # the client accepted no data for limits.stuck_write_timeout_s
    ACCESS_REVOKED = "access_revoked"  # the caller may no longer see the camera (its groups changed)
    CLOSED = "closed"  # the subscriber itself left (cancelled, finished)


class StreamClosed(Exception):
    """Why a subscription ended; the gateway maps `kind` to a status code."""

    def __init__(self, kind: CloseKind, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class LimitExceeded(Exception):
    """A subscription the fan-out refuses to create (RESOURCE_EXHAUSTED)."""


@dataclass(frozen=True, slots=True)
class FrameItem:
    frame: JpegFrame
    dropped_slow: int  # cumulative for this subscription
    skipped_rate: int


@dataclass(frozen=True, slots=True)
class DetectionItem:
    batch: DetectionBatch  # already filtered
    data_loss: DataLoss | None


@dataclass(frozen=True, slots=True)
class DetectionFilter:
    classes: frozenset[str] = frozenset()  # empty: all
    min_confidence: float = 0.0
    include_empty: bool = False

    def apply(self, batch: DetectionBatch, keep_empty: bool = False) -> DetectionBatch | None:
        if self.classes or self.min_confidence > 0:
            kept = tuple(
                d
                for d in batch.detections
                if (not self.classes or d.class_name in self.classes) and d.confidence >= self.min_confidence
            )
            if len(kept) != len(batch.detections):
                batch = dataclasses.replace(batch, detections=kept)
        if not batch.detections and not (self.include_empty or keep_empty):
            return None
        return batch


@dataclass(frozen=True, slots=True)
class FrameKey:
    camera_id: str
    max_width: int = 0
    quality: int = 0


class _Subscription:
    def __init__(self, fanout: SubscriptionOwner):
        self._fanout = fanout
        self._wakeup = asyncio.Event()
        self.closed: StreamClosed | None = None

    def close(self, kind: CloseKind = CloseKind.CLOSED, message: str = "subscription closed") -> None:
        """Idempotent; leaves every hub (stopping hubs left without subscribers)."""
        if self.closed is not None:
            return
        self.closed = StreamClosed(kind, message)
        self._wakeup.set()
        self._fanout.forget(self)

    async def _wait(self) -> None:
        self._wakeup.clear()
        await self._wakeup.wait()


class FrameSubscription(_Subscription):
    def __init__(
        self, fanout: SubscriptionOwner, key: FrameKey, queue_size: int, max_fps: float, monotonic: Callable[[], float]
    ):
        super().__init__(fanout)
        self.key = key
        self._queue: deque[JpegFrame] = deque(maxlen=queue_size)
        self._interval = 1.0 / max_fps if max_fps > 0 else 0.0
        self._next_due = -math.inf
        self._monotonic = monotonic
        self.dropped_slow = 0
        self.skipped_rate = 0
        self.delivered = 0

    def wants_frame_in(self, now: float) -> float:
        """Seconds until this subscriber would accept a frame (0: now or unlimited)."""
        if not self._interval or self.closed is not None:
            return 0.0
        return max(0.0, self._next_due - self._interval * 0.05 - now)

    def _offer(self, frame: JpegFrame) -> None:
        if self.closed is not None:
            return
        if self._interval:
            now = self._monotonic()
            # A little early is on time: frames arrive with jitter.
            if now < self._next_due - self._interval * 0.05:
                self.skipped_rate += 1
                return
            # On schedule: advance the schedule (no drift below max_fps). Late by more
            # than an interval (the first frame, a pause): restart it at least an interval
            # from now (no catch-up burst), on the grid of the interval, so every stream of
            # this rate is due at the same moments whenever it started and the hub fetches
            # one frame per interval for all of them, not one per stream's own phase.
            if self._next_due > now - self._interval:
                self._next_due += self._interval
            else:
                self._next_due = math.ceil((now + self._interval) / self._interval) * self._interval
        if len(self._queue) == self._queue.maxlen:
            self.dropped_slow += 1  # deque drops the oldest: newest wins
            self._fanout.meter.frame_replaced(self)
        self._queue.append(frame)
        self._wakeup.set()

    async def next(self) -> FrameItem:
        """The next frame; raises StreamClosed when the subscription ends."""
        while True:
            if self.closed is not None:
                raise self.closed
            if self._queue:
                self.delivered += 1
                return FrameItem(self._queue.popleft(), self.dropped_slow, self.skipped_rate)
            await self._wait()


class DetectionSubscription(_Subscription):
    """One detection stream: several cameras, one bounded queue, a cursor per camera."""

    def __init__(self, fanout: SubscriptionOwner, queue_size: int, filter: DetectionFilter, follow_all: bool):
        super().__init__(fanout)
        self._capacity = queue_size
        self._queue: deque[DetectionItem] = deque()
        self._filter = filter
        self.follow_all = follow_all  # removed cameras drop out instead of ending the stream
        self._cursors: dict[str, int | None] = {}  # last sequence queued (or skipped by the filter)
        self._epochs: dict[str, str] = {}  # the ring life each cursor counts in ("" unknown)
        self._catchup: dict[str, None] = {}  # ordered set: cameras to read from the ring
        self._pending_loss: dict[str, DataLoss] = {}
        self.delivered = 0

    @property
    def cameras(self) -> tuple[str, ...]:
        return tuple(self._cursors)

    def add_camera(self, camera_id: str, resume_after: int | None = None) -> None:
        """Follow a camera: live from now, or from the ring right after `resume_after`."""
        if self.closed is not None or camera_id in self._cursors:
            return
        hub = self._fanout.join_detection_hub(camera_id)
        if resume_after is None:
            self._cursors[camera_id] = hub.position
            self._epochs[camera_id] = hub.epoch
        else:
            self._cursors[camera_id] = resume_after
            self._catchup[camera_id] = None
            self._wakeup.set()
        hub.subscribers.add(self)
        self._fanout.meter.joined(self, camera_id)

    def remove_camera(self, camera_id: str, reason: CloseKind = CloseKind.CLOSED) -> None:
        """Stop following a camera; the stream goes on with the others. `reason`
        (e.g. CAMERA_REMOVED, ACCESS_REVOKED) is what the metrics record."""
        self._cursors.pop(camera_id, None)
        self._epochs.pop(camera_id, None)
        self._catchup.pop(camera_id, None)
        self._pending_loss.pop(camera_id, None)
        self._fanout.leave_detection_hub(camera_id, self)
        self._fanout.meter.left(self, camera_id, reason)

    # -- called by the hub (synchronously: nothing interleaves)

    def _publish(self, camera_id: str, batches: Iterable[DetectionBatch], position: int) -> None:
        if self.closed is not None or camera_id not in self._cursors or camera_id in self._catchup:
            return
        if not self._epochs.get(camera_id):
            hub = self._fanout.detection_source(camera_id)
            self._epochs[camera_id] = hub.epoch if hub is not None else ""
        cursor = self._cursors[camera_id]
        for batch in batches:
            if cursor is not None and batch.sequence <= cursor:
                continue
            if cursor is not None and batch.sequence != cursor + 1:
                break  # behind the live window: read the rest from the ring
            if not self._enqueue(camera_id, batch, overflow_closes=True):
                return
            cursor = batch.sequence
        if cursor is None:
            cursor = position
        self._cursors[camera_id] = cursor
        if cursor < position:
            self._catchup[camera_id] = None
            self._wakeup.set()

    def _camera_restarted(self, camera_id: str, newest_sequence: int, epoch: str = "") -> None:
        """The camera's actor was replaced; `epoch` is the new ring's ("" unknown)."""
        cursor = self._cursors.get(camera_id)
        if cursor is None:
            return
        known = self._epochs.get(camera_id, "")
        if epoch and known:
            if epoch == known:
                return  # already following the new ring (it caught up from it first)
        elif cursor <= newest_sequence:
            return  # cannot tell the rings apart: the numbering alone says nothing was lost
        self._epochs[camera_id] = epoch
        if cursor > 0:
            self._note_loss(camera_id, DataLoss(LossReason.CAMERA_RESTARTED, cursor + 1, 0))
        self._cursors[camera_id] = 0
        self._catchup[camera_id] = None
        self._wakeup.set()

    def _camera_gone(self, camera_id: str) -> None:
        if self.follow_all:
            self.remove_camera(camera_id, CloseKind.CAMERA_REMOVED)
        else:
            self.close(CloseKind.CAMERA_REMOVED, f"camera {camera_id!r} was removed")

    # -- consumer side

    async def next(self) -> DetectionItem:
        """The next batch (oldest first per camera); raises StreamClosed when the stream ends."""
        while True:
            if self.closed is not None:
                raise self.closed
            if self._queue:
                self.delivered += 1
                return self._queue.popleft()
            if self._catchup:
                await self._catch_up(next(iter(self._catchup)))
                continue
            await self._wait()

    async def _catch_up(self, camera_id: str) -> None:
        original = self._cursors[camera_id]
        cursor = original or 0
        room = self._capacity - len(self._queue)
        hub = self._fanout.detection_source(camera_id)
        if hub is None:
            self._catchup.pop(camera_id, None)
            return
        if room <= 0:
            return
        try:
            pull = await hub.read_ring(cursor, room)
        except CameraNotFound:
            self._camera_gone(camera_id)
            self._fanout.meter.camera_gone(camera_id)
            return
        except Exception as exc:  # noqa: BLE001 - not answering, moving, or a bug: the hub's loop retries and logs
            log.debug("catch-up read of %s failed: %r", camera_id, exc)
            await asyncio.sleep(self._fanout.retry_initial_s)
            return
        if self.closed is not None or camera_id not in self._cursors or self._cursors[camera_id] != original:
            return  # left, or the camera restarted while we read
        known = self._epochs.get(camera_id, "")
        if pull.newest_sequence < cursor or (pull.epoch and known and pull.epoch != known):
            self._camera_restarted(camera_id, pull.newest_sequence, pull.epoch)
            return
        self._epochs[camera_id] = pull.epoch or known
        if pull.batches and pull.batches[0].sequence > cursor + 1:
            self._note_loss(camera_id, DataLoss(LossReason.RING_OVERWRITTEN, cursor + 1, pull.batches[0].sequence - 1))
        for batch in pull.batches:
            if batch.sequence <= cursor:
                continue
            if not self._enqueue(camera_id, batch, overflow_closes=False):
                break  # no room (live cameras filled it meanwhile): continue later
            cursor = batch.sequence
        self._cursors[camera_id] = cursor
        live_position = hub.position or 0
        # Done when the ring had nothing newer, or we reached both the ring's and the
        # hub's newest (the hub may have published while we read: then read once more).
        if not pull.batches or (cursor >= pull.newest_sequence and cursor >= live_position):
            self._catchup.pop(camera_id, None)

    # -- internals

    def _note_loss(self, camera_id: str, loss: DataLoss) -> None:
        # A restart explains everything after it; keep the first report.
        self._pending_loss.setdefault(camera_id, loss)

    def _enqueue(self, camera_id: str, batch: DetectionBatch, overflow_closes: bool) -> bool:
        """Queue a batch (or skip it by the filter). False if there was no room."""
        loss = self._pending_loss.get(camera_id)
        kept = self._filter.apply(batch, keep_empty=loss is not None)
        if kept is None:
            return True
        if len(self._queue) >= self._capacity:
            if overflow_closes:
                # Cut off: this batch and everything still queued never reach the client on this
                # stream (it gets them again by resuming).
                lost = Counter(item.batch.camera_id for item in self._queue)
                lost[camera_id] += 1
                self._fanout.meter.detections_cut_off(lost)
                self.close(
                    CloseKind.SLOW_CONSUMER,
                    f"detection stream fell behind: {self._capacity} batches were waiting for the client; "
                    "reconnect with resume_after set to the last sequence received per camera",
                )
            return False
        self._pending_loss.pop(camera_id, None)
        self._queue.append(DetectionItem(kept, loss))
        self._wakeup.set()
        return True
