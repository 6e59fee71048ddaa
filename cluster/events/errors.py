"""Typed errors of the event store; each message names what is wrong.

They pickle with their type and fields (`__reduce__`), like the domain's control
errors, so a store run in an actor can hand them back through Ray as themselves.
The front door maps `InvalidQuery` (and so `InvalidCursor`) to INVALID_ARGUMENT
with its `field`, `EventNotFound` to NOT_FOUND and the rest (`WriterUnavailable`,
`StoreFailure`, `StoreUnusable`, ...) to UNAVAILABLE.
"""

from __future__ import annotations

from pathlib import Path


class EventStoreError(Exception):
    """Base of the event store's errors."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __reduce__(self):
        return (type(self), (self.message,))

    def __str__(self) -> str:
        return self.message


class StoreUnusable(EventStoreError):
    """The file cannot be used as an event store as it is; nothing was changed in it."""

    def __init__(self, path: str | Path, detail: str):
        super().__init__(f"event store {str(path)!r}: {detail}")
        self.path = str(path)
        self.detail = detail

    def __reduce__(self):
        return (type(self), (self.path, self.detail))


class StoreCorrupt(StoreUnusable):
    """Not an SQLite database, a damaged one, or another application's database."""


class SchemaTooNew(StoreUnusable):
    """Written by a newer Mắt Thần: this code would misread it, so it refuses to open it."""

    def __init__(self, path: str | Path, found: int, supported: int):
        super().__init__(
            path,
            f"schema version {found} is newer than this version of Mắt Thần reads "
            f"(up to {supported}); upgrade Mắt Thần, or open a backup of the file",
        )
        self.found = found
        self.supported = supported

    def __reduce__(self):
        return (type(self), (self.path, self.found, self.supported))


class SchemaOutdated(StoreUnusable):
    """A reader found an older schema: the writer migrates it when it opens the file."""

    def __init__(self, path: str | Path, found: int, current: int):
        super().__init__(
            path, f"schema version {found} is older than {current}; open it with the writer first, which migrates it"
        )
        self.found = found
        self.current = current

    def __reduce__(self):
        return (type(self), (self.path, self.found, self.current))


class StoreLocked(StoreUnusable):
    """Another process (or another EventStore in this one) is the file's writer."""

    def __init__(self, path: str | Path, lock_path: str | Path = ""):
        super().__init__(path, f"another writer holds {str(lock_path)!r}; an event store has one writer")
        self.lock_path = str(lock_path)

    def __reduce__(self):
        return (type(self), (self.path, self.lock_path))


class StoreFailure(EventStoreError):
    """An operation failed in SQLite (disk full, I/O error, lock timeout); the batch or
    query had no effect and may be retried."""

    def __init__(self, operation: str, detail: str):
        super().__init__(f"event store {operation} failed: {detail}")
        self.operation = operation
        self.detail = detail

    def __reduce__(self):
        return (type(self), (self.operation, self.detail))


class StoreClosed(EventStoreError):
    """The store was closed."""

    def __init__(self, message: str = "the event store is closed"):
        super().__init__(message)


class WriterUnavailable(EventStoreError):
    """The event store's writer (the process that owns the file) did not answer in time,
    or is not running; the call may be retried."""


class InvalidQuery(EventStoreError, ValueError):
    """A query argument that cannot be honoured; `field` names it."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def __reduce__(self):
        return (type(self), (self.field, self.reason))


class InvalidCursor(InvalidQuery):
    """A cursor that is malformed, altered, from another store or made for another query."""

    def __init__(self, reason: str, field: str = "cursor"):
        super().__init__(field, reason)

    def __reduce__(self):
        return (type(self), (self.reason, self.field))


class EventNotFound(EventStoreError, LookupError):
    """No event with this id (never stored, or deleted by retention)."""

    def __init__(self, event_id: str):
        super().__init__(f"event {event_id!r} not found")
        self.event_id = event_id

    def __reduce__(self):
        return (type(self), (self.event_id,))
