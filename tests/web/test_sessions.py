"""Sessions: idle and absolute expiry, logout, a bound on their number, CSRF tokens."""

from __future__ import annotations

from cluster.config.server import Role
from cluster.gateway.auth import Principal
from cluster.web.sessions import SessionStore

from .harness import ManualClock

ALICE = Principal("alice", Role.VIEWER, groups=frozenset({"ward-1"}), scoped=True)


def store(clock: ManualClock, ended: list | None = None, **kwargs) -> SessionStore:
    options = {"idle_s": 60.0, "max_age_s": 600.0, "max_sessions": 10, **kwargs}

    def on_end(session, why: str) -> None:
        if ended is not None:
            ended.append((session.principal.name, why))

    return SessionStore(clock=clock, on_end=on_end, **options)


def test_a_new_session_is_found_by_its_id_with_its_principal() -> None:
    sessions = store(ManualClock())
    session_id, session = sessions.create(ALICE, "ipv4:10.0.0.1:5000")
    assert sessions.get(session_id) is session, "the id from create() must find the session"
    assert session.principal == ALICE, "the session must carry the principal that logged in"
    assert sessions.get("not-" + session_id) is None, "an unknown id must find nothing"
    assert sessions.get(None) is None and sessions.get("") is None, "no cookie must find nothing"


def test_session_ids_and_csrf_tokens_are_random_and_distinct() -> None:
    sessions = store(ManualClock())
    made = [sessions.create(ALICE, "peer") for _ in range(5)]
    ids = {session_id for session_id, _ in made}
    tokens = {session.csrf_token for _, session in made}
    assert len(ids) == 5 and len(tokens) == 5, "every session needs its own id and CSRF token"
    assert all(len(i) >= 40 for i in ids), f"ids must carry at least 256 bits: {ids}"
    assert not ids & tokens, "a CSRF token must never equal a session id"


def test_a_session_unused_for_idle_s_ends() -> None:
    clock, ended = ManualClock(), []
    sessions = store(clock, ended)
    session_id, _ = sessions.create(ALICE, "peer")
    clock.advance(59)
    assert sessions.get(session_id) is not None, "59 s of 60 idle: still valid"
    clock.advance(59)
    assert sessions.get(session_id) is not None, "use restarts the idle clock"
    clock.advance(60)
    assert sessions.get(session_id) is None, "60 s unused: the session must have ended"
    assert ended == [("alice", "session expired (unused for 60 s)")], f"the end must be reported with why: {ended}"


def test_a_session_ends_max_age_after_login_however_much_it_is_used() -> None:
    clock = ManualClock()
    sessions = store(clock)
    session_id, _ = sessions.create(ALICE, "peer")
    for _ in range(19):
        clock.advance(30)
        assert sessions.get(session_id) is not None, "in use and younger than max_age: valid"
    clock.advance(30)
    assert sessions.get(session_id) is None, "600 s after login the session must end although it was in use"


def test_a_look_without_touch_does_not_keep_the_session_alive() -> None:
    clock = ManualClock()
    sessions = store(clock)
    session_id, _ = sessions.create(ALICE, "peer")
    clock.advance(50)
    assert sessions.get(session_id, touch=False) is not None
    clock.advance(15)
    assert sessions.get(session_id) is None, "a look without touch must not restart the idle clock"


def test_logout_ends_the_session_and_reports_it() -> None:
    ended: list = []
    sessions = store(ManualClock(), ended)
    session_id, _ = sessions.create(ALICE, "peer")
    assert sessions.end(session_id) is not None, "ending a live session returns it"
    assert sessions.get(session_id) is None, "after logout the id must find nothing"
    assert sessions.end(session_id) is None, "ending twice is harmless"
    assert ended == [("alice", "logged out")], f"the logout must be reported once: {ended}"


def test_beyond_max_sessions_the_oldest_login_ends() -> None:
    ended: list = []
    sessions = store(ManualClock(), ended, max_sessions=2)
    first, _ = sessions.create(ALICE, "peer")
    second, _ = sessions.create(ALICE, "peer")
    third, _ = sessions.create(ALICE, "peer")
    assert len(sessions) == 2, "the store must stay within max_sessions"
    assert sessions.get(first) is None, "the oldest login must have ended"
    assert sessions.get(second) is not None and sessions.get(third) is not None, "the newer two must remain"
    assert ended and "too many sessions" in ended[0][1], f"the eviction must be reported: {ended}"


def test_csrf_matches_only_the_sessions_own_token() -> None:
    _, session = store(ManualClock()).create(ALICE, "peer")
    assert session.csrf_matches(session.csrf_token), "the session's own token must match"
    assert not session.csrf_matches(None), "no token must not match"
    assert not session.csrf_matches(""), "an empty token must not match"
    assert not session.csrf_matches(session.csrf_token[:-1] + "x"), "a forged token must not match"


def test_an_unknown_language_falls_back_to_vietnamese() -> None:
    sessions = store(ManualClock())
    assert sessions.create(ALICE, "peer", "en")[1].language == "en", "English must be kept"
    assert sessions.create(ALICE, "peer", "fr")[1].language == "vi", "an unknown language must fall back to vi"
