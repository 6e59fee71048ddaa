"""Request guards and response headers of the console.

- Host (loopback binds only): the Host header must name a loopback address, so a
  web page elsewhere cannot reach the console through a DNS name it re-points at
  127.0.0.1 (DNS rebinding), which matters most in the no-token mode.
- Origin: a request that changes state, and every WebSocket handshake, must come
  from the console's own origin when the browser says where it comes from.
- Content type: state-changing requests are JSON (a cross-site form cannot send it
  without a CORS preflight, which the console never grants).
- Body size: a request declaring a body over `web.max_request_bytes` is 413 once its
  route is known, before its session, CSRF token or handler are looked at, whether
  the handler would read the body or not
  (aiohttp's `client_max_size` bounds only bodies that are read, and chunked ones).
- CSRF: with a session, a state-changing request must carry the session's token in
  `X-CSRF-Token`; without one, only login and the language switch are accepted.
- Headers on every response: a Content-Security-Policy without inline scripts or
  styles, no framing, nosniff, no referrer, `Cache-Control: no-store` (pages, API
  answers and frames are never cached; static assets are revalidated), HSTS under TLS.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from ..config.server import is_loopback
from .errors import ErrorCode, WebError

CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# State-changing requests accepted without a session (there is none yet at login).
WITHOUT_SESSION = frozenset({"/api/login", "/api/language"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def add_security_headers(request: web.BaseRequest, response: web.StreamResponse, *, tls: bool) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    static = request.path.startswith("/static/") and response.status in (200, 304)
    response.headers["Cache-Control"] = "no-cache" if static else "no-store"
    if not static:
        response.headers["Pragma"] = "no-cache"
    if tls:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"


def check_host(request: web.BaseRequest) -> None:
    """A loopback-bound console answers only to loopback host names (DNS rebinding)."""
    host = request.host
    hostname = urlsplit(f"//{host}").hostname or ""
    if not (is_loopback(hostname) or hostname.endswith(".localhost")):
        raise WebError(
            421,
            ErrorCode.FORBIDDEN_HOST,
            f"host {host[:80]!r} is not this console's: a loopback-bound console answers only to "
            "localhost or a loopback address",
        )


def check_body_size(request: web.BaseRequest, limit: int) -> None:
    """413 for a declared body over `limit` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise WebError(
            413,
            ErrorCode.TOO_LARGE,
            f"request body too large: {declared} bytes, at most {limit} are accepted (web.max_request_bytes)",
        )


def check_static_file(directory: Path, filename: str) -> None:
    """404 (with the JSON error body) unless `filename` is a regular file inside `directory`.
    aiohttp's static handler finds out only when it sends the file, and then answers an
    empty 404 (a file named as a directory) that no middleware sees."""
    try:
        target = (directory / filename).resolve()
        found = target.is_file() and directory in target.parents
    except (OSError, ValueError):  # a name the file system refuses (NUL, too long)
        found = False
    if not found:
        raise WebError(404, ErrorCode.NOT_FOUND, "no such page or API")


def check_origin(request: web.BaseRequest) -> None:
    """An Origin header, when there is one, must be the console's own."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not sent by a browser for a cross-site request; the CSRF token still applies
    expected = f"{request.scheme}://{request.host}"
    if origin.lower() != expected.lower():
        raise WebError(
            403, ErrorCode.FORBIDDEN_ORIGIN, f"requests from origin {origin[:80]!r} are refused (expected {expected!r})"
        )


def check_state_change(request: web.BaseRequest, session_csrf_matches: bool | None) -> None:
    """Origin, content type and CSRF of a state-changing request. `session_csrf_matches`:
    None without a session, else whether the request carried the session's token."""
    check_origin(request)
    if request.content_type != "application/json":
        raise WebError(
            415,
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"send JSON (Content-Type: application/json), not {request.content_type!r}",
        )
    if session_csrf_matches is None:
        if request.path not in WITHOUT_SESSION:
            raise WebError(401, ErrorCode.UNAUTHENTICATED, "no session: log in first")
        return
    if not session_csrf_matches:
        raise WebError(403, ErrorCode.CSRF_FAILED, f"missing or wrong {CSRF_HEADER} header for this session")
