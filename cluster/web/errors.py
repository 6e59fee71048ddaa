"""What a browser gets when something is wrong: an HTTP status and a JSON body
`{"error": {"code": ..., "message": ...}}`. `code` is a short stable word the page
translates; `message` says in English what is wrong (for logs and developers).

Every error of the control plane and of the gateway's authorization maps to one
status here, so the pages and the JSON API answer alike, and like gRPC does.
"""

from __future__ import annotations

import enum
import logging
import math

import grpc
from aiohttp import web

from ..contract import RequestError
from ..control import CameraNotFound, CameraUnavailable, ControlError
from ..events import EventNotFound, EventStoreError, InvalidQuery
from ..gateway.auth import AuthError
from .playback import FootageDamaged, NoRecording, PlaybackBusy

log = logging.getLogger("matthan.web")


class ErrorCode(str, enum.Enum):
    BAD_REQUEST = "bad_request"
    UNAUTHENTICATED = "unauthenticated"  # no session (or it expired): log in
    BAD_TOKEN = "bad_token"  # a login with an unknown or malformed token
    CSRF_FAILED = "csrf_failed"
    FORBIDDEN_ORIGIN = "forbidden_origin"
    FORBIDDEN_HOST = "forbidden_host"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    NO_RECORDING = "no_recording"  # the camera recorded nothing in the range asked for
    DATA_LOSS = "data_loss"  # recorded footage does not match its chain of custody
    CONFLICT = "conflict"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


# The gRPC status name each code is logged as, so the access log has one vocabulary.
ACCESS_STATUS = {
    ErrorCode.BAD_REQUEST: "INVALID_ARGUMENT",
    ErrorCode.UNAUTHENTICATED: "UNAUTHENTICATED",
    ErrorCode.BAD_TOKEN: "UNAUTHENTICATED",
    ErrorCode.CSRF_FAILED: "PERMISSION_DENIED",
    ErrorCode.FORBIDDEN_ORIGIN: "PERMISSION_DENIED",
    ErrorCode.FORBIDDEN_HOST: "PERMISSION_DENIED",
    ErrorCode.PERMISSION_DENIED: "PERMISSION_DENIED",
    ErrorCode.NOT_FOUND: "NOT_FOUND",
    ErrorCode.NO_RECORDING: "NOT_FOUND",
    ErrorCode.DATA_LOSS: "DATA_LOSS",
    ErrorCode.CONFLICT: "FAILED_PRECONDITION",
    ErrorCode.METHOD_NOT_ALLOWED: "UNIMPLEMENTED",
    ErrorCode.TOO_LARGE: "RESOURCE_EXHAUSTED",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "INVALID_ARGUMENT",
    ErrorCode.RATE_LIMITED: "RESOURCE_EXHAUSTED",
    ErrorCode.UNAVAILABLE: "UNAVAILABLE",
    ErrorCode.INTERNAL: "INTERNAL",
}


class WebError(Exception):
    def __init__(self, status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    @property
    def access_status(self) -> str:
        return ACCESS_STATUS[self.code]

    def body(self) -> dict:
        return {"error": {"code": self.code.value, "message": self.message}}


def bad_request(message: str) -> WebError:
    return WebError(400, ErrorCode.BAD_REQUEST, message)


def web_error_for(exc: BaseException) -> WebError:
    """The answer for an exception raised while serving a request; logs unexpected ones."""
    if isinstance(exc, WebError):
        return exc
    if isinstance(exc, web.HTTPException):  # aiohttp's own: no route, wrong method, body too large
        return _http_error(exc)
    if isinstance(exc, AuthError):
        if exc.code is grpc.StatusCode.UNAUTHENTICATED:
            return WebError(401, ErrorCode.UNAUTHENTICATED, exc.message)
        return WebError(403, ErrorCode.PERMISSION_DENIED, exc.message)
    if isinstance(exc, RequestError):
        return bad_request(exc.message)
    if isinstance(exc, CameraNotFound):
        return WebError(404, ErrorCode.NOT_FOUND, str(exc))
    if isinstance(exc, CameraUnavailable):  # also CameraUnresponsive and SchedulerUnavailable
        return WebError(503, ErrorCode.UNAVAILABLE, str(exc) or "camera is not running")
    if isinstance(exc, ControlError):
        return WebError(409, ErrorCode.CONFLICT, str(exc))
    if isinstance(exc, InvalidQuery):  # the event store's argument checks: "field: reason"
        return bad_request(str(exc))
    if isinstance(exc, EventNotFound):
        return WebError(404, ErrorCode.NOT_FOUND, str(exc))
    if isinstance(exc, EventStoreError):  # the writer not answering, the store failing or not open
        return WebError(503, ErrorCode.UNAVAILABLE, f"event store: {exc}")
    if isinstance(exc, NoRecording):
        return WebError(404, ErrorCode.NO_RECORDING, str(exc))
    if isinstance(exc, FootageDamaged):
        return WebError(500, ErrorCode.DATA_LOSS, str(exc))
    if isinstance(exc, PlaybackBusy):
        return WebError(503, ErrorCode.UNAVAILABLE, str(exc), {"Retry-After": str(math.ceil(exc.retry_after_s))})
    log.error("unexpected error in the web console", exc_info=exc)
    return WebError(500, ErrorCode.INTERNAL, f"internal error ({type(exc).__name__}); the server logged it")


_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


def _http_error(exc: web.HTTPException) -> WebError:
    code = _HTTP_CODES.get(exc.status, ErrorCode.INTERNAL if exc.status >= 500 else ErrorCode.BAD_REQUEST)
    if exc.status == 404:
        message = "no such page or API"
    elif exc.status == 405:
        message = f"method not allowed here (allowed: {exc.headers.get('Allow', '-')})"
    elif exc.status == 413:
        message = f"request body too large: {exc.text}"
    else:
        message = exc.text or exc.reason
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
    return WebError(exc.status, code, message, headers)
