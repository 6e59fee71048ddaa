"""Login with the gRPC tokens, sessions that expire and end, rate-limited failures,
CSRF on every state-changing request, and the loopback no-token mode."""

from __future__ import annotations

from .conftest import token


def test_login_with_a_grpc_token_opens_a_session_with_its_role(console) -> None:
    browser = console.browser()
    reply = browser.login(token("operator"))
    assert reply.status == 200, f"login with a configured token must succeed: {reply.status} {reply.body!r}"
    assert reply.json["user"] == {"name": "operator", "role": "operator", "scoped": False}, reply.json
    session = browser.get("/api/session").json
    assert session["authenticated"] and session["user"]["name"] == "operator", f"the cookie must carry it: {session}"
    assert session["csrf_token"] == browser.csrf, "the session endpoint must return the session's CSRF token"


def test_the_session_cookie_is_httponly_samesite_strict_and_not_secure_without_tls(console) -> None:
    reply = console.browser().login(token("admin"))
    cookie = reply.cookies["matthan_session"]
    assert cookie["httponly"], "the session cookie must be HttpOnly (no script can read it)"
    assert cookie["samesite"] == "Strict", "the session cookie must be SameSite=Strict"
    assert not cookie["secure"], "without TLS a Secure cookie would never be sent back"
    assert cookie["path"] == "/", "one cookie for the whole console"


def test_a_wrong_token_is_refused_and_logged_without_the_token(console) -> None:
    reply = console.browser().login("not-a-configured-token")
    assert reply.status == 401 and reply.error_code == "bad_token", f"{reply.status} {reply.body!r}"
    assert reply.json["error"]["message"] == "unknown or revoked token", reply.json
    (denied,) = console.records.of("denied", "WebLogin")
    assert denied["who"] is None and denied["status"] == "UNAUTHENTICATED", denied
    assert denied["peer"].startswith("ipv4:127.0.0.1:"), f"where the attempt came from: {denied}"
    assert "not-a-configured-token" not in str(console.records.lines), "a token must never reach the log"


def test_malformed_logins_are_400_naming_the_problem(console) -> None:
    browser = console.browser()
    cases = {
        "empty token": ({"token": ""}, "token: required"),
        "no token": ({}, "token: required"),
        "token not a string": ({"token": 5}, "token: required"),
        "unknown field": ({"token": "x", "password": "y"}, "unknown field 'password'"),
        "bad language": ({"token": "x", "language": "fr"}, "language must be one of"),
        "huge token": ({"token": "x" * 600}, "longer than 512"),
    }
    for name, (body, message) in cases.items():
        reply = browser.post("/api/login", body)
        assert reply.status == 400, f"{name}: expected 400, got {reply.status} {reply.body!r}"
        assert message in reply.json["error"]["message"], f"{name}: {reply.json}"
    reply = browser.request("POST", "/api/login", data=b"{not json", headers={"Content-Type": "application/json"})
    assert reply.status == 400 and "not valid JSON" in reply.json["error"]["message"], reply.body


def test_failed_logins_are_rate_limited_per_address_with_retry_after(make_console) -> None:
    console = make_console(web={"login_failures_allowed": 3, "login_failure_window_s": 60})
    browser = console.browser()
    for attempt in range(3):
        assert browser.login("wrong").status == 401, f"attempt {attempt + 1} must be judged, not limited"
    limited = browser.login(token("admin"))
    assert limited.status == 429 and limited.error_code == "rate_limited", f"{limited.status} {limited.body!r}"
    assert limited.headers["Retry-After"] == "60", f"Retry-After must say when: {limited.headers}"
    assert "too many failed logins" in limited.json["error"]["message"], limited.json
    console.clock.advance(61)
    assert browser.login(token("admin")).status == 200, "after the window a right token must work again"


def test_logout_ends_the_session(console) -> None:
    browser = console.browser()
    browser.login(token("admin"))
    cookie = browser.session_cookie()
    reply = browser.post("/api/logout")
    assert reply.status == 200, f"logout: {reply.status} {reply.body!r}"
    assert console.web.services.sessions.get(cookie) is None, "the session must be gone on the server"
    thief = console.browser()
    thief.session.cookie_jar.update_cookies({"matthan_session": cookie})
    assert thief.get("/api/cameras").status == 401, "the old cookie must no longer open anything"
    assert browser.get("/api/session").json["authenticated"] is False, "the browser must be logged out"


def test_a_session_expires_when_idle_and_at_its_max_age(make_console) -> None:
    console = make_console(web={"session_idle_s": 600, "session_max_age_s": 3600})
    browser = console.browser()
    browser.login(token("admin"))
    console.clock.advance(599)
    assert browser.get("/api/cameras").status == 200, "used within the idle time: valid"
    console.clock.advance(601)
    reply = browser.get("/api/cameras")
    assert reply.status == 401 and reply.error_code == "unauthenticated", "idle too long: the session must be over"
    browser.login(token("admin"))
    for _ in range(7):
        console.clock.advance(500)
        assert browser.get("/api/cameras").status == 200, "in use: valid until its max age"
    console.clock.advance(100)
    assert browser.get("/api/cameras").status == 401, "3600 s after login the session must end however it is used"


def test_state_changes_need_the_sessions_csrf_token(console) -> None:
    browser = console.browser()
    browser.login(token("admin"))
    missing = browser.post("/api/logout", csrf=False)
    assert missing.status == 403 and missing.error_code == "csrf_failed", f"{missing.status} {missing.body!r}"
    forged = browser.post("/api/logout", csrf=False, headers={"X-CSRF-Token": "forged"})
    assert forged.status == 403 and forged.error_code == "csrf_failed", "a forged token must be refused"
    assert browser.get("/api/session").json["authenticated"], "a refused logout must not have logged out"
    assert browser.post("/api/logout").status == 200, "with the token it must work"


def test_another_sessions_csrf_token_does_not_work(console) -> None:
    alice, bob = console.browser(), console.browser()
    alice.login(token("admin"))
    bob.login(token("operator"))
    reply = alice.post("/api/logout", csrf=False, headers={"X-CSRF-Token": bob.csrf})
    assert reply.status == 403, "a CSRF token is bound to its own session"


def test_cross_origin_state_changes_are_refused(console) -> None:
    browser = console.browser(origin="http://evil.example")
    reply = browser.post("/api/login", {"token": token("admin")})
    assert reply.status == 403 and reply.error_code == "forbidden_origin", f"{reply.status} {reply.body!r}"
    assert "evil.example" in reply.json["error"]["message"], reply.json


def test_state_changes_must_be_json(console) -> None:
    browser = console.browser()
    reply = browser.request(
        "POST", "/api/login", data=b"token=abc", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert reply.status == 415 and reply.error_code == "unsupported_media_type", "a form post must be refused"


def test_state_changes_without_a_session_are_only_login_and_language(console) -> None:
    browser = console.browser()
    assert browser.post("/api/logout").status == 401, "logout without a session: 401"
    assert browser.post("/api/language", {"language": "en"}).status == 200, "the login page may switch language"


def test_the_language_is_vietnamese_by_default_and_switchable(console) -> None:
    browser = console.browser()
    assert browser.get("/api/session").json["language"] == "vi", "Vietnamese by default"
    browser.login(token("admin"))
    assert browser.get("/api/session").json["language"] == "vi"
    reply = browser.post("/api/language", {"language": "en"})
    assert reply.status == 200 and reply.cookies["matthan_lang"].value == "en", "kept in a cookie"
    assert browser.get("/api/session").json["language"] == "en", "and in the session"
    other = console.browser()
    other.session.cookie_jar.update_cookies({"matthan_lang": "en"})
    assert other.get("/api/session").json["language"] == "en", "the cookie sets the login page's language"
    assert browser.post("/api/language", {"language": "de"}).status == 400, "only vi and en exist"


def test_the_no_token_mode_opens_without_login_as_the_unauthenticated_role(make_console) -> None:
    console = make_console(tokens=[], allow_unauthenticated=True, unauthenticated_role="viewer")
    browser = console.browser()
    session = browser.get("/api/session").json
    assert session["authenticated"] and session["user"]["name"] == "anonymous", f"no login needed: {session}"
    assert session["user"]["role"] == "viewer", "the anonymous principal has unauthenticated_role"
    assert browser.get("/api/cameras").status == 200, "the API works with that session"


def test_a_login_replaces_the_browsers_previous_session(console) -> None:
    browser = console.browser()
    browser.login(token("viewer-a"))
    first = browser.session_cookie()
    browser.login(token("admin"))
    assert console.web.services.sessions.get(first) is None, "the previous session must end at a new login"
    assert browser.get("/api/session").json["user"]["name"] == "admin"
