"""The console's route table for the security tests (issue 15): one `Rule` per route the
aiohttp app registers, and a console with something behind every route (cameras that
produce frames, an event with a thumbnail in each ward).

A route the app registers without a rule here fails `test_routes_auth.py`: whoever adds
a route says who may use it."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pytest
from aiohttp import web

from cluster.config.server import Role
from cluster.events import EventStore
from tests.events.factory import event

from .event_store import ConsoleStoreQueries

JPEG = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))[1].tobytes()
IN_SCOPE_CAMERA, OUT_OF_SCOPE_CAMERA = "cam-a", "cam-b"  # of the scoped viewer "viewer-w1" (ward-1)
IN_SCOPE_EVENT = event(1, camera=IN_SCOPE_CAMERA, thumbnail=JPEG)
OUT_OF_SCOPE_EVENT = event(2, camera=OUT_OF_SCOPE_CAMERA, thumbnail=JPEG)
SCOPED_VIEWER = "viewer-w1"
CALLERS: dict[str, Role] = {SCOPED_VIEWER: Role.VIEWER, "operator": Role.OPERATOR, "admin": Role.ADMIN}
RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
WEBSOCKET_OK = 101


@dataclass(frozen=True)
class Rule:
    path: str  # with {camera} and {event} for the route's variables
    role: Role | None  # None: no session needed
    ok: int = 200  # the status of a caller who may use it
    body: dict | None = None  # for POST: a body that reaches the handler
    scoped: bool = False  # names a camera or an event: a scoped viewer sees only its own
    out_of_scope: int = 403  # a scoped viewer on another ward's camera (events: 404, like an unknown id)
    anonymous: int = 401  # without a session (role None: `ok`)
    head_ok: int | None = None  # HEAD of a GET route, when it differs from `ok`

    def status(self, method: str, allowed: bool) -> int:
        """What a caller gets who is `allowed` by the role (else 403)."""
        if not allowed:
            return 403
        return self.head_ok if method == "HEAD" and self.head_ok is not None else self.ok

    def url(self, camera: str, event_id: str) -> str:
        return self.path.format(camera=camera, event=event_id)

    def without_session(self, method: str) -> int:
        return self.status(method, allowed=True) if self.role is None else self.anonymous

    def allows(self, role: Role) -> bool:
        return self.role is None or RANK[role] >= RANK[self.role]

    def for_role(self, method: str, role: Role) -> int:
        return self.status(method, self.allows(role))


# (method, the route's canonical path) -> rule. HEAD is GET's rule.
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/"): Rule("/", None),
    ("GET", "/health"): Rule("/health", None),
    ("GET", "/events"): Rule("/events", None),
    ("GET", "/search"): Rule("/search", None),
    # The page itself; it shows the login without a session, and says "not yours" with 403.
    ("GET", "/camera/{camera_id}"): Rule("/camera/{camera}", None, scoped=True),
    ("GET", "/editor/{camera_id}"): Rule("/editor/{camera}", None, scoped=True),
    ("GET", "/static"): Rule("/static/css/console.css", None),
    ("GET", "/api/session"): Rule("/api/session", None),
    ("POST", "/api/login"): Rule("/api/login", None, ok=400, body={}),  # reaches validation: "token: required"
    ("POST", "/api/logout"): Rule("/api/logout", Role.VIEWER, body={}),
    ("POST", "/api/language"): Rule("/api/language", None, body={"language": "en"}),
    ("GET", "/api/cameras"): Rule("/api/cameras", Role.VIEWER),
    ("GET", "/api/cameras/{camera_id}"): Rule("/api/cameras/{camera}", Role.VIEWER, scoped=True),
    ("GET", "/api/cameras/{camera_id}/snapshot"): Rule("/api/cameras/{camera}/snapshot", Role.VIEWER, scoped=True),
    ("GET", "/api/cameras/{camera_id}/zones"): Rule("/api/cameras/{camera}/zones", Role.VIEWER, scoped=True),
    ("POST", "/api/cameras/{camera_id}/zones"): Rule(
        "/api/cameras/{camera}/zones", Role.OPERATOR, body={"zones": []}, scoped=True
    ),
    ("GET", "/api/events"): Rule("/api/events", Role.VIEWER),
    ("GET", "/api/events.csv"): Rule("/api/events.csv", Role.VIEWER),
    ("GET", "/api/events/{event_id}/thumbnail"): Rule(
        "/api/events/{event}/thumbnail", Role.VIEWER, scoped=True, out_of_scope=404
    ),
    ("POST", "/api/events/{event_id}/ack"): Rule("/api/events/{event}/ack", Role.OPERATOR, body={}, scoped=True),
    ("GET", "/ws"): Rule("/ws", Role.VIEWER, ok=WEBSOCKET_OK, head_ok=400),  # HEAD is no upgrade
    # Recorded footage (the player): nothing is recorded behind these cameras, so a caller who
    # may ask gets the empty timeline, and "no recording" (404) for a moment to play.
    ("GET", "/api/cameras/{camera_id}/recordings"): Rule("/api/cameras/{camera}/recordings", Role.VIEWER, scoped=True),
    ("GET", "/api/cameras/{camera_id}/playback"): Rule(
        "/api/cameras/{camera}/playback?at=1700000000", Role.VIEWER, ok=404, scoped=True
    ),
    ("GET", "/api/playback/{clip_id}"): Rule("/api/playback/" + "c" * 24, Role.VIEWER, ok=404),  # no such clip
}


def registered_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, canonical path) of every route of the app, HEAD included."""
    return sorted({(route.method, route.resource.canonical) for route in app.router.routes() if route.resource})


def rule_of(method: str, canonical: str) -> Rule | None:
    return RULES.get(("GET" if method == "HEAD" else method, canonical))


@pytest.fixture
def events(tmp_path):
    queries = ConsoleStoreQueries(EventStore(tmp_path / "events.sqlite3"))
    queries.write([IN_SCOPE_EVENT, OUT_OF_SCOPE_EVENT])
    yield queries
    queries.close()


@pytest.fixture
def console(events, make_console):
    # `events` first: its store closes after the console has stopped (threads read it until then).
    console = make_console(events=events)
    for camera in (IN_SCOPE_CAMERA, OUT_OF_SCOPE_CAMERA):
        console.call(console.control.cameras[camera].start_producing, 0.05, True, False, 1, JPEG)
    return console
