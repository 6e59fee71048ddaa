"""matthan.v1.Events: search, fetch, follow and count events.

Every call reads the event store through `GatewayState.events` (an `EventQueries`:
in `matthan serve` the event writer actor's client, a deadline on every call) and is
limited to the cameras the caller may see (`event_scope.py`). An event of a camera
the caller may not see is NOT_FOUND, like an id that does not exist. Every call is
written to the access log with what it asked for.
"""

from __future__ import annotations

import asyncio
import logging
import re

import grpc

from ..config.server import Role
from ..contract import RequestError
from ..contract.events import (
    bucket_from_proto,
    count_row_to_proto,
    event_to_proto,
    filter_from_proto,
    group_by_from_proto,
    order_from_proto,
)
from ..contract.wire import describe_timestamp
from ..control import CameraView
from ..events import MAX_PAGE_SIZE, EventNotFound, EventQueries
from ..events.cursor import MAX_CURSOR_LENGTH, decode_feed_cursor, encode_feed_cursor
from ..proto.matthan.v1 import events_pb2, events_pb2_grpc
from .auth import Principal
from .event_feed import EventFeed, FeedItem
from .event_scope import EventScope, by_id, may_see, needs_views
from .rpc import (
    ClientGone,
    GatewayState,
    StatusError,
    StuckClient,
    check_camera_ids,
    check_names,
    request_cameras,
    status_for,
    unary,
    write_or_give_up,
)
from .subscriptions import CloseKind, StreamClosed

log = logging.getLogger("matthan.gateway")

QUERY_PAGE_SIZE = 50  # page_size 0
EVENT_ID = re.compile(r"^[0-9a-f]{1,64}$")
MAX_TIME_ZONE_LENGTH = 64
KEEPALIVE_S = 15.0  # a quiet stream sends its cursor this often (and proxies see traffic)
_SHOWN = 20  # values of one filter field in the access log


def describe_filter(msg: events_pb2.EventFilter) -> dict:
    """What a filter asks for, for the access log (bounded; only the fields it sets)."""
    out: dict = {}
    for name in ("camera_ids", "groups", "classes", "rules", "job_ids"):
        values = list(getattr(msg, name))
        if values:
            out[name] = [v[:64] for v in values[:_SHOWN]]
    if msg.types:
        out["types"] = [events_pb2.EventType.Name(t) if t in events_pb2.EventType.values() else t for t in msg.types]
    if msg.severities:
        out["severities"] = [
            events_pb2.Severity.Name(s) if s in events_pb2.Severity.values() else s for s in msg.severities
        ]
    for name in ("time_from", "time_to"):
        if msg.HasField(name):
            out[name] = describe_timestamp(getattr(msg, name))
    if msg.HasField("min_dwell_s"):
        out["min_dwell_s"] = msg.min_dwell_s
    if msg.live_only:
        out["live_only"] = True
    return out


def _describe_query(request: events_pb2.QueryEventsRequest) -> dict:
    return {
        "query": {
            "filter": describe_filter(request.filter),
            "order": request.order,
            "page_size": request.page_size,
            "next_page": bool(request.cursor),
        }
    }


def _describe_get(request: events_pb2.GetEventRequest) -> dict:
    return {"query": {"event_id": request.event_id[:64]}}


def _describe_count(request: events_pb2.CountEventsRequest) -> dict:
    return {
        "query": {
            "filter": describe_filter(request.filter),
            "group_by": list(request.group_by)[:_SHOWN],
            "bucket": request.bucket,
            "time_zone": request.time_zone[:MAX_TIME_ZONE_LENGTH],
        }
    }


def check_scope_request(msg: events_pb2.EventFilter) -> EventScope:
    named = check_camera_ids("filter.camera_ids", list(msg.camera_ids))
    groups = check_names("filter.groups", list(msg.groups))
    for field in ("classes", "rules", "job_ids"):
        check_names(f"filter.{field}", list(getattr(msg, field)))
    return EventScope(tuple(named), frozenset(groups))


class EventsService(events_pb2_grpc.EventsServicer):
    def __init__(self, state: GatewayState):
        self.state = state

    # ----------------------------------------------------------------- unary

    @unary(Role.VIEWER, describe=_describe_query)
    async def QueryEvents(self, request, context, principal: Principal):
        events = self._events()
        cameras, _ = await self._cameras(principal, request.filter)
        event_filter = filter_from_proto(request.filter, cameras)
        order = order_from_proto(request.order)
        page_size = request.page_size or QUERY_PAGE_SIZE
        if page_size > MAX_PAGE_SIZE:
            raise RequestError("page_size", f"at most {MAX_PAGE_SIZE}, got {page_size}")
        if len(request.cursor) > MAX_CURSOR_LENGTH:
            raise RequestError("cursor", f"too long ({len(request.cursor)} characters) to be a cursor")
        page = await events.query(event_filter, order=order, page_size=page_size, cursor=request.cursor or None)
        return events_pb2.QueryEventsResponse(
            events=[event_to_proto(e) for e in page.events], next_cursor=page.cursor or "", has_more=page.has_more
        )

    @unary(Role.VIEWER, describe=_describe_get)
    async def GetEvent(self, request, context, principal: Principal):
        events = self._events()
        event_id = request.event_id
        if not EVENT_ID.match(event_id):
            raise RequestError("event_id", f"{event_id[:64]!r} is not an event id (hexadecimal, as events carry it)")
        event = await events.get(event_id)
        views = by_id(await self.state.control.list_cameras()) if principal.scoped else {}
        if not may_see(principal, event.camera_id, views):
            raise EventNotFound(event_id)  # the same answer as for an id that does not exist
        return event_to_proto(event, with_thumbnail=True)

    @unary(Role.VIEWER, describe=_describe_count)
    async def CountEvents(self, request, context, principal: Principal):
        events = self._events()
        cameras, views = await self._cameras(principal, request.filter, always_list=not request.time_zone)
        event_filter = filter_from_proto(request.filter, cameras)
        group_by = group_by_from_proto(request.group_by)
        bucket = bucket_from_proto(request.bucket)
        time_zone = request.time_zone.strip()
        if len(time_zone) > MAX_TIME_ZONE_LENGTH:
            raise RequestError("time_zone", f"longer than {MAX_TIME_ZONE_LENGTH} characters")
        if not time_zone:
            time_zone = _common_time_zone(cameras, views)
        rows = await events.count(event_filter, group_by=group_by, bucket=bucket, time_zone=time_zone)
        return events_pb2.CountEventsResponse(counts=[count_row_to_proto(r) for r in rows], time_zone=time_zone)

    # --------------------------------------------------------------- stream

    async def StreamEvents(self, request, context: grpc.aio.ServicerContext) -> None:
        state = self.state
        method = "StreamEvents"
        principal: Principal | None = None
        try:
            principal = state.authenticate(context)
            principal.require(Role.VIEWER, method)
            events, feed = self._events(), self._feed()
            scope = check_scope_request(request.filter)
            cameras, _ = await self._cameras(principal, request.filter, scope=scope)
            event_filter = filter_from_proto(request.filter, cameras)
            info = await events.feed()
            if request.cursor:
                position = decode_feed_cursor(info.feed_id, request.cursor)
                if position > info.position:
                    raise RequestError(
                        "cursor", f"ahead of the event store's change feed ({position} > {info.position})"
                    )
            else:
                position = info.position
            sub = feed.subscribe(event_filter, position, scope)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status code (status_for logs bugs)
            code, message = status_for(exc)
            state.access.call(
                principal,
                method,
                request_cameras(request),
                context.peer(),
                status=code.name,
                detail=message,
                query={"filter": describe_filter(request.filter), "resumed": bool(request.cursor)},
            )
            await context.abort(code, message)
            return  # abort() raises; this says so to the reader and the type checker
        shown_cameras = sorted(cameras)[:50] if cameras is not None else []
        record = state.access.stream_start(
            principal,
            method,
            shown_cameras,
            context.peer(),
            query={"filter": describe_filter(request.filter), "resumed": bool(request.cursor)},
        )
        context.add_done_callback(lambda _: sub.close())
        state.watch.watch(principal, sub)
        code, message = grpc.StatusCode.OK, ""
        limits = state.config.limits
        try:
            await write_or_give_up(
                context, _message(info.feed_id, FeedItem(None, position)), limits.stuck_write_timeout_s
            )
            while True:
                item = await sub.next(KEEPALIVE_S)
                if item is None:
                    item = FeedItem(None, sub.cursor)
                await write_or_give_up(context, _message(info.feed_id, item), limits.stuck_write_timeout_s)
                if item.change is not None:
                    record.messages += 1
        except StreamClosed as closed:
            code, message = status_for(closed)
        except StuckClient:
            code = grpc.StatusCode.RESOURCE_EXHAUSTED
            message = f"the client accepted no data for {limits.stuck_write_timeout_s:g} s"
            sub.close(CloseKind.STUCK_CLIENT, message)
        except ClientGone as gone:
            code, message = grpc.StatusCode.CANCELLED, str(gone)
        except asyncio.CancelledError:
            record.end("CANCELLED", "cancelled by the client, its deadline, or server stop", last_cursor=sub.cursor)
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status code (status_for logs bugs)
            code, message = status_for(exc)
        finally:
            state.watch.forget(sub)
            sub.close()
            record.end(code.name, message, last_cursor=sub.cursor)
        if code not in (grpc.StatusCode.OK, grpc.StatusCode.CANCELLED):
            await context.abort(code, message)

    # ------------------------------------------------------------- internals

    def _events(self) -> EventQueries:
        if self.state.events is None:
            raise StatusError(
                grpc.StatusCode.UNAVAILABLE, "this front door has no event store (`matthan serve` starts one)"
            )
        return self.state.events

    def _feed(self) -> EventFeed:
        if self.state.event_feed is None:
            self._events()
            raise StatusError(grpc.StatusCode.UNAVAILABLE, "this front door does not stream events")
        return self.state.event_feed

    async def _cameras(
        self,
        principal: Principal,
        msg: events_pb2.EventFilter,
        *,
        scope: EventScope | None = None,
        always_list: bool = False,
    ) -> tuple[frozenset[str] | None, dict[str, CameraView]]:
        """The camera ids to filter by (None: all) and the camera list it needed, if any."""
        scope = scope or check_scope_request(msg)
        views: dict[str, CameraView] = {}
        if always_list or needs_views(principal, scope):
            views = by_id(await self.state.control.list_cameras())
        return scope.cameras_for(principal, views), views


def _common_time_zone(cameras: frozenset[str] | None, views: dict[str, CameraView]) -> str:
    """The time zone the counted cameras share (as configured now), else UTC."""
    counted = views.values() if cameras is None else [views[c] for c in cameras if c in views]
    zones = {view.config.timezone for view in counted}
    return zones.pop() if len(zones) == 1 else "UTC"


def _message(feed_id: str, item: FeedItem) -> events_pb2.StreamEventsResponse:
    response = events_pb2.StreamEventsResponse(cursor=encode_feed_cursor(feed_id, item.position))
    if item.change is not None:
        response.event.CopyFrom(event_to_proto(item.change.event))
    return response
