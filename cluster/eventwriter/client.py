"""`EventWriterClient`: calls to the event writer actor, each with a deadline.

It is the front door's `cluster.events.EventQueries` (the Events service) and its
`cluster.metrics.events.EventStoreStatsSource` (the metrics refresher). Every call
is a read that may be repeated, so an attempt that finds no answer (the actor is
being restarted by Ray after a crash, or is busy) is retried, with a fresh lookup of
the named actor, until the call's deadline: `attempt_s` per attempt (plus the
long-poll's own time for `changes_after`), `deadline_s` in all. A call that ends
without an answer raises `WriterUnavailable` (UNAVAILABLE at the front door), never
hangs. The store's own errors (`InvalidQuery`, `InvalidCursor`, `EventNotFound`,
`StoreUnusable`, ...) come back as values and are raised as exactly themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import ray
from ray.exceptions import RayError

from ..domain import Event
from ..events import (
    Acknowledgement,
    Bucket,
    ChangePage,
    CountRow,
    EventFilter,
    EventPage,
    EventStoreError,
    FeedInfo,
    GroupBy,
    Order,
    WriteResult,
    WriterUnavailable,
)
from ..events.writer import WriterState
from ..metrics.events import EventStoreSnapshot
from ..support.detached import Call, SingletonCaller, Unanswered
from .actor import get_event_writer
from .settings import EVENT_WRITER_ACTOR_NAME

logger = logging.getLogger(__name__)

ATTEMPT_S = 10.0  # one query: tens of milliseconds at a million events, so this is generous
DEADLINE_S = 20.0  # retries included, while Ray restarts the actor
SHUTDOWN_TIMEOUT_S = 20.0


class EventWriterClient:
    def __init__(self, actor: Any, namespace: str, *, attempt_s: float = ATTEMPT_S, deadline_s: float = DEADLINE_S):
        for name, value in (("attempt_s", attempt_s), ("deadline_s", deadline_s)):
            if not value > 0:
                raise ValueError(f"EventWriterClient {name} must be a positive number of seconds, got {value!r}")
        self._caller = SingletonCaller(actor, EVENT_WRITER_ACTOR_NAME, namespace)
        self.namespace = namespace
        self.attempt_s = attempt_s
        self.deadline_s = deadline_s

    @classmethod
    def connect(cls, namespace: str) -> EventWriterClient:
        """A client of the running event writer of `namespace` (Ray must be connected)."""
        actor = get_event_writer(namespace)
        if actor is None:
            raise WriterUnavailable(
                f"no event writer actor in Ray namespace {namespace!r}: is `matthan serve` running?"
            )
        return cls(actor, namespace)

    # ---- EventQueries ------------------------------------------------------------------

    async def query(self, filter: EventFilter, *, order: Order, page_size: int, cursor: str | None) -> EventPage:
        return await self._call("query", lambda a: a.query.remote(filter, order, page_size, cursor))

    async def get(self, event_id: str) -> Event:
        return await self._call("get", lambda a: a.get.remote(event_id))

    async def count(
        self, filter: EventFilter, *, group_by: tuple[GroupBy, ...], bucket: Bucket | None, time_zone: str
    ) -> tuple[CountRow, ...]:
        return await self._call("count", lambda a: a.count.remote(filter, tuple(group_by), bucket, time_zone))

    async def changes_after(self, position: int, limit: int, *, filter: EventFilter, timeout_s: float) -> ChangePage:
        return await self._call(
            "changes_after", lambda a: a.changes_after.remote(position, limit, filter, timeout_s), wait_s=timeout_s
        )

    async def feed(self) -> FeedInfo:
        return await self._call("feed", lambda a: a.feed.remote())

    # ---- ingest (batch jobs) -----------------------------------------------------------

    async def ingest(self, events: Sequence[Event]) -> WriteResult:
        """Store `events` (idempotent by id and revision, so retrying is safe: the retry
        of an attempt that did commit changes nothing)."""
        batch = tuple(events)
        return await self._call("ingest", lambda a: a.ingest.remote(batch))

    async def acknowledge(self, event_id: str, who: str, at: float) -> Acknowledgement:
        return await self._call("acknowledge", lambda a: a.acknowledge.remote(event_id, who, at))

    async def acknowledgements(self, event_ids: tuple[str, ...]) -> dict[str, Acknowledgement]:
        return await self._call("acknowledgements", lambda a: a.acknowledgements.remote(tuple(event_ids)))

    # ---- metrics and administration ------------------------------------------------------

    async def event_store_snapshot(self) -> EventStoreSnapshot:
        return await self._call("stats", lambda a: a.stats.remote())

    async def pid(self) -> int:
        """The actor's process id (tests kill it)."""
        return await self._call("pid", lambda a: a.pid.remote())

    async def writer_state(self) -> WriterState | None:
        return await self._call("writer_state", lambda a: a.writer_state.remote())

    async def shutdown(self, timeout_s: float = SHUTDOWN_TIMEOUT_S) -> None:
        """Commit what the writer pulled and end the actor (no restart). Bounded: the
        cluster may be going down already (Ctrl-C reaches a local raylet too)."""
        try:
            await self._caller.once("shutdown", lambda a: a.shutdown.remote(timeout_s / 2), timeout_s)
        except (Unanswered, RayError) as exc:
            logger.warning("the event writer did not shut down cleanly (%s)", exc)
        try:
            ray.kill(self._caller.actor, no_restart=True)
        except (RayError, ValueError) as exc:
            logger.debug("could not kill the event writer: %r", exc)

    # ---- internals -----------------------------------------------------------------------

    async def _call(self, method: str, call: Call, *, wait_s: float = 0.0) -> Any:
        """`wait_s`: how long the actor itself may wait before it answers (a long-poll)."""
        try:
            reply = await self._caller.retrying(
                method, call, attempt_s=self.attempt_s + wait_s, deadline_s=self.deadline_s + wait_s
            )
        except Unanswered as exc:
            raise WriterUnavailable(
                f"the event writer did not answer {method} within {exc.waited_s:g} s: {exc.cause}"
            ) from None
        if isinstance(reply, EventStoreError):
            raise reply
        return reply
