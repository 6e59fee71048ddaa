"""Browser sessions: who logged in, until when, and the CSRF token of each session.

A session is created by a login (or, in the loopback no-token mode, by the first
page load) and ends on logout, after `idle_s` without use, or `max_age_s` after it
began, whichever comes first. Sessions live in this process's memory: a restart of
the front door logs every browser out (they log in again with their token).

The cookie carries a random 256-bit id; the store is keyed by its SHA-256, so the
ids themselves are not kept. Each session has its own random CSRF token, which the
page sends in the `X-CSRF-Token` header of every state-changing request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ..gateway.auth import Principal

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


@dataclass
class Session:
    principal: Principal
    csrf_token: str
    created: float  # clock() at login
    last_used: float
    peer: str  # where the login came from
    language: str = DEFAULT_LANGUAGE
    digest: str = field(default="", repr=False)  # SHA-256 of the session id: the store's key
    log_id: str = field(default="")  # a short, non-secret id for the access log

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf_token.encode())


class SessionStore:
    """In-memory sessions with idle and absolute expiry, at most `max_sessions` (oldest ends first)."""

    def __init__(
        self,
        *,
        idle_s: float,
        max_age_s: float,
        max_sessions: int,
        clock: Callable[[], float],
        on_end: Callable[[Session, str], None] | None = None,
    ):
        self.idle_s = idle_s
        self.max_age_s = max_age_s
        self.max_sessions = max_sessions
        self.clock = clock
        self._on_end = on_end  # (session, why): e.g. close its WebSockets
        self._sessions: OrderedDict[str, Session] = OrderedDict()  # digest -> session, oldest login first

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, principal: Principal, peer: str, language: str = DEFAULT_LANGUAGE) -> tuple[str, Session]:
        """A new session; returns (session id for the cookie, session)."""
        self.prune()
        while len(self._sessions) >= self.max_sessions:
            _, oldest = self._sessions.popitem(last=False)
            self._ended(oldest, "too many sessions: the oldest ended")
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        digest = _digest(session_id)
        session = Session(
            principal=principal,
            csrf_token=secrets.token_urlsafe(32),
            created=now,
            last_used=now,
            peer=peer,
            language=language if language in LANGUAGES else DEFAULT_LANGUAGE,
            digest=digest,
            log_id=digest[:12],
        )
        self._sessions[digest] = session
        return session_id, session

    def get(self, session_id: str | None, *, touch: bool = True) -> Session | None:
        """The live session with this id (None if unknown or expired); `touch` marks it used."""
        if not session_id:
            return None
        return self.get_by_digest(_digest(session_id), touch=touch)

    def get_by_digest(self, digest: str, *, touch: bool = True) -> Session | None:
        """Like `get`, by the session's digest (what sockets and logs hold instead of the id)."""
        session = self._sessions.get(digest)
        if session is None:
            return None
        why = self.expired(session)
        if why is not None:
            del self._sessions[digest]
            self._ended(session, why)
            return None
        if touch:
            session.last_used = self.clock()
        return session

    def expired(self, session: Session) -> str | None:
        """Why the session is over, or None while it is valid."""
        now = self.clock()
        if now - session.created >= self.max_age_s:
            return f"session expired ({self.max_age_s:g} s after login)"
        if now - session.last_used >= self.idle_s:
            return f"session expired (unused for {self.idle_s:g} s)"
        return None

    def end(self, session_id: str | None, why: str = "logged out") -> Session | None:
        if not session_id:
            return None
        session = self._sessions.pop(_digest(session_id), None)
        if session is not None:
            self._ended(session, why)
        return session

    def prune(self) -> None:
        """Forget expired sessions (called on every login, so memory stays bounded)."""
        for digest, session in list(self._sessions.items()):
            why = self.expired(session)
            if why is not None:
                del self._sessions[digest]
                self._ended(session, why)

    def _ended(self, session: Session, why: str) -> None:
        if self._on_end is not None:
            self._on_end(session, why)
