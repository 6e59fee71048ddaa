"""`WebConsole`: the duty-room console's HTTP server, beside the gRPC gateway in the
front door's event loop.

    gateway = GatewayServer(control, config.server)
    await gateway.start()
    console = WebConsole.beside(gateway)     # shares its fan-out, authenticator, access log, watch
    await console.start()                    # console.url
    ...
    await console.stop()                     # pages' sockets close with 1001, then the gateway stops

It never creates a second fan-out: every browser is one more subscriber of the
gateway's hubs. Routes are in api.py, the WebSocket in socket.py, guards in security.py.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from ..config.server import ServerConfig, WebConfig, is_loopback
from ..control import CameraControl
from ..events import EventQueries
from ..gateway.access_log import AccessLog
from ..gateway.access_watch import AccessWatch
from ..gateway.auth import Authenticator
from ..gateway.event_feed import EventFeed
from ..gateway.fanout import Fanout
from .api import SERVICES, add_routes, close_session_sockets, current_session
from .directory import CameraDirectory
from .errors import WebError, web_error_for
from .event_routes import add_event_routes
from .login_limit import LoginLimiter
from .playback import PlaybackWindows, playback_scratch
from .playback_routes import add_playback_routes
from .protocol import CloseCode
from .security import (
    CSRF_HEADER,
    UNSAFE_METHODS,
    add_security_headers,
    check_body_size,
    check_host,
    check_state_change,
    check_static_file,
)
from .services import ConsoleServices
from .sessions import Session, SessionStore
from .socket import close_all
from .status_feed import StatusFeed

if TYPE_CHECKING:
    from ..gateway.server import GatewayServer
    from ..recordings import RecordingCatalog

log = logging.getLogger("matthan.web")

SHUTDOWN_TIMEOUT_S = 5.0


def _ssl_context(config: ServerConfig) -> ssl.SSLContext | None:
    tls = config.tls
    if tls is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
        if tls.client_ca_file is not None:
            context.load_verify_locations(str(tls.client_ca_file))
            context.verify_mode = ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL
    except FileNotFoundError as exc:
        raise ValueError(f"TLS file {exc.filename} does not exist") from None
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot load the TLS certificate or key for the web console: {exc}") from None
    return context


class WebConsole:
    def __init__(
        self,
        control: CameraControl,
        config: ServerConfig,
        *,
        auth: Authenticator,
        fanout: Fanout,
        access: AccessLog,
        watch: AccessWatch,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        socket_check_s: float = 1.0,
        events: EventQueries | None = None,
        event_feed: EventFeed | None = None,
        recordings: RecordingCatalog | None = None,
    ):
        if config.web is None:
            raise ValueError("server.web is not configured: the web console is off")
        self.config: WebConfig = config.web
        self.server_config = config
        directory = CameraDirectory(control, self.config.status_refresh_s, monotonic)
        self.services = ConsoleServices(
            config=self.config,
            server_config=config,
            control=control,
            auth=auth,
            fanout=fanout,
            access=access,
            watch=watch,
            directory=directory,
            status_feed=StatusFeed(directory, self.config.status_refresh_s),
            sessions=SessionStore(
                idle_s=self.config.session_idle_s,
                max_age_s=self.config.session_max_age_s,
                max_sessions=self.config.max_sessions,
                clock=clock,
                on_end=self._session_ended,
            ),
            limiter=LoginLimiter(
                allowed=self.config.login_failures_allowed, window_s=self.config.login_failure_window_s, clock=clock
            ),
            clock=clock,
            monotonic=monotonic,
            tls=config.tls is not None,
            socket_check_s=socket_check_s,
            events=events,
            event_feed=event_feed,
            recordings=recordings,
            playback=PlaybackWindows(self.config.playback, playback_scratch()),
        )
        self._static_dir = Path(str(resources.files("cluster.web").joinpath("static"))).resolve()
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @classmethod
    def beside(cls, gateway: GatewayServer, **kwargs: object) -> WebConsole:
        """The console of this gateway's front door: its fan-out, authenticator, access log and
        watch, and its event store and change-feed follow (the one StreamEvents uses)."""
        state = gateway.state
        return cls(
            state.control,
            state.config,
            auth=state.auth,
            fanout=state.fanout,
            access=state.access,
            watch=state.watch,
            events=state.events,
            event_feed=state.event_feed,
            recordings=state.recordings,
            **kwargs,  # type: ignore[arg-type]
        )

    # -- life

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("WebConsole.port is known only after start()")
        return self._port

    @property
    def url(self) -> str:
        host = self.config.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if self.services.tls else "http"
        return f"{scheme}://{shown}:{self.port}/"

    async def start(self) -> None:
        """Bind and serve. RuntimeError if the address cannot be bound, ValueError for bad TLS files."""
        if self._runner is not None:
            raise RuntimeError("WebConsole already started")
        context = _ssl_context(self.server_config)
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        site = web.TCPSite(
            runner, self.config.host.strip("[]"), self.config.port, ssl_context=context, reuse_port=False
        )
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise RuntimeError(
                f"cannot serve the web console on {self.config.host}:{self.config.port}: {exc.strerror}"
            ) from None
        self._runner = runner
        self._port = runner.addresses[0][1]
        log.info("web console on %s", self.url)

    async def stop(self) -> None:
        """Close every page's socket (1001: reconnect later), then stop serving. Idempotent."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        sockets = [s for group in self.services.sockets.values() for s in group]
        await close_all(sockets, CloseCode.GOING_AWAY, "server shutting down: the page reconnects by itself")
        await self.services.status_feed.close()
        if self.services.playback is not None:
            await self.services.playback.close()
        await runner.cleanup()
        log.info("web console stopped")

    # -- internals

    def _session_ended(self, session: Session, why: str) -> None:
        close_session_sockets(self.services, session, why)

    def _build_app(self) -> web.Application:
        app = web.Application(
            client_max_size=self.config.max_request_bytes,
            middlewares=[self._errors, self._guards],
        )
        app[SERVICES] = self.services
        tls = self.services.tls

        async def headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
            add_security_headers(request, response, tls=tls)

        app.on_response_prepare.append(headers)
        add_routes(app, str(self._static_dir))
        add_event_routes(app)
        add_playback_routes(app)
        return app

    @web.middleware
    async def _errors(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Every failure is an HTTP status with a JSON body naming what is wrong."""
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise  # redirects, 304
            error = web_error_for(exc)
        except WebError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - a bug answers 500 (web_error_for logs it), the server goes on
            error = web_error_for(exc)
        response = web.json_response(error.body(), status=error.status)
        response.headers.update(error.headers)
        return response

    @web.middleware
    async def _guards(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if is_loopback(self.config.host):
            check_host(request)
        unrouted = request.match_info.http_exception
        if unrouted is not None:
            raise unrouted  # no such route or method: say so before judging the request's body
        check_body_size(request, self.config.max_request_bytes)  # before any work, read or not
        if isinstance(request.match_info.route.resource, web.StaticResource):
            check_static_file(self._static_dir, request.match_info.get("filename", ""))
        if request.method in UNSAFE_METHODS:
            session = current_session(request, touch=False)
            matches = None if session is None else session.csrf_matches(request.headers.get(CSRF_HEADER))
            check_state_change(request, matches)
        return await handler(request)
