"""The console's HTTP routes: pages, the JSON API and the WebSocket.

    GET  /  /health  /camera/{id}     the page (one HTML shell; the script shows the view)
    GET  /api/session                 who is logged in, the CSRF token, the language
    POST /api/login     {"token", "language"?}   -> session cookie (429 after too many failures)
    POST /api/logout                  ends the session and its sockets
    POST /api/language  {"language": "vi" | "en"}
    GET  /api/cameras?group=G         cameras the user may see, with their states
    GET  /api/cameras/{id}            one camera (403 outside a viewer's scope, same for unknown ids)
    GET  /api/cameras/{id}/snapshot?width=W   a JPEG download
    GET  /api/cameras/{id}/zones      its zones, lines (and, for operators, privacy masks): zones.py
    POST /api/cameras/{id}/zones      save them (operator; UpdateCamera's path, applied live)
    GET  /api/events?camera=&group=&type=&severity=&class=&rule=&from=&to=&order=&page_size=&cursor=
                                      a page of events (search.py), with their acknowledgements
    GET  /api/events.csv?<filters>    every matching event as CSV, streamed (bounded, scoped)
    GET  /api/events/{id}/thumbnail   an event's JPEG (GetEvent's path and scope: 404 alike for
                                      an unknown id and an event of a camera the user may not see)
    POST /api/events/{id}/ack         acknowledge an alert (operator and above; recorded in the
                                      event store and the access log; every open feed shows it)
    GET  /api/cameras/{id}/recordings?from=&to=   recorded ranges and gaps (playback_routes.py)
    GET  /api/cameras/{id}/playback?at=T          the masked window of footage holding T
    GET  /api/playback/{clip}         that window's MP4, with HTTP Range (the <video> seeks)
    GET  /ws                          the page's WebSocket (protocol.py)

The zones and events routes are in event_routes.py and those of recorded footage in
playback_routes.py (with this module's guards and access
log); the live events feed is a WebSocket channel (event_channel.py).
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable
from importlib import resources

from aiohttp import web

from ..config.server import Role
from ..contract import RequestError
from ..control import CameraUnavailable, CameraUnresponsive
from ..gateway.auth import AUTHORIZATION_KEY, AuthError, Principal
from ..gateway.rpc import check_camera_id, check_names, check_range
from .errors import ErrorCode, WebError, bad_request, web_error_for
from .login_limit import retry_after_header
from .protocol import CloseCode
from .security import CSRF_HEADER, check_origin
from .services import ConsoleServices
from .sessions import DEFAULT_LANGUAGE, LANGUAGES, Session
from .socket import ConsoleSocket
from .views import camera_summary, principal_summary

SERVICES = web.AppKey("services", ConsoleServices)
ACCESS_EXTRA = web.RequestKey("access_extra", dict)  # a handler's fields for its access-log line
LANGUAGE_COOKIE = "matthan_lang"
MAX_TOKEN_LENGTH = 512
MAX_GROUPS = 100
SNAPSHOT_REPLY_SHARE = 0.1  # as the gRPC GetSnapshot: the long-poll ends a little before the deadline
HEARTBEAT_S = 30.0  # WebSocket pings: a vanished browser's channels are freed


@functools.cache
def _page() -> bytes:
    return resources.files("cluster.web").joinpath("static/index.html").read_bytes()


# ------------------------------------------------------------------ helpers


def peer_of(request: web.BaseRequest) -> str:
    """The client's address as gRPC writes it in the access log ("ipv4:10.0.0.7:51234")."""
    transport = request.transport
    peername = transport.get_extra_info("peername") if transport is not None else None
    if not peername:
        return "unknown"
    host, port = peername[0], peername[1]
    return f"ipv6:[{host}]:{port}" if ":" in host else f"ipv4:{host}:{port}"


def current_session(request: web.Request, *, touch: bool = True) -> Session | None:
    services = request.app[SERVICES]
    return services.sessions.get(request.cookies.get(services.session_cookie), touch=touch)


def require_session(request: web.Request) -> Session:
    session = current_session(request)
    if session is None:
        raise WebError(401, ErrorCode.UNAUTHENTICATED, "no session, or it expired: log in")
    return session


def cookie_language(request: web.Request) -> str:
    value = request.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE)
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def query(request: web.BaseRequest, allowed: set[str]) -> None:
    unknown = sorted(set(request.query) - allowed)
    if unknown:
        shown = ", ".join(sorted(allowed)) or "none"
        raise bad_request(f"unknown query parameter {unknown[0][:40]!r} (allowed: {shown})")


async def json_body(request: web.Request) -> dict:
    """The JSON object of a request (its size is bounded by web.max_request_bytes)."""
    raw = await request.read()
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise bad_request("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise bad_request("body must be a JSON object")
    return data


def only_fields(data: dict, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise bad_request(f"unknown field {unknown[0][:40]!r}")


def _language(value: object) -> str:
    if value not in LANGUAGES:
        raise bad_request(f"language must be one of {', '.join(LANGUAGES)}, got {str(value)[:20]!r}")
    return str(value)


def json_response(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def session_json(services: ConsoleServices, session: Session) -> dict:
    return {
        "authenticated": True,
        "anonymous_allowed": services.server_config.allow_unauthenticated,
        "user": principal_summary(session.principal),
        "csrf_token": session.csrf_token,
        "language": session.language,
        "expires_at": min(session.created + services.sessions.max_age_s, session.last_used + services.sessions.idle_s),
        "limits": {"tile_fps": services.config.tile_fps, "large_fps": services.config.large_fps},
        "playback": {
            "pre_event_s": services.config.playback.pre_event_s,
            "window_s": services.config.playback.window_s,
            "timeline_s": services.config.playback.timeline_s,
        },
    }


def _set_session_cookie(services: ConsoleServices, response: web.StreamResponse, session_id: str) -> None:
    response.set_cookie(
        services.session_cookie,
        session_id,
        max_age=int(services.config.session_max_age_s),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=services.tls,
    )


def _set_language_cookie(services: ConsoleServices, response: web.StreamResponse, language: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=365 * 86400, path="/", samesite="Strict", secure=services.tls
    )


Handler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]


def logged(method: str, role: Role = Role.VIEWER) -> Callable[[Handler], Callable[[web.Request], Awaitable]]:
    """An API call that needs a session and `role`, written to the access log like a gRPC call."""

    def decorate(fn: Handler) -> Callable[[web.Request], Awaitable]:
        async def handler(request: web.Request) -> web.StreamResponse:
            services = request.app[SERVICES]
            camera = request.match_info.get("camera_id")
            cameras = [camera[:64]] if camera else []
            principal: Principal | None = None
            try:
                session = require_session(request)
                principal = session.principal
                principal.require(role, method)
                response = await fn(request, session)
            except Exception as exc:  # noqa: BLE001 - every failure becomes an HTTP status (web_error_for logs bugs)
                error = web_error_for(exc)
                services.access.call(
                    principal, method, cameras, peer_of(request), status=error.access_status, detail=error.message
                )
                raise error from None
            extra = dict(request.get(ACCESS_EXTRA, {}))
            shown = extra.pop("cameras", cameras)
            services.access.call(principal, method, shown, peer_of(request), status="OK", **extra)
            return response

        return handler

    return decorate


# -------------------------------------------------------------------- pages


async def page(request: web.Request) -> web.Response:
    return web.Response(body=_page(), content_type="text/html", charset="utf-8")


async def camera_page(request: web.Request) -> web.Response:
    """The one-camera view. Logged in but not allowed to see the camera: 403, with the page
    (which says so); without a session the page shows the login first."""
    services = request.app[SERVICES]
    session = current_session(request)
    if session is not None:
        camera_id = request.match_info["camera_id"]
        try:
            check_camera_id("camera", camera_id)
            await services.directory.camera(session.principal, camera_id)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an HTTP status (web_error_for logs bugs)
            error = web_error_for(exc)
            services.access.call(
                session.principal,
                "WebCameraPage",
                [camera_id[:64]],
                peer_of(request),
                status=error.access_status,
                detail=error.message,
            )
            return web.Response(body=_page(), status=error.status, content_type="text/html", charset="utf-8")
    return web.Response(body=_page(), content_type="text/html", charset="utf-8")


# ------------------------------------------------------------------ session


async def get_session(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    query(request, set())
    session = current_session(request)
    if session is None and services.server_config.allow_unauthenticated:
        # The loopback no-token mode: the page opens without a login, as gRPC needs no token.
        principal = services.auth.authenticate(())
        session_id, session = services.sessions.create(principal, peer_of(request), cookie_language(request))
        response = json_response(session_json(services, session))
        _set_session_cookie(services, response, session_id)
        return response
    if session is None:
        return json_response({"authenticated": False, "anonymous_allowed": False, "language": cookie_language(request)})
    return json_response(session_json(services, session))


async def login(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    address = request.remote or "unknown"
    peer = peer_of(request)
    wait = services.limiter.retry_after(address)
    if wait is not None:
        message = f"too many failed logins from {address}: try again in {retry_after_header(wait)} s"
        services.access.call(None, "WebLogin", [], peer, status="RESOURCE_EXHAUSTED", detail=message)
        raise WebError(429, ErrorCode.RATE_LIMITED, message, {"Retry-After": retry_after_header(wait)})
    data = await json_body(request)
    only_fields(data, {"token", "language"})
    token = data.get("token")
    if not isinstance(token, str) or not token.strip():
        raise bad_request("token: required (the same token as for gRPC)")
    if len(token) > MAX_TOKEN_LENGTH:
        raise bad_request(f"token: longer than {MAX_TOKEN_LENGTH} characters")
    language = _language(data.get("language", cookie_language(request)))
    try:
        principal = services.auth.authenticate(((AUTHORIZATION_KEY, f"Bearer {token.strip()}"),))
    except AuthError as exc:
        services.limiter.failed(address)
        services.access.call(None, "WebLogin", [], peer, status="UNAUTHENTICATED", detail=exc.message)
        raise WebError(401, ErrorCode.BAD_TOKEN, exc.message) from None
    services.limiter.succeeded(address)
    services.sessions.end(request.cookies.get(services.session_cookie), "logged in again")
    session_id, session = services.sessions.create(principal, peer, language)
    services.access.call(principal, "WebLogin", [], peer, status="OK", detail=f"session {session.log_id}")
    response = json_response(session_json(services, session))
    _set_session_cookie(services, response, session_id)
    _set_language_cookie(services, response, language)
    return response


async def logout(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    session = services.sessions.end(request.cookies.get(services.session_cookie), "logged out")
    if session is not None:
        services.access.call(
            session.principal, "WebLogout", [], peer_of(request), status="OK", detail=f"session {session.log_id}"
        )
    response = json_response({"authenticated": False})
    response.del_cookie(services.session_cookie, path="/", secure=services.tls, samesite="Strict")
    return response


async def set_language(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    data = await json_body(request)
    only_fields(data, {"language"})
    language = _language(data.get("language"))
    session = current_session(request)
    if session is not None:
        session.language = language
    response = json_response({"language": language})
    _set_language_cookie(services, response, language)
    return response


# ------------------------------------------------------------------ cameras


@logged("WebListCameras")
async def list_cameras(request: web.Request, session: Session) -> web.Response:
    services = request.app[SERVICES]
    query(request, {"group"})
    groups = request.query.getall("group", [])
    if len(groups) > MAX_GROUPS:
        raise bad_request(f"group: at most {MAX_GROUPS} groups")
    check_names("group", groups)
    views = await services.directory.visible(session.principal, frozenset(groups))
    now = services.clock()
    return json_response({"listed_at": now, "cameras": [camera_summary(v, now) for v in views]})


@logged("WebGetCamera")
async def get_camera(request: web.Request, session: Session) -> web.Response:
    services = request.app[SERVICES]
    query(request, set())
    camera_id = check_camera_id("camera", request.match_info["camera_id"])
    view = await services.directory.camera(session.principal, camera_id)
    return json_response(camera_summary(view, services.clock()))


@logged("WebSnapshot")
async def snapshot(request: web.Request, session: Session) -> web.Response:
    services = request.app[SERVICES]
    query(request, {"width"})
    camera_id = check_camera_id("camera", request.match_info["camera_id"])
    width_text = request.query.get("width", "0")
    try:
        width = int(width_text)
    except ValueError:
        raise RequestError("width", f"{width_text[:20]!r} is not a whole number of pixels") from None
    width = int(check_range("width", width, 64, 7680, zero_ok=True))
    await services.directory.camera(session.principal, camera_id)
    timeout = services.server_config.limits.snapshot_timeout_s
    handle = await services.control.handle(camera_id)
    try:
        frame = await asyncio.wait_for(
            handle.latest_jpeg(0, timeout * (1.0 - SNAPSHOT_REPLY_SHARE), max_width=width), timeout
        )
    except asyncio.TimeoutError:
        raise CameraUnresponsive(camera_id, "WebSnapshot", timeout) from None
    if frame is None:
        raise CameraUnavailable(f"camera {camera_id!r} produced no frame within {timeout:.1f} s")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(frame.capture_time))
    return web.Response(
        body=frame.jpeg,
        content_type="image/jpeg",
        headers={"Content-Disposition": f'attachment; filename="{camera_id}-{stamp}.jpg"'},
    )


# ---------------------------------------------------------------- WebSocket


async def websocket(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    check_origin(request)  # no CORS for WebSockets: a foreign page must not ride the session
    query(request, set())
    session = require_session(request)
    open_sockets = services.sockets.setdefault(session.digest, set())
    limit = services.config.max_sockets_per_session
    if len(open_sockets) >= limit:
        raise WebError(
            429, ErrorCode.RATE_LIMITED, f"this session has {limit} pages open (web.max_sockets_per_session)"
        )
    ws = web.WebSocketResponse(
        max_msg_size=services.config.max_request_bytes, heartbeat=HEARTBEAT_S, compress=False, autoping=True
    )
    transport = request.transport
    sock = ConsoleSocket(ws, services, session, peer_of(request), abort=transport.abort if transport else lambda: None)
    open_sockets.add(sock)  # before the handshake answers: a second page at once counts it
    try:
        await ws.prepare(request)
        await sock.run()
    finally:
        open_sockets.discard(sock)
        if not open_sockets:
            services.sockets.pop(session.digest, None)
    return ws


def close_session_sockets(services: ConsoleServices, session: Session, why: str) -> None:
    """A session ended (logout, expiry, evicted): its pages' sockets close with 4401."""
    for sock in list(services.sockets.get(session.digest, ())):
        sock.close(CloseCode.SESSION_ENDED, why)


def add_routes(app: web.Application, static_dir: str) -> None:
    app.router.add_get("/", page)
    app.router.add_get("/health", page)
    app.router.add_get("/events", page)
    app.router.add_get("/search", page)
    app.router.add_get("/camera/{camera_id}", camera_page)
    app.router.add_get("/editor/{camera_id}", camera_page)
    app.router.add_get("/api/session", get_session)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_post("/api/language", set_language)
    app.router.add_get("/api/cameras", list_cameras)
    app.router.add_get("/api/cameras/{camera_id}", get_camera)
    app.router.add_get("/api/cameras/{camera_id}/snapshot", snapshot)
    app.router.add_get("/ws", websocket)
    app.router.add_static("/static/", static_dir, show_index=False, follow_symlinks=False)


__all__ = ["CSRF_HEADER", "SERVICES", "add_routes", "close_session_sockets"]
