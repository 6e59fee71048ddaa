"""The console's auth matrix, generated from its route table (issue 15).

Every route the aiohttp app registers (HEAD included) must have a rule in
`tests/web/routes.py`; each is requested without a session, with each role's
session, and as a scoped viewer on another ward's camera or event; every
state-changing route is also sent without and with a wrong CSRF token, and with a
body over `web.max_request_bytes`. The expected status comes from the rule alone."""

from __future__ import annotations

import aiohttp
import pytest

from .conftest import token
from .harness import HttpClient
from .routes import (
    CALLERS,
    IN_SCOPE_CAMERA,
    IN_SCOPE_EVENT,
    OUT_OF_SCOPE_CAMERA,
    OUT_OF_SCOPE_EVENT,
    RULES,
    SCOPED_VIEWER,
    WEBSOCKET_OK,
    Rule,
    console,
    events,
    registered_routes,
    rule_of,
)

__all__ = ["console", "events"]  # fixtures

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def call(browser: HttpClient, method: str, rule: Rule, *, out_of_scope: bool = False, **kwargs) -> tuple[int, str]:
    """(status, a short description of the answer) of one request along `rule`."""
    camera, event_id = (
        (OUT_OF_SCOPE_CAMERA, OUT_OF_SCOPE_EVENT.event_id)
        if out_of_scope
        else (IN_SCOPE_CAMERA, IN_SCOPE_EVENT.event_id)
    )
    path = rule.url(camera, event_id)
    if rule.ok == WEBSOCKET_OK and method == "GET":
        return handshake(browser, path)
    if method in UNSAFE and "data" not in kwargs:
        kwargs["json_body"] = rule.body if rule.body is not None else {}
    reply = browser.request(method, path, **kwargs)
    return reply.status, f"{reply.error_code or ''} {reply.body[:160]!r}"


def handshake(browser: HttpClient, path: str) -> tuple[int, str]:
    url = browser.harness.base_url.rstrip("/") + path

    async def connect() -> tuple[int, str]:
        try:
            ws = await browser.session.ws_connect(url, origin=browser.origin)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status, exc.message
        await ws.close()
        return WEBSOCKET_OK, "upgraded"

    return browser.run(connect())


def session_of(console, who: str) -> HttpClient:
    browser = console.browser()
    reply = browser.login(token(who))
    assert reply.status == 200, f"login as {who}: {reply.status} {reply.body!r}"
    return browser


def test_every_route_of_the_console_has_a_rule(console) -> None:
    routes = registered_routes(console.web.app)
    missing = [route for route in routes if rule_of(*route) is None]
    assert not missing, f"routes without a rule in tests/web/routes.py RULES: {missing}"
    stale = sorted(set(RULES) - {("GET" if m == "HEAD" else m, c) for m, c in routes})
    assert not stale, f"rules for routes the console does not register: {stale}"


def test_each_route_without_a_session(console) -> None:
    failures = []
    for method, canonical in registered_routes(console.web.app):
        rule = rule_of(method, canonical)
        assert rule is not None, f"{method} {canonical} has no rule"
        status, answer = call(console.browser(), method, rule)
        expected = rule.without_session(method)
        if status != expected:
            failures.append(f"{method} {canonical}: {status} (expected {expected}) {answer}")
    assert not failures, "without a session:\n" + "\n".join(failures)


@pytest.mark.parametrize("who", sorted(CALLERS))
def test_each_route_with_each_roles_session(console, who: str) -> None:
    failures = []
    for method, canonical in registered_routes(console.web.app):
        rule = rule_of(method, canonical)
        assert rule is not None, f"{method} {canonical} has no rule"
        status, answer = call(session_of(console, who), method, rule)  # a fresh session: logout ends one
        expected = rule.for_role(method, CALLERS[who])
        if status != expected:
            failures.append(f"{method} {canonical}: {status} (expected {expected}) {answer}")
    assert not failures, f"as {who}:\n" + "\n".join(failures)


def test_a_scoped_viewer_on_another_wards_camera_or_event(console) -> None:
    failures = []
    checked = 0
    for method, canonical in registered_routes(console.web.app):
        rule = rule_of(method, canonical)
        assert rule is not None, f"{method} {canonical} has no rule"
        if not rule.scoped:
            continue
        expected = rule.out_of_scope if rule.allows(CALLERS[SCOPED_VIEWER]) else 403  # refused by role first
        status, answer = call(session_of(console, SCOPED_VIEWER), method, rule, out_of_scope=True)
        checked += 1
        if status != expected:
            failures.append(f"{method} {canonical}: {status} (expected {expected}) {answer}")
    assert checked >= 8, f"only {checked} routes name a camera or an event"
    assert not failures, f"{SCOPED_VIEWER} on {OUT_OF_SCOPE_CAMERA} / another ward's event:\n" + "\n".join(failures)


def unsafe_routes(console) -> list[tuple[str, str, Rule]]:
    found = []
    for method, canonical in registered_routes(console.web.app):
        rule = rule_of(method, canonical)
        if method in UNSAFE and rule is not None:
            found.append((method, canonical, rule))
    assert len(found) >= 5, f"the console's state-changing routes: {found}"
    return found


@pytest.mark.parametrize("sent", [None, "not-the-sessions-token"], ids=["missing", "wrong"])
def test_state_changing_routes_refuse_a_session_without_its_csrf_token(console, sent: str | None) -> None:
    failures = []
    for method, canonical, rule in unsafe_routes(console):
        browser = session_of(console, "admin")
        headers = {} if sent is None else {"X-CSRF-Token": sent}
        status, answer = call(browser, method, rule, headers=headers, csrf=False)
        if (status, answer.split(" ")[0]) != (403, "csrf_failed"):
            failures.append(f"{method} {canonical}: {status} {answer}")
        assert browser.get("/api/cameras").status == 200, f"{method} {canonical}: the session itself goes on"
    assert not failures, f"CSRF {'missing' if sent is None else 'wrong'}:\n" + "\n".join(failures)


def test_state_changing_routes_refuse_an_oversized_body_before_any_work(console) -> None:
    limit = console.config.web.max_request_bytes
    big = b'{"pad": "' + b"x" * limit + b'"}'
    failures = []
    for method, canonical, rule in unsafe_routes(console):
        for who in (None, "admin"):
            browser = console.browser() if who is None else session_of(console, who)
            status, answer = call(browser, method, rule, data=big, headers={"Content-Type": "application/json"})
            if (status, answer.split(" ")[0]) != (413, "too_large"):
                failures.append(f"{method} {canonical} as {who or 'nobody'}: {status} {answer}")
            if who is not None:
                assert browser.get("/api/cameras").status == 200, f"{method} {canonical}: nothing was done (no logout)"
    assert not failures, "oversized bodies:\n" + "\n".join(failures)
