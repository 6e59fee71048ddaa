"""Who watched which camera, when: one JSON line per stream start and end.

Records go to the `matthan.access` logger at INFO, so deployments route them
with ordinary logging config (a file handler, journald, a log shipper). Fields:

    event      "stream_start" | "stream_end" | "call" (unary) | "denied" (auth failed)
    who        token name ("anonymous" when unauthenticated access is allowed); never the token
    role       viewer | operator | admin
    method     e.g. "StreamFrames"
    cameras    camera ids the call concerns ([] = all the caller may see)
    peer       the client's address as gRPC reports it (e.g. "ipv4:10.0.0.7:51234")
    stream_id  pairs a stream_end with its stream_start
    start, end ISO 8601 UTC; duration_s
    messages   messages sent to the client
    status     gRPC status code name; detail: the status message
    plus per-method extras (dropped frames, resume points, filters; for the Events
    calls the whole query: filter, order, page size, group keys: who searched what)
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .auth import Principal

ACCESS_LOGGER = "matthan.access"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class StreamRecord:
    """A stream in progress; the handler counts messages and sets the outcome."""

    log: AccessLog
    stream_id: int
    principal: Principal
    method: str
    cameras: Sequence[str]
    peer: str
    start: float
    extra: dict = field(default_factory=dict)
    messages: int = 0
    status: str = "OK"
    detail: str = ""
    _ended: bool = False

    def end(self, status: str | None = None, detail: str | None = None, **extra: object) -> None:
        if self._ended:
            return
        self._ended = True
        if status is not None:
            self.status = status
        if detail is not None:
            self.detail = detail
        end = self.log.clock()
        self.log.emit(
            {
                "event": "stream_end",
                "stream_id": self.stream_id,
                **self.log.who(self.principal),
                "method": self.method,
                "cameras": list(self.cameras),
                "peer": self.peer,
                "start": _iso(self.start),
                "end": _iso(end),
                "duration_s": round(end - self.start, 3),
                "messages": self.messages,
                "status": self.status,
                "detail": self.detail,
                **self.extra,
                **extra,
            }
        )


class AccessLog:
    def __init__(self, logger: logging.Logger | None = None, clock: Callable[[], float] = time.time):
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)
        self.clock = clock
        self._ids = itertools.count(1)

    @staticmethod
    def who(principal: Principal | None) -> dict:
        if principal is None:
            return {"who": None, "role": None}
        return {"who": principal.name, "role": str(principal.role)}

    def emit(self, record: dict) -> None:
        self.logger.info(json.dumps(record, ensure_ascii=False, default=str))

    def stream_start(
        self, principal: Principal, method: str, cameras: Sequence[str], peer: str, **extra: object
    ) -> StreamRecord:
        record = StreamRecord(self, next(self._ids), principal, method, list(cameras), peer, self.clock(), dict(extra))
        self.emit(
            {
                "event": "stream_start",
                "stream_id": record.stream_id,
                **self.who(principal),
                "method": method,
                "cameras": list(cameras),
                "peer": peer,
                "start": _iso(record.start),
                **extra,
            }
        )
        return record

    def call(
        self,
        principal: Principal | None,
        method: str,
        cameras: Sequence[str],
        peer: str,
        *,
        status: str,
        detail: str = "",
        **extra: object,
    ) -> None:
        """A unary call (camera admin, snapshot, event search) or an auth failure (event
        "denied"); `extra`: per-method fields (what an event search asked for)."""
        now = self.clock()
        self.emit(
            {
                "event": "call" if status not in ("UNAUTHENTICATED", "PERMISSION_DENIED") else "denied",
                **self.who(principal),
                "method": method,
                "cameras": list(cameras),
                "peer": peer,
                "start": _iso(now),
                "status": status,
                "detail": detail,
                **extra,
            }
        )
