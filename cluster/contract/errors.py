"""Errors of the wire contract itself (not of the control plane: those are `cluster.domain`'s)."""

from __future__ import annotations


class RequestError(ValueError):
    """A malformed request; `field` names what is wrong (INVALID_ARGUMENT)."""

    def __init__(self, field: str, reason: str, message: str | None = None):
        self.field = field
        self.reason = reason
        self.message = message or f"{field}: {reason}"
        super().__init__(self.message)
