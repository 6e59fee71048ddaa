"""What a reader outside the writer's process may ask of the event store, asynchronously.

The front door's Events service is written against `EventQueries`; in `matthan
serve` it is `cluster.eventwriter.client.EventWriterClient`, which asks the
event writer actor (the process that owns the SQLite file) with a deadline on
every call. Arguments and answers are the store's own types (`query.py`), and so
are the errors: `InvalidQuery`/`InvalidCursor` for bad arguments, `EventNotFound`,
and `WriterUnavailable` (or another `EventStoreError`) when the store cannot answer.
"""

from __future__ import annotations

from typing import Protocol

from cluster.domain import Event

from .acks import Acknowledgement
from .feed import FeedInfo
from .query import Bucket, ChangePage, CountRow, EventFilter, EventPage, GroupBy, Order


class EventQueries(Protocol):
    async def query(self, filter: EventFilter, *, order: Order, page_size: int, cursor: str | None) -> EventPage:
        """One page of matching events (`EventReader.query`); no thumbnails."""
        ...

    async def get(self, event_id: str) -> Event:
        """One event with its thumbnail (`EventReader.get`)."""
        ...

    async def count(
        self, filter: EventFilter, *, group_by: tuple[GroupBy, ...], bucket: Bucket | None, time_zone: str
    ) -> tuple[CountRow, ...]:
        """Counts of matching events (`EventReader.count`)."""
        ...

    async def changes_after(self, position: int, limit: int, *, filter: EventFilter, timeout_s: float) -> ChangePage:
        """The change feed after `position`, long-polling up to `timeout_s` for the first change."""
        ...

    async def feed(self) -> FeedInfo:
        """The change feed's id and its newest position."""
        ...

    async def acknowledge(self, event_id: str, who: str, at: float) -> Acknowledgement:
        """Record who acknowledged an event and when (`EventStore.acknowledge`: the first stays)."""
        ...

    async def acknowledgements(self, event_ids: tuple[str, ...]) -> dict[str, Acknowledgement]:
        """The acknowledgements of these events, by id (`EventReader.acknowledgements`)."""
        ...
