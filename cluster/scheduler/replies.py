"""How control errors cross the scheduler actor boundary: as the errors themselves.

The actor's methods return a `ControlError` (`CameraNotFound`, `NodeNotFound`,
...) as their value instead of raising it, and `SchedulerClient` raises exactly
that error again. The domain errors pickle with their type and fields, so the
caller gets the same type with the same message; returning rather than raising
keeps an expected answer ("no such camera") out of Ray's task-error logs and
out of `RayTaskError` wrappers. Anything else a method raises is a bug and
reaches the caller as Ray's `RayTaskError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..domain import ControlError

T = TypeVar("T")


def capture(fn: Callable[[], T]) -> T | ControlError:
    """Call `fn`; a ControlError it raises becomes the return value."""
    try:
        return fn()
    except ControlError as exc:
        exc.__traceback__ = None  # the caller raises it anew; our frames mean nothing there
        return exc


def unwrap(reply: T | ControlError) -> T:
    """The value of a reply, or raise the ControlError it carries."""
    if isinstance(reply, ControlError):
        raise reply
    return reply
