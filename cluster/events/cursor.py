"""Opaque query cursors: a position in a query's order, signed by the store.

A cursor is `base64url(payload) "." base64url(mac)`. The payload (JSON) holds the
format version, the order, a fingerprint of the filter and the position: the
order key `(start_time, seq)` of the last event returned. The MAC (HMAC-SHA256,
truncated to 128 bits) uses the random key in the store's `meta` table, so a
cursor altered by hand, or made by another store, is refused; one made for
another filter or order is refused too, because resuming there would skip or
repeat events. Every refusal is an `InvalidCursor` that says which of these it is.

The position is a value, not a row: a cursor stays valid when its event is
updated or deleted by retention.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from dataclasses import dataclass

from .errors import InvalidCursor
from .query import Order

CURSOR_VERSION = 1
MAX_CURSOR_LENGTH = 512
MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class Position:
    """The order key of the last event a page returned."""

    start_time: float
    seq: int


def encode_cursor(key: bytes, order: Order, fingerprint: str, position: Position) -> str:
    payload = json.dumps(
        {"v": CURSOR_VERSION, "o": order.value, "f": fingerprint, "t": position.start_time, "s": position.seq},
        separators=(",", ":"),
    ).encode("utf-8")
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def decode_cursor(key: bytes, cursor: str, order: Order, fingerprint: str) -> Position:
    if not isinstance(cursor, str) or not cursor:
        raise InvalidCursor(f"expected the cursor string a previous page returned, got {cursor!r}")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor(f"too long ({len(cursor)} characters) to be a cursor of this store")
    parts = cursor.split(".")
    if len(parts) != 2:
        raise InvalidCursor("malformed: not a cursor of this store")
    try:
        payload, mac = (base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in parts)
    except (binascii.Error, ValueError):
        raise InvalidCursor("malformed: not valid base64") from None
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise InvalidCursor("altered, or made by another event store")
    try:
        data = json.loads(payload)
    except ValueError:
        raise InvalidCursor("malformed: unreadable payload") from None
    if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
        version = data.get("v") if isinstance(data, dict) else None
        raise InvalidCursor(
            f"format version {version!r} is not supported (this store makes version "
            f"{CURSOR_VERSION}); start the query again without a cursor"
        )
    if data.get("o") != order.value:
        raise InvalidCursor(f"made for order {data.get('o')!r}, not {order.value!r}")
    if data.get("f") != fingerprint:
        raise InvalidCursor("made for a different filter; resume with the filter of the first page")
    start_time, seq = data.get("t"), data.get("s")
    if (
        isinstance(start_time, bool)
        or not isinstance(start_time, (int, float))
        or not math.isfinite(start_time)
        or isinstance(seq, bool)
        or not isinstance(seq, int)
    ):
        raise InvalidCursor("malformed: bad position")
    return Position(float(start_time), seq)


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
