"""The console's routes for events and camera shapes (the JSON API of api.py's table):
event search and CSV export (search.py), thumbnails, acknowledging alerts, and a
camera's zones, lines and masks (zones.py). Guards, sessions and the access log are
api.py's (`logged`), like every other API call."""

from __future__ import annotations

import time

from aiohttp import web

from ..config.server import Role
from ..events import EventNotFound, EventQueries, EventStoreError
from ..gateway.auth import Principal
from ..gateway.event_scope import by_id, may_see
from ..gateway.events_service import EVENT_ID
from ..gateway.rpc import check_camera_id
from .api import ACCESS_EXTRA, SERVICES, json_body, json_response, logged, only_fields, query
from .errors import ErrorCode, WebError, bad_request
from .search import PAGE_PARAMETERS, SEARCH_PARAMETERS, csv_lines, parse_page, parse_search
from .services import ConsoleServices
from .sessions import Session
from .views import ack_summary, event_summary
from .zones import apply_geometry, geometry_of

# ------------------------------------------------------------------ zones


@logged("WebGetZones")
async def get_zones(request: web.Request, session: Session) -> web.Response:
    services = request.app[SERVICES]
    query(request, set())
    camera_id = check_camera_id("camera", request.match_info["camera_id"])
    await services.directory.camera(session.principal, camera_id)  # 403 out of a viewer's scope
    view = await services.control.get_camera(camera_id)
    operator = session.principal.role.at_least(Role.OPERATOR)
    return json_response(geometry_of(view.config, with_masks=operator))


@logged("WebUpdateZones", Role.OPERATOR)
async def update_zones(request: web.Request, session: Session) -> web.Response:
    """The zone and mask editor's save: UpdateCamera's path (validated as the gateway
    does, applied live by the camera)."""
    services = request.app[SERVICES]
    query(request, set())
    camera_id = check_camera_id("camera", request.match_info["camera_id"])
    body = await json_body(request)
    await services.directory.camera(session.principal, camera_id)
    current = await services.control.get_camera(camera_id)
    config = apply_geometry(current.config, body)
    view = await services.control.update_camera(config)
    rules = view.config.rules
    request[ACCESS_EXTRA] = {
        "detail": f"{len(rules.zones)} zones, {len(rules.lines)} lines, {len(view.config.privacy.masks)} masks"
    }
    return json_response(geometry_of(view.config, with_masks=True))


# ------------------------------------------------------------------- events


def event_store(services: ConsoleServices) -> EventQueries:
    if services.events is None:
        raise WebError(503, ErrorCode.UNAVAILABLE, "this front door has no event store (`matthan serve` starts one)")
    return services.events


def check_event_id(value: str) -> str:
    if not EVENT_ID.match(value):
        raise bad_request(f"event id: {value[:64]!r} is not an event id (hexadecimal, as events carry it)")
    return value


async def visible_event(services: ConsoleServices, principal: Principal, event_id: str):
    """The event (with its thumbnail) if the user may see it; EventNotFound otherwise, the
    same answer as for an id that does not exist (GetEvent's rule)."""
    event = await event_store(services).get(event_id)
    views = by_id(await services.control.list_cameras()) if principal.scoped else {}
    if not may_see(principal, event.camera_id, views):
        raise EventNotFound(event_id)
    return event


@logged("WebSearchEvents")
async def search_events(request: web.Request, session: Session) -> web.Response:
    services = request.app[SERVICES]
    query(request, set(SEARCH_PARAMETERS | PAGE_PARAMETERS))
    events = event_store(services)
    search = await parse_search(request.query, session.principal, services.control)
    page_size, cursor = parse_page(request.query)
    request[ACCESS_EXTRA] = {"query": search.describe()}
    page = await events.query(search.filter, order=search.order, page_size=page_size, cursor=cursor)
    acks = await events.acknowledgements(tuple(e.event_id for e in page.events))
    return json_response(
        {
            "events": [event_summary(e, acks.get(e.event_id)) for e in page.events],
            "next_cursor": page.cursor if page.has_more else None,
            "has_more": page.has_more,
        }
    )


@logged("WebExportEvents")
async def export_events(request: web.Request, session: Session) -> web.StreamResponse:
    """Every matching event as CSV, streamed page by page (search.py says the bounds). The
    filter is checked before the first byte, so bad input is still a 400."""
    services = request.app[SERVICES]
    query(request, set(SEARCH_PARAMETERS))
    events = event_store(services)
    search = await parse_search(request.query, session.principal, services.control)
    lines = csv_lines(events, search)
    first = await anext(lines)  # the header; the first page is read next, before answering
    second = await anext(lines, None)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(services.clock()))
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="matthan-events-{stamp}.csv"',
        }
    )
    await response.prepare(request)
    if request.method == "HEAD":  # headers only: a body after them would be read as the next response
        await response.write_eof()
        return response
    rows, failure = 0, None
    await response.write(first)
    if second is not None:
        await response.write(second)
        rows += 1
        try:
            async for line in lines:
                await response.write(line)
                rows += 1
        except EventStoreError as exc:  # the status is sent already: the file says it is incomplete
            failure = f"event store: {exc}"
            await response.write(f"# export incomplete after {rows} rows: {failure}\r\n".encode())
    await response.write_eof()
    request[ACCESS_EXTRA] = {"query": search.describe(), "rows": rows, "failure": failure}
    return response


@logged("WebEventThumbnail")
async def event_thumbnail(request: web.Request, session: Session) -> web.Response:
    services = request.app[SERVICES]
    query(request, set())
    event_id = check_event_id(request.match_info["event_id"])
    event = await visible_event(services, session.principal, event_id)
    if event.thumbnail is None:
        raise WebError(404, ErrorCode.NOT_FOUND, f"event {event_id!r} has no thumbnail")
    return web.Response(body=event.thumbnail, content_type="image/jpeg")


@logged("WebAcknowledge", Role.OPERATOR)
async def acknowledge(request: web.Request, session: Session) -> web.Response:
    """Who acknowledged which alert, when: in the event store (the first acknowledgement
    stays), in the access log, and on every open events feed of this front door."""
    services = request.app[SERVICES]
    query(request, set())
    event_id = check_event_id(request.match_info["event_id"])
    only_fields(await json_body(request), set())
    event = await visible_event(services, session.principal, event_id)
    ack = await event_store(services).acknowledge(event_id, session.principal.name, services.clock())
    services.acknowledged(ack)
    request[ACCESS_EXTRA] = {
        "cameras": [event.camera_id],
        "detail": f"event {event_id} acknowledged by {ack.by}",
        "event_id": event_id,
    }
    return json_response(ack_summary(ack))


def add_event_routes(app: web.Application) -> None:
    app.router.add_get("/api/cameras/{camera_id}/zones", get_zones)
    app.router.add_post("/api/cameras/{camera_id}/zones", update_zones)
    app.router.add_get("/api/events", search_events)
    app.router.add_get("/api/events.csv", export_events)
    app.router.add_get("/api/events/{event_id}/thumbnail", event_thumbnail)
    app.router.add_post("/api/events/{event_id}/ack", acknowledge)
