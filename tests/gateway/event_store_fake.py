"""`EventQueries` over a real `EventStore` in the test's process: the event writer
actor's role (`cluster.eventwriter.service`) without Ray, so the Events service is
tested against real SQLite. Tests write with `write` (any thread): it commits and
wakes the change-feed long-polls, as the writer loop does after each commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from cluster.domain import Event
from cluster.events import (
    Bucket,
    ChangeNotifier,
    ChangePage,
    CountRow,
    EventFilter,
    EventPage,
    EventStore,
    FeedInfo,
    GroupBy,
    Order,
    WriteResult,
    WriterUnavailable,
    wait_for_changes,
)


class StoreQueries:
    def __init__(self, store: EventStore):
        self.store = store
        self.notifier = ChangeNotifier(store.last_change_seq())
        self.down = False  # True: every call fails as when the writer actor does not answer
        self.calls: dict[str, int] = {}

    def write(self, events: Iterable[Event]) -> WriteResult:
        result = self.store.write(list(events))
        self.notifier.advance(self.store.last_change_seq())
        return result

    async def _run(self, method: str, fn, *args, **kwargs):
        self.calls[method] = self.calls.get(method, 0) + 1
        if self.down:
            raise WriterUnavailable(f"the event writer did not answer {method} (test: down)")
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def query(self, filter: EventFilter, *, order: Order, page_size: int, cursor: str | None) -> EventPage:
        return await self._run("query", self.store.query, filter, order=order, page_size=page_size, cursor=cursor)

    async def get(self, event_id: str) -> Event:
        return await self._run("get", self.store.get, event_id)

    async def count(
        self, filter: EventFilter, *, group_by: tuple[GroupBy, ...], bucket: Bucket | None, time_zone: str
    ) -> tuple[CountRow, ...]:
        return await self._run("count", self.store.count, filter, group_by=group_by, bucket=bucket, time_zone=time_zone)

    async def changes_after(self, position: int, limit: int, *, filter: EventFilter, timeout_s: float) -> ChangePage:
        return await self._run(
            "changes_after",
            wait_for_changes,
            self.store,
            self.notifier,
            position,
            limit,
            filter=filter,
            timeout_s=timeout_s,
        )

    async def feed(self) -> FeedInfo:
        return await self._run("feed", lambda: FeedInfo(self.store.feed_id, self.store.last_change_seq()))
