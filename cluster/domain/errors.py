"""Typed errors of the control plane, the same on both sides of a process boundary.

Each error pickles with its type and its fields (`__reduce__`), so the scheduler
actor can hand one back through Ray and the caller raises exactly what was
raised there: no error kinds as strings, no classification by message text.
The front door maps each type to one gRPC status code (`gateway/rpc.py`).
"""

from __future__ import annotations


class ControlError(Exception):
    """Base of errors the control plane reports to clients (FAILED_PRECONDITION
    unless a subclass says otherwise)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __reduce__(self):
        return (type(self), (self.message,))

    def __str__(self) -> str:
        return self.message


class CameraNotFound(ControlError, KeyError):
    """No camera with this id in the desired set (NOT_FOUND)."""

    def __init__(self, camera_id: str):
        super().__init__(f"camera {camera_id!r} not found")
        self.camera_id = camera_id

    def __reduce__(self):
        return (type(self), (self.camera_id,))


class CameraExists(ControlError):
    """AddCamera of an id already in the desired set with another config (ALREADY_EXISTS).

    The same config again is not an error: AddCamera is idempotent by id, so a client
    may retry one whose answer it lost."""

    def __init__(self, camera_id: str):
        super().__init__(f"camera {camera_id!r} already exists with another config (UpdateCamera changes it)")
        self.camera_id = camera_id

    def __reduce__(self):
        return (type(self), (self.camera_id,))


class CameraUnavailable(ControlError):
    """The camera is configured but cannot answer now: its actor is not running
    (starting, failed, being moved). Try again shortly (UNAVAILABLE)."""


class CameraUnresponsive(CameraUnavailable):
    """A call to a camera actor found no answer within its deadline: the actor is
    alive but frozen or overloaded, or its node is unreachable (UNAVAILABLE)."""

    def __init__(self, camera_id: str, method: str, deadline_s: float):
        super().__init__(f"camera {camera_id!r} did not answer {method} within {deadline_s:g} s")
        self.camera_id = camera_id
        self.method = method
        self.deadline_s = deadline_s

    def __reduce__(self):
        return (type(self), (self.camera_id, self.method, self.deadline_s))


class SchedulerUnavailable(CameraUnavailable):
    """The scheduler actor cannot be reached (restarting, frozen, or not running):
    "try again shortly" (UNAVAILABLE), not a bad request."""


class NodeNotFound(ControlError, KeyError):
    """No alive node with this id (drain/undrain of an unknown or dead node; NOT_FOUND)."""

    def __init__(self, node_id: str, detail: str = ""):
        super().__init__(f"node {node_id!r} not found" + (f": {detail}" if detail else ""))
        self.node_id = node_id
        self.detail = detail

    def __reduce__(self):
        return (type(self), (self.node_id, self.detail))


class PlacementRejected(ControlError):
    """A request the cluster cannot honour as asked (a camera bigger than any node,
    draining the last node); nothing was changed (FAILED_PRECONDITION)."""
