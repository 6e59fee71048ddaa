"""Random requests to every route of the console, with every role (issue 15): random
methods, path variables, query parameters, bodies and headers. The console never
answers 5xx, never takes longer than a bound, and every refusal is a 4xx with a JSON
body `{"error": {"code", "message"}}` naming what is wrong; it goes on serving."""

from __future__ import annotations

import json
import logging
import string
from urllib.parse import quote, urlencode

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import token
from .harness import HttpClient
from .routes import IN_SCOPE_CAMERA, IN_SCOPE_EVENT, OUT_OF_SCOPE_CAMERA, RULES, console, events

__all__ = ["console", "events"]  # fixtures

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ANSWER_BOUND_S = 10.0  # a snapshot waits at most limits.snapshot_timeout_s (0.5 s here)
WHO = [None, "viewer-w1", "operator", "admin"]

_PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "
_header_text = st.text(alphabet=_PRINTABLE, max_size=60)
_segment = st.sampled_from(
    [IN_SCOPE_CAMERA, OUT_OF_SCOPE_CAMERA, IN_SCOPE_EVENT.event_id, "0" * 32, "..", "%2e%2e", "x" * 300, "cam-a\n", ""]
) | st.text(max_size=30)
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
_json_object = st.dictionaries(
    st.sampled_from(["token", "language", "zones", "lines", "masks", "name", "x"]) | st.text(max_size=10),
    _json_value,
    max_size=4,
)
_body = (
    st.none()
    | _json_object.map(lambda d: json.dumps(d).encode())
    | _json_value.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=200)
)
_query_names = st.sampled_from(
    ["group", "width", "camera", "type", "severity", "from", "to", "cursor", "page_size", "order", "q", "rule"]
) | st.text(max_size=10)
_query_values = st.sampled_from(["", "0", "-1", "99999999999999999999", "nan", "ward-1", "2026-11-28T22:00:00"]) | (
    st.text(max_size=30)
)
_query = st.lists(st.tuples(_query_names, _query_values), max_size=4)
_headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(["application/json", "text/plain", "multipart/form-data", ""]) | _header_text,
        "Origin": st.sampled_from(["same", "http://evil.example", "null"]) | _header_text,
        "X-CSRF-Token": st.sampled_from(["session", "wrong"]) | _header_text,
        "Accept": _header_text,
        "Range": _header_text,
        "If-Modified-Since": _header_text,
        "Accept-Language": _header_text,
    },
)


def _path(template: str, values: list[str]) -> str:
    pieces = iter(values)
    out = template
    for name in ("{camera}", "{event}"):
        if name in out:
            out = out.replace(name, quote(next(pieces, ""), safe=""))
    return out


@st.composite
def requests(draw) -> dict:
    template = draw(st.sampled_from([*sorted({r.path for r in RULES.values()}), "/api/nope", "/static/../x"]))
    path = _path(template, [draw(_segment), draw(_segment)])
    if draw(st.booleans()):
        path += "/" + quote(draw(_segment), safe="")
    query = draw(_query)
    return {
        "method": draw(st.sampled_from(["GET", "GET", "POST", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"])),
        "path": path + ("?" + urlencode(query) if query else ""),
        "body": draw(_body),
        "headers": draw(_headers),
        "who": draw(st.sampled_from(WHO)),
    }


def send(browser: HttpClient, request: dict) -> tuple[int, dict, bytes]:
    headers = dict(request["headers"])
    if headers.get("Origin") == "same":
        headers["Origin"] = browser.origin or ""
    if headers.get("X-CSRF-Token") == "session":
        headers["X-CSRF-Token"] = browser.csrf or ""
    url = browser.harness.base_url.rstrip("/") + request["path"]

    async def go() -> tuple[int, dict, bytes]:
        async with browser.session.request(
            request["method"], url, data=request["body"], headers=headers, allow_redirects=False
        ) as response:
            return response.status, dict(response.headers), await response.read()

    return browser.run(go(), ANSWER_BOUND_S)


def is_camera_page(request: dict, headers: dict) -> bool:
    """The one-camera page answers with itself (which says what is wrong) and the status."""
    page = request["path"].startswith(("/camera/", "/editor/"))
    return page and headers.get("Content-Type", "").startswith("text/html")


def test_random_requests_get_a_proper_status_from_every_route_and_role(console, caplog) -> None:
    browsers: dict[str | None, HttpClient] = {}

    def browser_of(who: str | None) -> HttpClient:
        if who not in browsers:
            browsers[who] = console.browser()
        browser = browsers[who]
        if who is not None and browser.get("/api/session").json.get("authenticated") is not True:
            assert browser.login(token(who)).status == 200, f"login as {who}"  # a fuzzed logout ended it
        return browser

    seen: dict[int, int] = {}

    @FUZZ
    @given(request=requests())
    def fuzz(request: dict) -> None:
        browser = browser_of(request["who"])
        try:
            status, headers, body = send(browser, request)
        except TimeoutError:
            raise AssertionError(f"no answer within {ANSWER_BOUND_S:g} s to {request}") from None
        except aiohttp.ClientError as exc:
            raise AssertionError(f"the connection broke ({exc!r}) on {request}") from None
        seen[status] = seen.get(status, 0) + 1
        assert status < 500, f"{status} to {request}: {body[:300]!r}"
        assert status in (200, 304, 400, 401, 403, 404, 405, 409, 413, 415, 416, 421, 429), (
            f"unexpected status {status} to {request}: {body[:300]!r}"
        )
        if status == 416:  # a Range a static file cannot satisfy: RFC 9110's answer, the size in Content-Range
            assert request["path"].startswith("/static/") and headers.get("Content-Range", "").startswith("bytes */"), (
                f"416 only for static files, with their size: {request} {headers}"
            )
        elif is_camera_page(request, headers):
            assert status in (200, 400, 403, 404), f"the camera page says what is wrong by its status: {status}"
        elif status >= 400 and request["method"] != "HEAD":
            try:
                error = json.loads(body)["error"]
            except (ValueError, KeyError, TypeError):
                raise AssertionError(f"{status} without a JSON error body to {request}: {body[:300]!r}") from None
            assert error.get("code") and error.get("message"), f"{status}: code and message: {error}"
            assert "\n" not in error["message"], f"one line: {error['message']!r}"
            assert "Traceback" not in error["message"], f"no traceback: {error['message']!r}"

    fuzz()
    assert console.browser().get("/api/session").status == 200, "the console goes on serving"
    assert browser_of("admin").get("/api/cameras").status == 200, "sessions still work"
    errors = [r.getMessage()[:300] for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"errors logged while fuzzing: {errors} (statuses {seen})"
    assert len([s for s in seen if s < 300]) >= 1 and len([s for s in seen if s >= 400]) >= 3, (
        f"the fuzz reached handlers and refusals alike: {seen}"
    )


# ---------------------------------------------------------- what the fuzz found, kept as cases


def test_a_static_file_named_as_a_directory_is_a_json_404(console) -> None:
    reply = console.browser().get("/static/css/console.css/cam-a")
    assert (reply.status, reply.error_code) == (404, "not_found"), f"{reply.status} {reply.body[:200]!r}"


def test_head_of_the_csv_export_sends_no_body_after_its_headers(console) -> None:
    browser = console.browser()
    assert browser.login(token("admin")).status == 200
    head = browser.request("HEAD", "/api/events.csv")
    after = browser.get("/api/cameras")  # the same keep-alive connection: a stray body would be read as this
    assert head.status == 200 and head.body == b"", f"HEAD: {head.status} {head.body[:100]!r}"
    assert after.status == 200 and after.json["cameras"], f"the next request on the connection: {after.status}"
