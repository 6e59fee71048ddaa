"""Client-side errors: one class per status code a caller reacts to differently."""

from __future__ import annotations

import grpc

# Resumable streams (detections, events) reconnect after UNAVAILABLE this many times in a
# row, backing off 0.5, 1, 2, 4, then 5 s between tries: about 2.5 minutes. A front door
# that its supervisor restarts is back well within that; the earlier 5 tries (12.5 s)
# gave up during a plain SIGKILL-and-restart of `matthan serve` on a loaded machine
# (tests/faults/test_front_door_restart.py).
RESUME_ATTEMPTS = 30


class ClientError(Exception):
    """A call failed. `code` is the gRPC status, `details` the server's message."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class Unauthenticated(ClientError):
    """No token, or one the server does not know."""


class PermissionDenied(ClientError):
    """The token's role or camera scope does not allow this."""


class InvalidArgument(ClientError):
    """The request is malformed; `details` names the field."""


class NotFound(ClientError):
    pass


class AlreadyExists(ClientError):
    pass


class Unavailable(ClientError):
    """Server unreachable or shutting down, or the camera is not running."""


class ResourceExhausted(ClientError):
    """A stream fell behind (resume it), or a message was too large."""


class DeadlineExceeded(ClientError):
    pass


_BY_CODE: dict[grpc.StatusCode, type[ClientError]] = {
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
}


def error_from_rpc(exc: grpc.RpcError) -> ClientError:
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    details = (exc.details() if hasattr(exc, "details") else None) or str(exc)
    return _BY_CODE.get(code, ClientError)(code, details)
