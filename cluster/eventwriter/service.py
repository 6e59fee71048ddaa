"""The event writer's work, in plain Python: the Ray actor (`actor.py`) is a thin wrapper.

    service = EventWriterService(settings, SchedulerDirectory(namespace))  # opens the store, starts the loop
    page = unwrap(service.query(EventFilter(cameras={"cam-1"}), Order.NEWEST_FIRST, 50, None))
    service.shutdown(timeout_s=5.0)

Threads. The writer loop (`cluster.events.EventWriter`: a follower per camera and a
committer) runs on an asyncio loop on a thread of its own, because pulls are async
calls to the camera actors. Queries run on the caller's threads (Ray's call pool),
each thread with its own read connection, which WAL lets run beside the writer.
Long-polls of the change feed (`changes_after` with a timeout) sleep on a
`ChangeNotifier` the writer advances after each commit.

Opening. A store that cannot be opened (another writer holds it, a newer version
wrote it, it is damaged, its disk is missing) does not end the process, which Ray
would restart in a loop: opening is retried every `OPEN_RETRY_S` and meanwhile every
query answers with the reason (the front door says UNAVAILABLE with it).

Errors are returned, not raised: an `EventStoreError` (a malformed cursor, an
unknown event, the store not open) is the method's value, and `EventWriterClient`
raises exactly it again (the errors pickle with their type and fields). Returning
keeps expected answers out of Ray's task-error logs and `RayTaskError` wrappers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from prometheus_client import CollectorRegistry

from ..domain import Event
from ..events import (
    Acknowledgement,
    Bucket,
    CameraDirectory,
    ChangeNotifier,
    ChangePage,
    CountRow,
    EventFilter,
    EventPage,
    EventStore,
    EventStoreError,
    EventWriter,
    FeedInfo,
    GroupBy,
    Order,
    StoreClosed,
    WriteResult,
    WriterSettings,
    wait_for_changes,
)
from ..events.writer import WriterState
from ..metrics.events import EventStoreMetrics, EventStoreSnapshot
from ..support.threads import named_thread
from .settings import EventWriterSettings

log = logging.getLogger(__name__)

OPEN_RETRY_S = 5.0
RESTART_PAUSE_S = 1.0  # after the writer loop ended unexpectedly
STATE_TIMEOUT_S = 5.0

T = TypeVar("T")


class StoreNotOpen(StoreClosed):
    """The store is not open (yet): the reason it could not be opened, or that it is opening."""


class EventWriterService:
    def __init__(
        self,
        settings: EventWriterSettings,
        directory: CameraDirectory,
        *,
        writer_settings: WriterSettings | None = None,
        open_retry_s: float = OPEN_RETRY_S,
    ):
        self.settings = settings
        self.metrics = EventStoreMetrics(CollectorRegistry())
        self._directory = directory
        self._writer_settings = writer_settings or WriterSettings.from_config(settings.events)
        self._open_retry_s = open_retry_s
        self._store: EventStore | None = None
        self._not_open: EventStoreError = StoreNotOpen(f"the event store {settings.store_path} is being opened")
        self._notifier = ChangeNotifier()
        self._writer: EventWriter | None = None
        self._stopping = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = named_thread(self._run, name="event-writer")
        self._thread.start()

    # ---- the writer loop's thread ------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException:  # the last line of defence of the thread; the process stays to answer why
            log.exception("event writer thread ended unexpectedly")

    async def _main(self) -> None:
        store = await self._open()
        if store is None:
            return
        self._notifier.advance(store.last_change_seq())
        while not self._stopping.is_set():
            self._writer = EventWriter(
                store, self._directory, self._writer_settings, metrics=self.metrics, on_commit=self._notifier.advance
            )
            log.info("event writer running: store %s, at change %d", store.path, store.last_change_seq())
            try:
                await self._writer.run()
            except asyncio.CancelledError:
                return
            except Exception:  # every loop inside is guarded; this is a bug: start it again
                log.exception("event writer loop ended unexpectedly; starting it again")
            await asyncio.sleep(RESTART_PAUSE_S)

    async def _open(self) -> EventStore | None:
        path = self.settings.store_path
        while not self._stopping.is_set():
            try:
                store = await asyncio.to_thread(
                    EventStore.from_config, self.settings.events, self.settings.state_dir, metrics=self.metrics
                )
            except EventStoreError as exc:
                self._not_open = StoreNotOpen(f"the event store cannot be opened: {exc}")
                log.error("event store %s cannot be opened (%s); trying again in %.0f s", path, exc, self._open_retry_s)
            except Exception as exc:  # e.g. the state directory cannot be created
                self._not_open = StoreNotOpen(f"the event store cannot be opened: {type(exc).__name__}: {exc}")
                log.exception("event store %s cannot be opened; trying again in %.0f s", path, self._open_retry_s)
            else:
                self._store = store
                return store
            await asyncio.sleep(self._open_retry_s)
        return None

    # ---- queries (any thread) ----------------------------------------------------------

    def query(
        self, filter: EventFilter, order: Order, page_size: int, cursor: str | None
    ) -> EventPage | EventStoreError:
        return self._answer(lambda store: store.query(filter, order=order, page_size=page_size, cursor=cursor))

    def get(self, event_id: str) -> Event | EventStoreError:
        return self._answer(lambda store: store.get(event_id))

    def count(
        self, filter: EventFilter, group_by: tuple[GroupBy, ...], bucket: Bucket | None, time_zone: str
    ) -> tuple[CountRow, ...] | EventStoreError:
        return self._answer(lambda store: store.count(filter, group_by=group_by, bucket=bucket, time_zone=time_zone))

    def changes_after(
        self, position: int, limit: int, filter: EventFilter, timeout_s: float
    ) -> ChangePage | EventStoreError:
        return self._answer(
            lambda store: wait_for_changes(store, self._notifier, position, limit, filter=filter, timeout_s=timeout_s)
        )

    def feed(self) -> FeedInfo | EventStoreError:
        return self._answer(lambda store: FeedInfo(store.feed_id, store.last_change_seq()))

    # ---- ingest: events that come from elsewhere than a camera ring (batch jobs) ----------

    def ingest(self, events: Sequence[Event]) -> WriteResult | EventStoreError:
        """Store `events` in one transaction beside the writer loop's batches (the store
        serialises writers). Idempotent: the store keeps one row per event id and only
        a higher revision replaces it, so a segment written twice (a rerun after a
        crash) changes nothing the second time."""

        def write(store: EventStore) -> WriteResult:
            result = store.write(events)
            self._notifier.advance(result.last_change_seq)
            return result

        return self._answer(write)

    def acknowledge(self, event_id: str, who: str, at: float) -> Acknowledgement | EventStoreError:
        return self._answer(lambda store: store.acknowledge(event_id, who, at))

    def acknowledgements(self, event_ids: tuple[str, ...]) -> dict[str, Acknowledgement] | EventStoreError:
        return self._answer(lambda store: store.acknowledgements(event_ids))

    def stats(self) -> EventStoreSnapshot:
        return self.metrics.snapshot()

    def writer_state(self) -> WriterState | None:
        """What the writer loop is doing (cameras followed, cursors); None before it runs."""
        writer = self._writer
        if writer is None or self._loop.is_closed():
            return None

        async def read() -> WriterState:
            return writer.state()

        return asyncio.run_coroutine_threadsafe(read(), self._loop).result(STATE_TIMEOUT_S)

    def pid(self) -> int:
        return os.getpid()

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Commit what was pulled (up to `timeout_s`), stop the loop and close the store."""
        self._stopping.set()
        writer = self._writer
        if writer is not None and self._loop.is_running():
            future = asyncio.run_coroutine_threadsafe(writer.close(timeout_s), self._loop)
            try:
                future.result(timeout_s + STATE_TIMEOUT_S)
            except Exception:
                log.exception("event writer did not stop cleanly")
        self._thread.join(timeout_s + STATE_TIMEOUT_S)
        if self._store is not None:
            self._store.close()
        log.info("event writer stopped")

    def _answer(self, read: Callable[[EventStore], T]) -> T | EventStoreError:
        store = self._store
        if store is None:
            return self._not_open
        try:
            return read(store)
        except EventStoreError as exc:
            exc.__traceback__ = None  # the caller raises it anew; our frames mean nothing there
            return exc
