"""What the console's handlers and sockets share: one instance per `WebConsole`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..config.server import ServerConfig, WebConfig
from ..control import CameraControl
from ..events import Acknowledgement, EventQueries
from ..gateway.access_log import AccessLog
from ..gateway.access_watch import AccessWatch
from ..gateway.auth import Authenticator
from ..gateway.event_feed import EventFeed
from ..gateway.fanout import Fanout
from .directory import CameraDirectory
from .login_limit import LoginLimiter
from .protocol import CloseCode
from .sessions import SessionStore
from .status_feed import StatusFeed

if TYPE_CHECKING:
    from ..recordings import RecordingCatalog
    from .playback import PlaybackWindows


class OpenSocket(Protocol):
    """A page's WebSocket (socket.py's ConsoleSocket), as the session bookkeeping sees it."""

    def close(self, code: CloseCode, message: str) -> None: ...

    @property
    def closing(self) -> asyncio.Task | None: ...


@dataclass
class ConsoleServices:
    config: WebConfig
    server_config: ServerConfig
    control: CameraControl
    auth: Authenticator  # the gateway's: same tokens, roles and scopes
    fanout: Fanout  # the gateway's: one upstream fetch per camera and rendition for gRPC and browsers
    access: AccessLog  # the gateway's: browsers and gRPC clients in one log
    watch: AccessWatch  # the gateway's: revokes a viewer's channels when a camera's groups change
    directory: CameraDirectory
    status_feed: StatusFeed
    sessions: SessionStore
    limiter: LoginLimiter
    clock: Callable[[], float]  # wall clock (epoch seconds): sessions, ages, the access log
    monotonic: Callable[[], float]  # pacing, stall detection
    tls: bool
    # Seconds between a socket's checks of its session and of a stalled browser.
    socket_check_s: float = 1.0
    # The gateway's event store reader and its one change-feed follow (None: no event store).
    events: EventQueries | None = None
    event_feed: EventFeed | None = None
    # Where cameras record (the gateway's catalog; None: the Recordings service's default) and
    # the player's rendered windows (playback.py).
    recordings: RecordingCatalog | None = None
    playback: PlaybackWindows | None = None  # WebConsole always makes one
    # Open events feeds, told of each acknowledgement made through this console.
    ack_listeners: set[Callable[[Acknowledgement], None]] = field(default_factory=set)
    sockets: dict[str, set[OpenSocket]] = field(default_factory=dict)  # by session digest

    def acknowledged(self, ack: Acknowledgement) -> None:
        for listener in list(self.ack_listeners):
            listener(ack)

    @property
    def session_cookie(self) -> str:
        # Under TLS the __Host- prefix makes the browser insist on Secure, Path=/ and no Domain.
        return "__Host-matthan_session" if self.tls else "matthan_session"
