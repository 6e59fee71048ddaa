"""One console WebSocket: the page's every tile, overlay and status list on one connection.

Three activities per socket, all on the front door's event loop:

- reader (the handler's own task): parses client messages; subscribe / unsubscribe
  open and close channels (channels.py), acks open the outbox's window;
- sender: takes the outbox's next message and writes it; the only writer;
- watchdog: every `socket_check_s`, keeps the session in use while the page is
  open, closes the socket when the session has ended (4401), and when the browser
  has acknowledged nothing while data waited for `web.stuck_timeout_s` (4408), and drops
  the connection when a write has not completed for that long (it takes no data at all).

A channel that fails gets a `closed` message and the others go on; a message that
breaks the protocol closes the socket (4400) with a reason naming what was wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiohttp import WSMsgType, web

from ..gateway.auth import Principal
from .channels import Channel, DetectionChannel, FrameChannel, StatusChannel
from .errors import ErrorCode
from .event_channel import EventChannel
from .outbox import Outbox, Outgoing
from .protocol import (
    Ack,
    ChannelKey,
    ChannelKind,
    CloseCode,
    ProtocolError,
    Subscribe,
    close_reason,
    encode_text,
    parse_client_message,
)
from .services import ConsoleServices, OpenSocket
from .sessions import Session
from .views import principal_summary

log = logging.getLogger("matthan.web")

# What each channel kind of protocol.py is served by.
CHANNEL_CLASSES: dict[ChannelKind, type[Channel]] = {
    ChannelKind.FRAMES: FrameChannel,
    ChannelKind.DETECTIONS: DetectionChannel,
    ChannelKind.STATUS: StatusChannel,
    ChannelKind.EVENTS: EventChannel,
}

# How the access log records a socket's channels when the socket closes for this reason.
_CHANNEL_END_STATUS: dict[int, str] = {
    CloseCode.GOING_AWAY: "UNAVAILABLE",
    CloseCode.BAD_MESSAGE: "INVALID_ARGUMENT",
    CloseCode.SESSION_ENDED: "UNAUTHENTICATED",
    CloseCode.TOO_SLOW: "RESOURCE_EXHAUSTED",
    CloseCode.TOO_MANY: "RESOURCE_EXHAUSTED",
}


class ConsoleSocket:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        services: ConsoleServices,
        session: Session,
        peer: str,
        abort: Callable[[], None] = lambda: None,
    ):
        self.ws = ws
        self._abort = abort  # drops the connection (a browser that takes no data)
        self.services = services
        self.session = session
        self.principal: Principal = session.principal
        self.peer = peer
        self.session_log_id = session.log_id
        self.outbox = Outbox(services.config.socket_window, services.monotonic)
        self.channels: dict[ChannelKey, Channel] = {}
        self.close_code: int | None = None
        self.close_message = ""
        self._closing: asyncio.Task | None = None
        self._writing_since: float | None = None

    # -- life

    async def run(self) -> None:
        """Serve the socket until the page or the server closes it."""
        config = self.services.config
        self.outbox.put(
            ("hello",),
            Outgoing(
                lambda seq: encode_text(
                    {
                        "type": "hello",
                        "user": principal_summary(self.principal),
                        "window": config.socket_window,
                        "tile_fps": config.tile_fps,
                        "large_fps": config.large_fps,
                    },
                    seq,
                )
            ),
        )
        sender = asyncio.get_running_loop().create_task(self._send_loop(), name="web-socket-sender")
        watchdog = asyncio.get_running_loop().create_task(self._watchdog(), name="web-socket-watchdog")
        try:
            async for message in self.ws:
                if message.type is WSMsgType.TEXT:
                    try:
                        self._handle(message.data)
                    except ProtocolError as exc:
                        self.close(CloseCode.BAD_MESSAGE, str(exc))
                        break
                elif message.type is WSMsgType.BINARY:
                    self.close(CloseCode.BAD_MESSAGE, "binary messages are not accepted: send JSON text")
                    break
                else:  # ERROR (e.g. a message above max_msg_size: aiohttp closes with 1009)
                    break
        finally:
            for task in (sender, watchdog):
                task.cancel()
            status = _CHANNEL_END_STATUS.get(self.close_code or 0, "CANCELLED")
            self._close_channels(status, self.close_message or "page closed")
            await asyncio.wait({sender, watchdog}, timeout=5.0)
            if self._closing is not None:
                await asyncio.wait({self._closing}, timeout=15.0)

    @property
    def closing(self) -> asyncio.Task | None:
        """The close handshake the server started (None while open or closed by the page)."""
        return self._closing

    def close(self, code: CloseCode, message: str) -> None:
        """Close the socket with `code` (from any task; the first reason wins)."""
        if self._closing is not None or self.ws.closed:
            return
        self.close_code, self.close_message = int(code), message
        self._closing = asyncio.get_running_loop().create_task(
            self.ws.close(code=int(code), message=close_reason(message)), name="web-socket-close"
        )

    # -- client messages

    def _handle(self, text: str) -> None:
        message = parse_client_message(text)
        if isinstance(message, Ack):
            self.outbox.ack(message.seq)
        elif isinstance(message, Subscribe):
            self._subscribe(message)
        else:
            self._unsubscribe(message.key)

    def _subscribe(self, request: Subscribe) -> None:
        old = self.channels.pop(request.key, None)
        if old is not None:
            old.close("CANCELLED", "subscribed again")
        limit = self.services.config.max_subscriptions_per_socket
        if len(self.channels) >= limit:
            self.close(CloseCode.TOO_MANY, f"at most {limit} channels per socket (web.max_subscriptions_per_socket)")
            return
        channel = CHANNEL_CLASSES[request.key.kind](self, request)
        self.channels[request.key] = channel
        channel.start()

    def _unsubscribe(self, key: ChannelKey) -> None:
        channel = self.channels.pop(key, None)
        if channel is not None:
            channel.close("CANCELLED", "unsubscribed")
        self.outbox.discard(key)

    # -- ChannelHost

    def channel_ended(self, channel: Channel, code: ErrorCode, message: str) -> None:
        if self.channels.get(channel.key) is not channel:
            return  # replaced or unsubscribed meanwhile
        del self.channels[channel.key]
        notice = {"type": "closed", **channel.key.describe(), "code": code.value, "message": message}
        self.outbox.put(channel.key, Outgoing(lambda seq: encode_text(notice, seq)))

    # -- internals

    def _close_channels(self, status: str, detail: str) -> None:
        for channel in list(self.channels.values()):
            channel.close(status, detail)
        self.channels.clear()

    async def _send_loop(self) -> None:
        # No timeout around each write (a timer per message is a good share of the cost of a
        # small frame): a write that does not complete is noticed by the watchdog instead.
        while True:
            seq, message = await self.outbox.next()
            data = message.encode(seq)
            self._writing_since = self.services.monotonic()
            try:
                if isinstance(data, bytes):
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the connection went away mid-write: the reader ends too
                log.debug("console socket write failed: %r", exc)
                return
            finally:
                self._writing_since = None
            if message.on_sent is not None:
                message.on_sent()

    async def _watchdog(self) -> None:
        services = self.services
        stuck_s = services.config.stuck_timeout_s
        while True:
            await asyncio.sleep(services.socket_check_s)
            session = services.sessions.get_by_digest(self.session.digest)
            if session is None:
                self.close(CloseCode.SESSION_ENDED, "session ended: log in again")
                return
            writing = self._writing_since
            if writing is not None and services.monotonic() - writing >= stuck_s:
                # The connection takes no data at all: no close frame could get through either.
                self.close_code, self.close_message = int(CloseCode.TOO_SLOW), f"no write completed for {stuck_s:g} s"
                self._abort()
                return
            stalled = self.outbox.stalled_for()
            if stalled >= stuck_s:
                self.close(CloseCode.TOO_SLOW, f"the browser acknowledged nothing for {stalled:.0f} s")
                return


async def close_all(sockets: list[OpenSocket], code: CloseCode, message: str) -> None:
    for sock in sockets:
        sock.close(code, message)
    closing = [s.closing for s in sockets if s.closing is not None]
    if closing:
        with contextlib.suppress(Exception):
            await asyncio.wait(closing, timeout=5.0)
