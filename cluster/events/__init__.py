"""The event store: events persisted in SQLite, queried, counted and followed.

Plain Python over the standard library's `sqlite3`, no Ray: the event-store actor
(or the front door's process) drives it. `EventStore` is the one writer of a file
(`store.py` states the durability, idempotence, pagination and change-feed
guarantees); `EventReader` reads from another process; `EventBatcher` collects
events where they are made and hands them to the writer in batches, holding a
bounded buffer while the writer is away. They report through a `StoreRecorder`
(`cluster.metrics.events.EventStoreMetrics` in production).

`EventWriter` (`writer.py`) is the writer loop of `matthan serve`: it follows every
camera's event ring and commits what it pulls with its ring cursors in one
transaction. `feed.py` lets readers long-poll the change feed; `api.EventQueries`
is what the front door asks of the store from another process.
"""

from .acks import Acknowledgement
from .api import EventQueries
from .batcher import EventBatcher, FlushResult
from .errors import (
    EventNotFound,
    EventStoreError,
    InvalidCursor,
    InvalidQuery,
    SchemaOutdated,
    SchemaTooNew,
    StoreClosed,
    StoreCorrupt,
    StoreFailure,
    StoreLocked,
    StoreUnusable,
    WriterUnavailable,
)
from .feed import ChangeNotifier, FeedInfo, wait_for_changes
from .positions import RingCursor
from .query import (
    ALL_EVENTS,
    MAX_PAGE_SIZE,
    Bucket,
    Change,
    ChangePage,
    CountRow,
    EventFilter,
    EventPage,
    GroupBy,
    Order,
)
from .reader import EventReader
from .recorder import NullRecorder, StoreRecorder
from .retention import RetentionPolicy, RetentionResult
from .schema import SCHEMA_VERSION
from .store import EventStore, WriteResult
from .writer import CameraDirectory, CameraEvents, EventWriter, WriterSettings

__all__ = [
    "ALL_EVENTS",
    "MAX_PAGE_SIZE",
    "SCHEMA_VERSION",
    "Acknowledgement",
    "Bucket",
    "CameraDirectory",
    "CameraEvents",
    "Change",
    "ChangeNotifier",
    "ChangePage",
    "CountRow",
    "EventBatcher",
    "EventFilter",
    "EventNotFound",
    "EventPage",
    "EventQueries",
    "EventReader",
    "EventStore",
    "EventStoreError",
    "EventWriter",
    "FeedInfo",
    "FlushResult",
    "GroupBy",
    "InvalidCursor",
    "InvalidQuery",
    "NullRecorder",
    "Order",
    "RetentionPolicy",
    "RetentionResult",
    "RingCursor",
    "SchemaOutdated",
    "SchemaTooNew",
    "StoreClosed",
    "StoreCorrupt",
    "StoreFailure",
    "StoreLocked",
    "StoreRecorder",
    "StoreUnusable",
    "WriteResult",
    "WriterSettings",
    "WriterUnavailable",
    "wait_for_changes",
]
