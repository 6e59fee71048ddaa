"""What every service shares: the gateway state, error -> status mapping, the
unary-call wrapper (authenticate, authorize, map errors, access-log), writes to
a stream with a deadline, and request field validators."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from pydantic import ValidationError

from ..config.camera import CAMERA_ID_PATTERN
from ..config.file_access import FileRoots
from ..config.server import Role, ServerConfig
from ..contract import RequestError
from ..contract.convert import validation_error_to_request_error
from ..control import (
    CameraControl,
    CameraExists,
    CameraNotFound,
    CameraUnavailable,
    CameraView,
    ControlError,
    NodeNotFound,
)
from ..events import EventNotFound, EventStoreError, InvalidQuery
from ..support.text import shown
from .access_log import AccessLog
from .access_watch import AccessWatch
from .auth import Authenticator, AuthError, Principal
from .fanout import CloseKind, Fanout, LimitExceeded, StreamClosed
from .last_known import view_age_s

if TYPE_CHECKING:
    from ..events import EventQueries
    from ..recordings import RecordingCatalog
    from .event_feed import EventFeed

log = logging.getLogger("matthan.gateway")

_CAMERA_ID = re.compile(CAMERA_ID_PATTERN)
VIEW_AGE_TRAILER = "matthan-view-age-s"  # on answers from the last known view: its age in seconds
MAX_LIST_ITEMS = 1000  # camera ids / classes in one request
MAX_NAME_LENGTH = 128  # class names, group names in requests
# Sequence numbers are signed 64-bit inside Ray and SQLite; a larger uint64 from the
# wire cannot be a real position and would overflow where it is compared.
MAX_SEQUENCE = 2**63 - 1

_CLOSE_CODES = {
    CloseKind.SLOW_CONSUMER: grpc.StatusCode.RESOURCE_EXHAUSTED,
    CloseKind.CAMERA_REMOVED: grpc.StatusCode.NOT_FOUND,
    CloseKind.SHUTDOWN: grpc.StatusCode.UNAVAILABLE,
    CloseKind.STUCK_CLIENT: grpc.StatusCode.RESOURCE_EXHAUSTED,
    CloseKind.ACCESS_REVOKED: grpc.StatusCode.PERMISSION_DENIED,
    CloseKind.CLOSED: grpc.StatusCode.CANCELLED,
}


class StatusError(Exception):
    """Any other status a handler wants to end with (e.g. UNIMPLEMENTED)."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class StuckClient(Exception):
    """A write did not complete within limits.stuck_write_timeout_s."""


class ClientGone(Exception):
    """A write failed because the call is over (client cancelled or disconnected)."""


async def write_or_give_up(context: grpc.aio.ServicerContext, response: object, timeout_s: float) -> None:
    """Write one stream message; `StuckClient` if the client takes none for `timeout_s`,
    `ClientGone` if the call is over."""
    try:
        await asyncio.wait_for(context.write(response), timeout_s)
    except asyncio.TimeoutError:
        raise StuckClient() from None
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - grpc.aio raises its internal ExecuteBatchError when the peer has gone
        log.debug("stream write failed: %r", exc)
        raise ClientGone(f"the client went away (write failed: {type(exc).__name__})") from None


@dataclass
class GatewayState:
    """Shared by the services of one server."""

    control: CameraControl
    config: ServerConfig
    auth: Authenticator
    fanout: Fanout
    access: AccessLog
    watch: AccessWatch
    events: EventQueries | None = None  # the event store (matthan serve: EventWriterClient)
    event_feed: EventFeed | None = None  # the change feed, one upstream follow for every StreamEvents
    recordings: RecordingCatalog | None = None  # where cameras record (fills an unset recording.directory)

    @property
    def file_roots(self) -> FileRoots:
        """Where files named in requests must be (`server.file_roots`)."""
        return FileRoots.of(self.config.file_roots)

    def authenticate(self, context: grpc.aio.ServicerContext) -> Principal:
        return self.auth.authenticate(context.invocation_metadata())

    async def visible_camera(self, principal: Principal, camera_id: str) -> CameraView:
        """The camera if the caller may see it: NOT_FOUND only for callers who may see it by id."""
        if principal.sees_by_id(camera_id):
            return await self.control.get_camera(camera_id)
        try:
            view = await self.control.get_camera(camera_id)
        except CameraNotFound:
            raise principal.camera_denied(camera_id) from None
        if not principal.sees(view.config):
            raise principal.camera_denied(camera_id)
        return view


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status code and message a client gets for an exception; logs unexpected ones."""
    if isinstance(exc, (AuthError, StatusError)):
        return exc.code, exc.message
    if isinstance(exc, RequestError):
        return grpc.StatusCode.INVALID_ARGUMENT, exc.message
    if isinstance(exc, ValidationError):
        return grpc.StatusCode.INVALID_ARGUMENT, validation_error_to_request_error(exc).message
    if isinstance(exc, CameraNotFound):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, CameraExists):
        return grpc.StatusCode.ALREADY_EXISTS, str(exc)
    if isinstance(exc, NodeNotFound):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, CameraUnavailable):  # also CameraUnresponsive (no answer in time), SchedulerUnavailable
        return grpc.StatusCode.UNAVAILABLE, str(exc) or "camera is not running"
    if isinstance(exc, StreamClosed):
        return _CLOSE_CODES[exc.kind], exc.message
    if isinstance(exc, LimitExceeded):
        return grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc)
    if isinstance(exc, ControlError):
        return grpc.StatusCode.FAILED_PRECONDITION, str(exc)
    if isinstance(exc, InvalidQuery):  # the event store's argument checks, InvalidCursor too: "field: reason"
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, EventNotFound):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, EventStoreError):  # the writer not answering, the store failing or not open
        return grpc.StatusCode.UNAVAILABLE, f"event store: {exc}"
    log.exception("unexpected error in a gateway call", exc_info=exc)
    return grpc.StatusCode.INTERNAL, f"internal error ({type(exc).__name__}); the server logged it"


def request_cameras(request: object) -> list[str]:
    """Camera ids a request names, for the access log (bounded)."""
    camera_id = getattr(request, "camera_id", None) or getattr(getattr(request, "camera", None), "id", None)
    if camera_id:
        return [camera_id[:64]]
    named: Any = getattr(request, "camera_ids", None)
    if named is None:  # the Events requests name them in their filter
        named = getattr(getattr(request, "filter", None), "camera_ids", ())
    return [c[:64] for c in list(named)[:50]]


# (service, request, context, principal) -> response message
Handler = Callable[[Any, Any, grpc.aio.ServicerContext, Principal], Awaitable[Any]]


def unary(role: Role, describe: Callable[[Any], dict] | None = None) -> Callable[[Handler], Callable]:
    """Wrap `async def Method(self, request, context, principal)` as a unary handler:
    authenticate, require `role`, map errors to status codes, write the access log
    (with `describe(request)`'s fields: what was searched, for the Events calls)."""

    def decorate(fn: Handler) -> Callable:
        method = fn.__name__

        @functools.wraps(fn)
        async def handler(self, request, context: grpc.aio.ServicerContext):
            state: GatewayState = self.state
            principal: Principal | None = None
            extra = describe(request) if describe is not None else {}
            try:
                principal = state.authenticate(context)
                principal.require(role, method)
                response = await fn(self, request, context, principal)
            except asyncio.CancelledError:  # the client cancelled or went away: still who asked what
                state.access.call(
                    principal, method, request_cameras(request), context.peer(), status="CANCELLED", **extra
                )
                raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes a status code (status_for logs bugs)
                code, message = status_for(exc)
                state.access.call(
                    principal,
                    method,
                    request_cameras(request),
                    context.peer(),
                    status=code.name,
                    detail=message,
                    **extra,
                )
                await context.abort(code, message)
            age = view_age_s()
            if age is not None:  # answered from the last known view: the scheduler is not answering
                context.set_trailing_metadata(((VIEW_AGE_TRAILER, f"{age:.1f}"),))
            detail = "" if age is None else f"last known view, {age:.1f} s old"
            state.access.call(
                principal, method, request_cameras(request), context.peer(), status="OK", detail=detail, **extra
            )
            return response

        return handler

    return decorate


# ------------------------------------------------------------------ validators


def check_camera_id(field: str, value: str) -> str:
    if not value:
        raise RequestError(field, "must not be empty")
    if not _CAMERA_ID.fullmatch(value):
        raise RequestError(field, f"{shown(value)} is not a camera id (1-63 lowercase letters, digits, '-' or '_')")
    return value


def check_camera_ids(field: str, values: list[str]) -> list[str]:
    if len(values) > MAX_LIST_ITEMS:
        raise RequestError(field, f"at most {MAX_LIST_ITEMS} cameras, got {len(values)}")
    return list(dict.fromkeys(check_camera_id(f"{field}[{i}]", v) for i, v in enumerate(values)))


def check_names(field: str, values: list[str]) -> list[str]:
    if len(values) > MAX_LIST_ITEMS:
        raise RequestError(field, f"at most {MAX_LIST_ITEMS} entries, got {len(values)}")
    for i, v in enumerate(values):
        if not v.strip():
            raise RequestError(f"{field}[{i}]", "must not be empty")
        if len(v) > MAX_NAME_LENGTH:
            raise RequestError(f"{field}[{i}]", f"longer than {MAX_NAME_LENGTH} characters")
    return list(values)


def check_sequence(field: str, value: int) -> int:
    if not 0 <= value <= MAX_SEQUENCE:
        raise RequestError(field, f"{value} is out of range (0..2^63-1)")
    return value


def check_range(field: str, value: float, low: float, high: float, zero_ok: bool = False) -> float:
    if not math.isfinite(value):
        raise RequestError(field, f"must be a finite number, got {value}")
    if zero_ok and value == 0:
        return value
    if not low <= value <= high:
        allowed = f"0 or {low:g}..{high:g}" if zero_ok else f"{low:g}..{high:g}"
        raise RequestError(field, f"{value:g} is out of range ({allowed})")
    return value


# Frame streams share an upstream fetch per (camera, width, quality): sizes snap
# down to these steps and qualities to multiples of 5, so clients asking for
# nearly the same picture share it instead of multiplying the camera's encoding.
WIDTH_STEPS = (64, 96, 128, 160, 240, 320, 480, 640, 800, 960, 1280, 1600, 1920, 2560, 3840, 7680)


def check_frame_options(request) -> tuple[int, int]:
    """(max_width, quality) of a snapshot or frame stream request, as asked."""
    max_width = int(check_range("max_width", request.max_width, 64, 7680, zero_ok=True))
    quality = int(check_range("quality", request.quality, 10, 100, zero_ok=True))
    return max_width, quality


def stream_rendition(max_width: int, quality: int) -> tuple[int, int]:
    """The shared rendition a frame stream gets: never wider or better than asked."""
    if max_width:
        max_width = max(step for step in WIDTH_STEPS if step <= max_width)
    if quality:
        quality = max(10, quality - quality % 5)
    return max_width, quality
