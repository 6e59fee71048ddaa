"""The Events calls of the Python client: search, fetch, follow and count events.

    with MatthanClient.from_env() as client:
        page = client.events.search(EventSelection(camera_ids=["cam-1"], types=["line_crossing"]))
        for event in page.events: ...
        page = client.events.search(selection, cursor=page.next_cursor)   # the next page
        jpeg = client.events.get(page.events[0].event_id).thumbnail
        for update in client.events.stream(EventSelection(severities=["alert"])):
            print(update.event.event_id, update.event.revision)         # update.cursor resumes
        rows = client.events.count(selection, group_by=["camera", "class"], bucket="hour")

Results are the project's own types (`cluster.domain.Event`, `cluster.events.CountRow`);
errors are `ClientError`s, a bad value given here (an unknown event type name) an
`InvalidArgument` naming the field, as the server would.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import grpc

from ..contract import RequestError
from ..contract.events import (
    bucket_to_proto,
    count_row_from_proto,
    event_from_proto,
    filter_to_proto,
    group_by_to_proto,
    order_to_proto,
)
from ..domain import Event, EventType, Severity
from ..events import Bucket, CountRow, GroupBy, Order
from ..proto.matthan.v1 import events_pb2, events_pb2_grpc
from .errors import RESUME_ATTEMPTS, InvalidArgument, error_from_rpc

RESUMABLE = (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)


@dataclass(frozen=True, slots=True)
class EventSelection:
    """Which events (every field narrows; an empty one does not filter). Times are
    epoch seconds, `time_to` exclusive; enum values by member or name ("alert")."""

    camera_ids: Sequence[str] = ()
    groups: Sequence[str] = ()
    types: Sequence[EventType | str] = ()
    severities: Sequence[Severity | str] = ()
    classes: Sequence[str] = ()
    rules: Sequence[str] = ()
    time_from: float | None = None
    time_to: float | None = None
    min_dwell_s: float | None = None
    job_ids: Sequence[str] = ()
    live_only: bool = False

    def to_proto(self) -> events_pb2.EventFilter:
        return _checked(lambda: filter_to_proto(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}))


ALL = EventSelection()


@dataclass(frozen=True, slots=True)
class EventResults:
    """One page of a search; pass `next_cursor` (same selection and order) for the next."""

    events: tuple[Event, ...]
    next_cursor: str
    has_more: bool


@dataclass(frozen=True, slots=True)
class EventCounts:
    rows: tuple[CountRow, ...]
    time_zone: str  # the time zone the buckets are in


@dataclass(frozen=True, slots=True)
class EventUpdate:
    """An event as of its latest start, update or end, and the cursor to resume after it."""

    event: Event
    cursor: str


def _checked(make: Callable):
    try:
        return make()
    except RequestError as exc:
        raise InvalidArgument(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None


class EventStream:
    """Live events: iterate once; `cancel()` (any thread) or leaving the loop ends the call.
    With `auto_resume`, reconnects after RESOURCE_EXHAUSTED (fell behind) or
    UNAVAILABLE (server restart) from the last cursor received, so nothing is lost
    or repeated. `cursor` is what to pass to `stream(cursor=...)` to continue later."""

    def __init__(
        self,
        start: Callable[[str], grpc.Call],
        cursor: str,
        auto_resume: bool,
        max_retries: int,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._start = start
        self.cursor = cursor
        self._auto_resume = auto_resume
        self._max_retries = max_retries
        self._sleep = sleep
        self._call: grpc.Call | None = None
        self._cancelled = False
        self.resumes = 0

    def cancel(self) -> None:
        self._cancelled = True
        if self._call is not None:
            self._call.cancel()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()

    def __iter__(self) -> Iterator[EventUpdate]:
        try:
            yield from self._updates()
        finally:
            self.cancel()  # the caller stopped iterating: end the call on the server too

    def _updates(self) -> Iterator[EventUpdate]:
        failures = 0
        while not self._cancelled:
            self._call = self._start(self.cursor)
            try:
                for msg in self._call:
                    failures = 0
                    self.cursor = msg.cursor  # keep-alives move it too: nothing matched before it
                    if msg.HasField("event"):
                        yield EventUpdate(event_from_proto(msg.event), msg.cursor)
                return
            except grpc.RpcError as exc:
                if self._cancelled and exc.code() is grpc.StatusCode.CANCELLED:
                    return
                if not (self._auto_resume and exc.code() in RESUMABLE and failures < self._max_retries):
                    raise error_from_rpc(exc) from None
                failures += 1
                self.resumes += 1
                fell_behind = exc.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
                self._sleep(0.05 if fell_behind else min(0.5 * 2 ** (failures - 1), 5.0))


class EventsClient:
    """`MatthanClient.events`: the matthan.v1.Events calls on the client's channel."""

    def __init__(self, channel: grpc.Channel, unary: Callable, metadata: tuple[tuple[str, str], ...]):
        self._stub = events_pb2_grpc.EventsStub(channel)
        self._unary = unary
        self._metadata = metadata

    def search(
        self,
        selection: EventSelection = ALL,
        *,
        order: Order | str = Order.NEWEST_FIRST,
        page_size: int = 0,
        cursor: str = "",
    ) -> EventResults:
        """One page (0: the server's default size) of matching events, without thumbnails."""
        request = events_pb2.QueryEventsRequest(
            filter=selection.to_proto(),
            order=_checked(lambda: order_to_proto(order)),
            page_size=page_size,
            cursor=cursor,
        )
        response = self._unary(self._stub.QueryEvents, request)
        events = tuple(event_from_proto(e) for e in response.events)
        return EventResults(events, response.next_cursor, response.has_more)

    def search_all(
        self, selection: EventSelection = ALL, *, order: Order | str = Order.NEWEST_FIRST, page_size: int = 0
    ) -> Iterator[Event]:
        """Every matching event, page after page."""
        cursor = ""
        while True:
            page = self.search(selection, order=order, page_size=page_size, cursor=cursor)
            yield from page.events
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor

    def get(self, event_id: str) -> Event:
        """One event with its thumbnail (`event.thumbnail`: JPEG bytes, or None)."""
        return event_from_proto(self._unary(self._stub.GetEvent, events_pb2.GetEventRequest(event_id=event_id)))

    def stream(
        self,
        selection: EventSelection = ALL,
        *,
        cursor: str = "",
        auto_resume: bool = True,
        max_retries: int = RESUME_ATTEMPTS,
    ) -> EventStream:
        """Live events from now on (or after `cursor`). No deadline."""
        event_filter = selection.to_proto()

        def start(resume_cursor: str) -> grpc.Call:
            request = events_pb2.StreamEventsRequest(filter=event_filter, cursor=resume_cursor)
            return self._stub.StreamEvents(request, metadata=self._metadata)

        return EventStream(start, cursor, auto_resume, max_retries)

    def count(
        self,
        selection: EventSelection = ALL,
        *,
        group_by: Sequence[GroupBy | str] = (),
        bucket: Bucket | str | None = None,
        time_zone: str = "",
    ) -> EventCounts:
        """Counts of matching events, by `group_by` keys and a local time `bucket`
        (in `time_zone`; empty: the cameras' own when they share one, else UTC)."""
        request = events_pb2.CountEventsRequest(
            filter=selection.to_proto(),
            group_by=_checked(lambda: group_by_to_proto(group_by)),
            bucket=_checked(lambda: bucket_to_proto(bucket)),
            time_zone=time_zone,
        )
        response = self._unary(self._stub.CountEvents, request)
        return EventCounts(tuple(count_row_from_proto(r) for r in response.counts), response.time_zone)
