"""The channels of a console WebSocket: what one subscription on it does.

Each channel is a task that opens its source and pumps it into the socket's
outbox under its key (newest wins):

- `FrameChannel`: a tile or the one-camera view. A subscriber of the gateway's
  fan-out (`subscribe_frames` at the console's tile or large rendition and rate),
  so a browser adds no camera work: one upstream fetch per camera and rendition
  however many pages and gRPC clients watch it.
- `DetectionChannel`: a tile's boxes and track labels. The fan-out's detection
  hub, every batch (empty ones clear the boxes); only the newest matters on screen.
- `StatusChannel`: the camera list with states, from the shared `StatusFeed`.

Frame and detection channels are streams in the gateway's access log (who, which
camera, from when to when, from where, `via: web`) and are watched by the
gateway's `AccessWatch`, so a viewer whose camera leaves its groups loses the
channel (`closed` with code `permission_denied`) as a gRPC stream would.

The events feed is `EventChannel` (event_channel.py): the same base, but a bounded
list of events instead of newest-wins. socket.py maps each channel kind to its class.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from ..config.server import WebConfig
from ..domain import JpegFrame
from ..gateway.access_log import StreamRecord
from ..gateway.auth import Principal
from ..gateway.fanout import (
    CloseKind,
    DetectionFilter,
    DetectionItem,
    DetectionSubscription,
    FrameItem,
    FrameKey,
    FrameSubscription,
    LimitExceeded,
    StreamClosed,
)
from ..gateway.metering import FRAME_QUEUE_FULL, FRAMES
from ..gateway.rpc import status_for, stream_rendition
from .errors import ErrorCode, WebError, web_error_for
from .outbox import Outbox, Outgoing
from .protocol import ChannelKey, FrameSize, Subscribe, encode_frame, encode_text
from .services import ConsoleServices
from .status_feed import Listing
from .views import camera_summary, detections_message

# What a browser is told when the fan-out ends a channel.
_CLOSED_CODES = {
    CloseKind.CAMERA_REMOVED: ErrorCode.NOT_FOUND,
    CloseKind.ACCESS_REVOKED: ErrorCode.PERMISSION_DENIED,
    CloseKind.SHUTDOWN: ErrorCode.UNAVAILABLE,
    CloseKind.SLOW_CONSUMER: ErrorCode.UNAVAILABLE,
    CloseKind.STUCK_CLIENT: ErrorCode.UNAVAILABLE,
    CloseKind.CLOSED: ErrorCode.UNAVAILABLE,
}


class ChannelHost(Protocol):
    """The socket, as its channels see it."""

    services: ConsoleServices
    principal: Principal
    peer: str
    session_log_id: str
    outbox: Outbox

    def channel_ended(self, channel: Channel, code: ErrorCode, message: str) -> None: ...


def rendition(config: WebConfig, camera_id: str, size: FrameSize) -> tuple[FrameKey, float]:
    """The frame key and rate of a size. Every page asks for the same two renditions (and
    widths snap to the gateway's ladder), so browsers share hubs with each other and with
    gRPC clients asking for the same picture."""
    if size is FrameSize.TILE:
        width, fps = config.tile_width, config.tile_fps
    else:
        width, fps = config.large_width, config.large_fps
    max_width, quality = stream_rendition(width, 0)
    return FrameKey(camera_id, max_width, quality), fps


class Channel:
    """Open, pump, end: one task; `close()` ends it from outside (unsubscribe, socket closed)."""

    method = ""  # its name in the access log

    def __init__(self, host: ChannelHost, request: Subscribe):
        self.host = host
        self.request = request
        self.key: ChannelKey = request.key
        self.record: StreamRecord | None = None
        self._task: asyncio.Task | None = None
        self._finished = False

    def start(self) -> None:
        name = f"web-{self.key.kind.value}-{self.key.camera or 'all'}"
        self._task = asyncio.get_running_loop().create_task(self._life(), name=name)

    def close(self, status: str = "CANCELLED", detail: str = "unsubscribed") -> None:
        """Idempotent; ends the access-log record with `status`."""
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._finish(status, detail)

    async def wait_closed(self) -> None:
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=5.0)

    # -- subclass parts

    async def _open(self) -> None:
        raise NotImplementedError

    async def _pump(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        """Leave the source (synchronously)."""

    def _counters(self) -> dict:
        return {}

    # -- internals

    def _log_start(self, cameras: list[str], **extra: object) -> None:
        services = self.host.services
        self.record = services.access.stream_start(
            self.host.principal,
            self.method,
            cameras,
            self.host.peer,
            via="web",
            session=self.host.session_log_id,
            **extra,
        )

    async def _life(self) -> None:
        services = self.host.services
        try:
            await self._open()
        except asyncio.CancelledError:
            self._finish("CANCELLED", "unsubscribed while opening")
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a `closed` message (web_error_for logs bugs)
            error = _channel_error(exc)
            cameras = [self.key.camera] if self.key.camera else []
            services.access.call(
                self.host.principal,
                self.method,
                cameras,
                self.host.peer,
                status=error.access_status,
                detail=error.message,
            )
            self._finish(error.access_status, error.message)
            self.host.channel_ended(self, error.code, error.message)
            return
        try:
            await self._pump()
        except StreamClosed as closed:
            code, message = status_for(closed)
            self._finish(code.name, message)
            self.host.channel_ended(self, _CLOSED_CODES[closed.kind], message)
        except asyncio.CancelledError:
            self._finish("CANCELLED", "unsubscribed")
            raise
        except Exception as exc:  # noqa: BLE001 - a bug ends this channel, never the socket or the others
            error = web_error_for(exc)
            self._finish(error.access_status, error.message)
            self.host.channel_ended(self, error.code, error.message)

    def _finish(self, status: str, detail: str) -> None:
        if self._finished:
            return
        self._finished = True
        self._release()
        if self.record is not None:
            self.record.end(status, detail, **self._counters())


def _channel_error(exc: BaseException) -> WebError:
    if isinstance(exc, LimitExceeded):
        return WebError(429, ErrorCode.RATE_LIMITED, str(exc))
    if isinstance(exc, StreamClosed):  # the fan-out is shutting down
        return WebError(503, ErrorCode.UNAVAILABLE, exc.message)
    return web_error_for(exc)


class FrameChannel(Channel):
    method = "WebFrames"

    def __init__(self, host: ChannelHost, request: Subscribe):
        super().__init__(host, request)
        self._sub: FrameSubscription | None = None
        self.replaced = 0  # frames a newer one replaced before the browser was ready

    async def _open(self) -> None:
        services, camera = self.host.services, self.key.camera
        await services.directory.camera(self.host.principal, camera)
        key, fps = rendition(services.config, camera, self.request.size)
        self._sub = services.fanout.subscribe_frames(key, fps)
        services.watch.watch(self.host.principal, self._sub)
        self._log_start([camera], size=self.request.size.value, max_width=key.max_width, max_fps=fps)

    async def _pump(self) -> None:
        assert self._sub is not None
        while True:
            item = await self._sub.next()
            self.host.outbox.put(self.key, self._message(item))

    def _message(self, item: FrameItem) -> Outgoing:
        frame: JpegFrame = item.frame
        header = {
            "camera": frame.camera_id,
            "size": self.request.size.value,
            "frame_sequence": frame.frame_sequence,
            "capture_time": frame.capture_time,
            "width": frame.width,
            "height": frame.height,
        }
        services = self.host.services
        sub = self._sub

        def sent() -> None:
            if self.record is not None:
                self.record.messages += 1
            if sub is not None:
                services.fanout.meter.delivered(sub, item)

        def replaced() -> None:
            self.replaced += 1
            services.fanout.meter.dropped(frame.camera_id, FRAMES, FRAME_QUEUE_FULL)

        return Outgoing(lambda seq: encode_frame(header, frame.jpeg, seq), sent, replaced)

    def _release(self) -> None:
        if self._sub is not None:
            self.host.services.watch.forget(self._sub)
            self._sub.close()

    def _counters(self) -> dict:
        sub = self._sub
        dropped = self.replaced + (sub.dropped_slow if sub is not None else 0)
        return {"dropped_slow": dropped, "skipped_rate": sub.skipped_rate if sub is not None else 0}


class DetectionChannel(Channel):
    method = "WebDetections"

    def __init__(self, host: ChannelHost, request: Subscribe):
        super().__init__(host, request)
        self._sub: DetectionSubscription | None = None

    async def _open(self) -> None:
        services, camera = self.host.services, self.key.camera
        await services.directory.camera(self.host.principal, camera)
        self._subscribe()
        self._log_start([camera])

    def _subscribe(self) -> None:
        services = self.host.services
        self._sub = services.fanout.subscribe_detections([self.key.camera], DetectionFilter(include_empty=True))
        services.watch.watch(self.host.principal, self._sub)

    async def _pump(self) -> None:
        while True:
            assert self._sub is not None
            try:
                item = await self._sub.next()
            except StreamClosed as closed:
                if closed.kind is not CloseKind.SLOW_CONSUMER:
                    raise
                # An overlay shows the newest boxes only: fell behind, so follow live again.
                self._release()
                self._subscribe()
                continue
            self.host.outbox.put(self.key, self._message(item))

    def _message(self, item: DetectionItem) -> Outgoing:
        services, sub = self.host.services, self._sub
        message = detections_message(item.batch)

        def sent() -> None:
            if self.record is not None:
                self.record.messages += 1
            if sub is not None:
                services.fanout.meter.delivered(sub, item)

        return Outgoing(lambda seq: encode_text(message, seq), sent)

    def _release(self) -> None:
        if self._sub is not None:
            self.host.services.watch.forget(self._sub)
            self._sub.close()


class StatusChannel(Channel):
    """The cameras the page's user may see (in the requested groups), with their states."""

    method = "WebStatus"

    def __init__(self, host: ChannelHost, request: Subscribe):
        super().__init__(host, request)
        self._done = asyncio.Event()

    async def _open(self) -> None:
        self._log_start([], groups=sorted(self.request.groups)[:20])
        self.host.services.status_feed.join(self._offer)

    async def _pump(self) -> None:
        await self._done.wait()  # the feed does the work; this task only marks the channel open

    def _offer(self, listing: Listing) -> None:
        services = self.host.services
        if isinstance(listing, Exception):
            error = _channel_error(listing)
            message: dict = {"type": "cameras", "error": {"code": error.code.value, "message": error.message}}
        else:
            principal, groups, now = self.host.principal, self.request.groups, services.clock()
            cameras = [
                camera_summary(view, now)
                for _, view in sorted(listing.items())
                if principal.sees(view.config) and (not groups or not groups.isdisjoint(view.config.groups))
            ]
            message = {"type": "cameras", "listed_at": now, "cameras": cameras}

        def sent() -> None:
            if self.record is not None:
                self.record.messages += 1

        self.host.outbox.put(self.key, Outgoing(lambda seq: encode_text(message, seq), sent))

    def _release(self) -> None:
        self.host.services.status_feed.leave(self._offer)
        self._done.set()
