"""What the event store (and its writer loop) reports as it works, as a protocol.

`cluster.metrics.events.EventStoreMetrics` is the implementation (Prometheus, with
its registry and clock injected); the store only knows this shape, so it imports
nothing of the metrics package and the camera actor (below metrics in the layers)
can run a batcher. `NullRecorder` records nothing, for callers without metrics; it
is a `writer.WriterRecorder` too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable


@runtime_checkable
class StoreRecorder(Protocol):
    def events_written(self, camera_id: str, class_name: str, count: int = 1) -> None: ...

    def events_by_type(self, camera_id: str, event_type: str, count: int = 1) -> None: ...

    def operation_failed(self, operation: str = "write") -> None: ...

    def time_write(self) -> AbstractContextManager[None]: ...

    def batch_committed(self, events: int) -> None: ...

    def set_buffered(self, events: int) -> None: ...

    def events_dropped(self, reason: str, count: int = 1) -> None: ...

    def retention_deleted(self, reason: str, count: int) -> None: ...

    def set_size(self, size_bytes: int) -> None: ...


class NullRecorder:
    """Records nothing."""

    def events_written(self, camera_id: str, class_name: str, count: int = 1) -> None:
        pass

    def events_by_type(self, camera_id: str, event_type: str, count: int = 1) -> None:
        pass

    def operation_failed(self, operation: str = "write") -> None:
        pass

    @contextlib.contextmanager
    def time_write(self) -> Iterator[None]:
        yield

    def batch_committed(self, events: int) -> None:
        pass

    def set_buffered(self, events: int) -> None:
        pass

    def events_dropped(self, reason: str, count: int = 1) -> None:
        pass

    def retention_deleted(self, reason: str, count: int) -> None:
        pass

    def set_size(self, size_bytes: int) -> None:
        pass

    def revisions_lost(self, camera_id: str, count: int) -> None:
        pass

    def set_cameras_followed(self, cameras: int) -> None:
        pass
