"""Pages and the JSON API: security headers, caching, scoping like gRPC, bad input."""

from __future__ import annotations

import cv2
import numpy as np

from .conftest import token

REAL_JPEG = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))[1].tobytes()


def logged_in(console, who: str):
    browser = console.browser()
    assert browser.login(token(who)).status == 200
    return browser


def test_every_response_has_the_security_headers(console) -> None:
    browser = logged_in(console, "admin")
    for path in ("/", "/health", "/api/session", "/api/cameras", "/static/js/app.js", "/api/nope", "/nope"):
        headers = browser.get(path).headers
        csp = headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, f"{path}: CSP {csp!r}"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{path}: no inline scripts or styles"
        assert "frame-ancestors 'none'" in csp and headers.get("X-Frame-Options") == "DENY", f"{path}: no framing"
        assert headers.get("X-Content-Type-Options") == "nosniff", f"{path}: nosniff"
        assert headers.get("Referrer-Policy") == "no-referrer", f"{path}: no referrer"


def test_pages_api_answers_and_frames_are_never_cached(console) -> None:
    browser = logged_in(console, "admin")
    console.call(console.control.cameras["cam-a"].start_producing, 0.05, True, False, 1, REAL_JPEG)
    for path in ("/", "/camera/cam-a", "/api/session", "/api/cameras", "/api/cameras/cam-a/snapshot"):
        reply = browser.get(path)
        assert reply.status == 200, f"{path}: {reply.status} {reply.body[:200]!r}"
        assert reply.headers.get("Cache-Control") == "no-store", f"{path}: {reply.headers.get('Cache-Control')}"
    static = browser.get("/static/css/console.css")
    assert static.headers.get("Cache-Control") == "no-cache", "static assets are revalidated, not kept blindly"


def test_the_page_has_no_inline_script_or_style_and_loads_modules_from_the_console(console) -> None:
    page = console.browser().get("/").body.decode("utf-8")
    assert '<script type="module" src="/static/js/app.js"></script>' in page, "the script is a module of ours"
    assert "<style" not in page and " style=" not in page, "no inline styles (the CSP forbids them)"
    assert page.count("<script") == 1, "no inline script"
    assert "http://" not in page and "https://" not in page, "nothing is loaded from the internet"


def test_static_assets_are_served_with_their_types_and_nothing_from_outside(console) -> None:
    browser = console.browser()
    for path, kind in (
        ("/static/js/app.js", "javascript"),
        ("/static/js/views/wall.js", "javascript"),
        ("/static/css/console.css", "text/css"),
        ("/static/favicon.svg", "image/svg+xml"),
    ):
        reply = browser.get(path)
        assert reply.status == 200 and kind in reply.headers["Content-Type"], f"{path}: {reply.status} {reply.headers}"
    assert browser.get("/static/").status in (403, 404), "no directory listing"
    assert browser.get("/static/../api.py").status in (403, 404), "no way out of the static directory"


def test_a_viewer_lists_only_the_cameras_it_may_see(console) -> None:
    cameras = logged_in(console, "viewer-w1").get("/api/cameras").json["cameras"]
    assert [c["id"] for c in cameras] == ["cam-a", "cam-c"], f"ward-1 only: {cameras}"
    everything = logged_in(console, "operator").get("/api/cameras").json["cameras"]
    assert [c["id"] for c in everything] == ["cam-a", "cam-b", "cam-c"], "an operator sees all"


def test_cameras_can_be_filtered_by_group(console) -> None:
    browser = logged_in(console, "admin")
    reply = browser.get("/api/cameras?group=ward-2")
    assert [c["id"] for c in reply.json["cameras"]] == ["cam-b"], reply.json


def test_camera_summaries_carry_what_the_health_page_shows_and_no_source(console) -> None:
    (camera,) = [c for c in logged_in(console, "admin").get("/api/cameras").json["cameras"] if c["id"] == "cam-a"]
    for name in ("state", "reason", "fps_in", "fps_out", "latency_s", "node", "last_frame_age_s", "name", "groups"):
        assert name in camera, f"{name} missing from {camera}"
    assert "source" not in camera and "secret" not in str(camera), "source URLs (with passwords) never reach a page"


def test_a_scoped_viewer_gets_403_for_other_and_unknown_cameras_alike(console) -> None:
    browser = logged_in(console, "viewer-w1")
    other = browser.get("/api/cameras/cam-b")
    unknown = browser.get("/api/cameras/cam-zzz")
    assert other.status == 403 and unknown.status == 403, f"{other.status} / {unknown.status}"
    assert other.error_code == unknown.error_code == "permission_denied"
    assert browser.get("/api/cameras/cam-b/snapshot").status == 403, "no snapshot of another group's camera"
    assert browser.get("/api/cameras/cam-a").status == 200, "its own camera answers"


def test_the_one_camera_page_of_a_camera_out_of_scope_is_403(console) -> None:
    browser = logged_in(console, "viewer-w1")
    denied = browser.get("/camera/cam-b")
    assert denied.status == 403, f"the page URL itself must answer 403, got {denied.status}"
    assert b"/static/js/app.js" in denied.body, "with the page, which tells the user why"
    assert browser.get("/camera/cam-a").status == 200, "its own camera's page answers 200"
    (record,) = console.records.of("denied", "WebCameraPage")
    assert record["who"] == "viewer-w1" and record["cameras"] == ["cam-b"], record


def test_unknown_cameras_are_404_for_those_who_see_everything(console) -> None:
    reply = logged_in(console, "admin").get("/api/cameras/cam-zzz")
    assert reply.status == 404 and reply.error_code == "not_found", f"{reply.status} {reply.body!r}"


def test_the_api_needs_a_session(console) -> None:
    browser = console.browser()
    for path in ("/api/cameras", "/api/cameras/cam-a", "/api/cameras/cam-a/snapshot"):
        reply = browser.get(path)
        assert reply.status == 401 and reply.error_code == "unauthenticated", f"{path}: {reply.status}"
    assert browser.get("/").status == 200, "the page itself opens (to show the login)"


def test_bad_input_gets_a_clear_status_and_message(console) -> None:
    browser = logged_in(console, "admin")
    cases = [
        ("/api/cameras/NOT_AN_ID", 400, "is not a camera id"),
        ("/api/cameras?colour=red", 400, "unknown query parameter 'colour'"),
        ("/api/cameras?group=" + "g" * 200, 400, "longer than 128"),
        ("/api/cameras/cam-a/snapshot?width=wide", 400, "not a whole number"),
        ("/api/cameras/cam-a/snapshot?width=10", 400, "out of range"),
        ("/api/nothing-here", 404, "no such page"),
    ]
    for path, status, message in cases:
        reply = browser.get(path)
        assert reply.status == status, f"{path}: expected {status}, got {reply.status} {reply.body!r}"
        assert message in reply.json["error"]["message"], f"{path}: {reply.json}"
    wrong_method = browser.request("DELETE", "/api/cameras")
    assert wrong_method.status == 405 and wrong_method.error_code == "method_not_allowed", wrong_method.body


def test_an_oversized_body_is_413(make_console) -> None:
    console = make_console(web={"max_request_bytes": 4096})
    reply = console.browser().post("/api/login", {"token": "x" * 10_000})
    assert reply.status == 413 and reply.error_code == "too_large", f"{reply.status} {reply.body!r}"


def test_a_loopback_console_answers_only_to_loopback_host_names(console) -> None:
    browser = console.browser(origin=None)
    reply = browser.get("/api/session", headers={"Host": "attacker.example"})
    assert reply.status == 421 and reply.error_code == "forbidden_host", "DNS rebinding must be refused"
    assert browser.get("/api/session", headers={"Host": "localhost:1234"}).status == 200, "localhost is fine"


def test_a_snapshot_downloads_the_newest_frame_as_a_jpeg(console) -> None:
    browser = logged_in(console, "viewer-w1")
    console.run(console.control.cameras["cam-a"].publish_frame(REAL_JPEG))
    reply = browser.get("/api/cameras/cam-a/snapshot")
    assert reply.status == 200 and reply.headers["Content-Type"] == "image/jpeg", f"{reply.status} {reply.headers}"
    assert reply.body == REAL_JPEG, "the camera's JPEG, byte for byte"
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="cam-a-') and disposition.endswith('.jpg"'), disposition
    (call,) = console.records.of("call", "WebSnapshot")
    assert call["who"] == "viewer-w1" and call["cameras"] == ["cam-a"] and call["status"] == "OK", call


def test_a_snapshot_of_a_camera_without_frames_is_503_within_the_timeout(console) -> None:
    reply = logged_in(console, "admin").get("/api/cameras/cam-b/snapshot")
    assert reply.status == 503 and reply.error_code == "unavailable", f"{reply.status} {reply.body!r}"
    assert "produced no frame" in reply.json["error"]["message"], reply.json


def test_a_control_plane_that_is_down_is_503_not_a_crash(console) -> None:
    from cluster.control import SchedulerUnavailable

    async def down():
        raise SchedulerUnavailable("scheduler did not answer within 5 s")

    browser = logged_in(console, "admin")
    console.call(setattr, console.control, "list_cameras", down)
    console.clock.advance(10)
    console.web.services.directory._listed_at = -float("inf")  # the cached listing is too old now
    reply = browser.get("/api/cameras")
    assert reply.status == 503 and reply.error_code == "unavailable", f"{reply.status} {reply.body!r}"
    assert "did not answer" in reply.json["error"]["message"], reply.json
