"""Fan-out of the event store's change feed to every `StreamEvents` subscriber.

No gRPC in here, so it is unit-testable with any `EventQueries`.

- One upstream loop follows the change feed (`EventQueries.changes_after`, a long-poll
  the writer wakes at each commit) however many streams are open; it starts with
  the first subscriber and stops when the last one leaves. It never waits for a
  subscriber: it only appends to their bounded queues.
- Each subscription has its filter (its cameras in scope included) and a cursor: the
  change-feed position up to which every change was queued or did not match. A
  subscription starts *catching up*: it reads the feed itself from its cursor (a
  resumed stream from the client's cursor, a new one from the feed's position when it
  was opened), at most as many changes as its queue has room for, until it reaches
  the loop's position; from then on it takes the loop's changes.
- Never silently lossy: a subscriber whose queue is full is closed
  (`CloseKind.SLOW_CONSUMER`); it resumes from the cursor of the last message it
  received and catches up from the store.
- The change feed keeps each event's newest revision only: a subscriber that reads
  from the store (catching up) gets quick successive updates of one event as one.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from dataclasses import dataclass

from ..events import ALL_EVENTS, Change, ChangePage, EventFilter, EventQueries, EventStoreError
from .event_scope import EventScope
from .subscriptions import CloseKind, StreamClosed

log = logging.getLogger("matthan.gateway.events")


@dataclass(frozen=True, slots=True)
class EventFeedSettings:
    queue_size: int = 256  # changes waiting per stream; beyond it the stream is cut off (resume it)
    pull_limit: int = 200  # changes per read of the feed
    pull_timeout_s: float = 5.0  # long-poll of the upstream loop
    retry_initial_s: float = 0.2  # the writer not answering: backoff
    retry_max_s: float = 5.0


@dataclass(frozen=True, slots=True)
class FeedItem:
    """A change for the client, or (`change` None) only the cursor to resume from."""

    change: Change | None
    position: int


class EventSubscription:
    """One StreamEvents call: a filter, a cursor, a bounded queue."""

    def __init__(self, feed: EventFeed, filter: EventFilter, position: int, scope: EventScope, queue_size: int):
        self._feed = feed
        self.filter = filter
        self.scope = scope  # what the request asked for: re-resolved when camera groups change
        self.cursor = position
        self._queue: deque[FeedItem] = deque()
        self._capacity = queue_size
        self._catching_up = True
        self._wakeup = asyncio.Event()
        self.closed: StreamClosed | None = None
        self.delivered = 0

    @property
    def cameras(self) -> frozenset[str] | None:
        return self.filter.cameras  # type: ignore[return-value]  # EventFilter keeps frozensets

    def set_cameras(self, cameras: frozenset[str] | None) -> None:
        """The caller's cameras changed (groups edited): filter by the new set from now
        on, and drop what is queued of cameras it may no longer see."""
        if cameras == self.filter.cameras:
            return
        self.filter = dataclasses.replace(self.filter, cameras=cameras)
        if cameras is not None:
            kept = [i for i in self._queue if i.change is None or i.change.event.camera_id in cameras]
            self._queue = deque(kept)

    def close(self, kind: CloseKind = CloseKind.CLOSED, message: str = "subscription closed") -> None:
        """Idempotent; leaves the feed (stopping it when nobody is left)."""
        if self.closed is not None:
            return
        self.closed = StreamClosed(kind, message)
        self._wakeup.set()
        self._feed.forget(self)

    async def next(self, timeout_s: float | None = None) -> FeedItem | None:
        """The next change (oldest first); None when nothing came within `timeout_s`.
        Raises StreamClosed when the subscription ends."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        while True:
            if self.closed is not None:
                raise self.closed
            if self._queue:
                self.delivered += 1
                return self._queue.popleft()
            if self._catching_up:
                await self._catch_up()
                continue
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            self._wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    # ---- called by the feed's loop (synchronously: nothing interleaves) ------------------

    def _publish(self, change: Change) -> None:
        if self.closed is not None or self._catching_up or change.change_seq <= self.cursor:
            return
        if self.filter.matches(change.event):
            if len(self._queue) >= self._capacity:
                self.close(
                    CloseKind.SLOW_CONSUMER,
                    f"event stream fell behind: {self._capacity} events were waiting for the client; "
                    "reconnect with the cursor of the last message received",
                )
                return
            self._queue.append(FeedItem(change, change.change_seq))
            self._wakeup.set()
        self.cursor = change.change_seq

    def _advance(self, position: int) -> None:
        """The loop read the feed up to `position`: nothing else matched before it."""
        if self.closed is None and not self._catching_up and position > self.cursor:
            self.cursor = position

    def _wake(self) -> None:
        self._wakeup.set()

    # ---- catching up from the store ------------------------------------------------------

    async def _catch_up(self) -> None:
        room = self._capacity - len(self._queue)
        limit = max(1, min(room, self._feed.settings.pull_limit))
        try:
            page = await self._feed.read(self.cursor, limit, self.filter)
        except EventStoreError as exc:  # the writer is away: the feed's loop retries and logs
            log.debug("event stream catch-up read failed: %r", exc)
            await asyncio.sleep(self._feed.settings.retry_initial_s)
            return
        if self.closed is not None:
            return
        for change in page.changes:
            if change.change_seq > self.cursor and (self.cameras is None or change.event.camera_id in self.cameras):
                self._queue.append(FeedItem(change, change.change_seq))
        self.cursor = max(self.cursor, page.position)
        live = self._feed.position
        if len(page.changes) < limit and live is not None and self.cursor >= live:
            self._catching_up = False  # what the loop publishes from now on follows on
        elif live is None and len(page.changes) < limit:
            self._wakeup.clear()  # the loop has not read the feed yet: wait for its first position
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._feed.settings.pull_timeout_s)


class EventFeed:
    """Owns the upstream loop and the subscriptions. Subscribe and close on the event loop."""

    def __init__(self, events: EventQueries, settings: EventFeedSettings | None = None):
        self.events = events
        self.settings = settings or EventFeedSettings()
        self.position: int | None = None  # how far the loop has read the feed
        self._subscriptions: set[EventSubscription] = set()
        self._task: asyncio.Task | None = None
        self._generation = 0  # of the loop: a cancelled loop that missed its cancel stops by itself
        self._closed: StreamClosed | None = None

    def subscribe(self, filter: EventFilter, position: int, scope: EventScope | None = None) -> EventSubscription:
        """A subscription that gets every matching change after `position`."""
        if self._closed is not None:
            raise self._closed
        sub = EventSubscription(self, filter, position, scope or EventScope(), self.settings.queue_size)
        self._subscriptions.add(sub)
        if self._task is None or self._task.done():
            self.position = None
            self._generation += 1
            self._task = asyncio.get_running_loop().create_task(self._run(self._generation), name="event-feed")
        return sub

    async def read(self, position: int, limit: int, filter: EventFilter) -> ChangePage:
        """A non-blocking read of the feed, for a subscriber catching up."""
        return await self.events.changes_after(position, limit, filter=filter, timeout_s=0.0)

    def forget(self, sub: EventSubscription) -> None:
        self._subscriptions.discard(sub)
        if not self._subscriptions and self._task is not None:
            self._generation += 1
            self._task.cancel()
            self._task = None

    @property
    def subscription_count(self) -> int:
        return len(self._subscriptions)

    async def close(self, message: str = "server shutting down") -> None:
        """End every subscription (CloseKind.SHUTDOWN) and stop the loop."""
        self._closed = StreamClosed(CloseKind.SHUTDOWN, message)
        task = self._task
        for sub in list(self._subscriptions):
            sub.close(CloseKind.SHUTDOWN, message)
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=10.0)

    async def _run(self, generation: int) -> None:
        """Follow the feed until cancelled. Never ends on an error: the writer not answering
        is retried with backoff, and so, logged loudly, is anything unexpected."""
        settings = self.settings
        delay = settings.retry_initial_s
        while generation == self._generation:
            try:
                if self.position is None:
                    self.position = (await self.events.feed()).position
                    for sub in list(self._subscriptions):
                        sub._wake()
                    continue
                page = await self.events.changes_after(
                    self.position, settings.pull_limit, filter=ALL_EVENTS, timeout_s=settings.pull_timeout_s
                )
                if generation != self._generation:
                    return
                for change in page.changes:
                    for sub in list(self._subscriptions):
                        sub._publish(change)
                self.position = max(self.position, page.position)
                for sub in list(self._subscriptions):
                    sub._advance(self.position)
                delay = settings.retry_initial_s
                continue
            except asyncio.CancelledError:
                raise
            except EventStoreError as exc:
                log.warning("event feed: reading the change feed failed (%s); retrying in %.1f s", exc, delay)
            except Exception:
                log.exception("event feed: reading the change feed failed unexpectedly; retrying in %.1f s", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.retry_max_s)
