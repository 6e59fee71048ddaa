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

Feed cursors (`encode_feed_cursor`) are positions in the change feed, for a live
stream to resume from: `"f1." base64url(payload)`, the payload naming the store's
feed (`feed_id`, derived from the same key, which it does not reveal) and the
position. They are not signed: whoever holds one may read the feed from its start
anyway (what it may see is decided by its filter, not by the position), so an
altered position gives nothing away. They are checked for form, version and store,
and refused with an `InvalidCursor` that says what is wrong, including when a query
cursor is given where a feed cursor belongs.
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


FEED_CURSOR_PREFIX = "f1."


def feed_id_of(key: bytes) -> str:
    """The change feed's public name: stable for a store file, different between stores."""
    return hmac.new(key, b"matthan change feed", hashlib.sha256).hexdigest()[:16]


def encode_feed_cursor(feed_id: str, position: int) -> str:
    payload = json.dumps({"f": feed_id, "p": position}, separators=(",", ":")).encode("utf-8")
    return FEED_CURSOR_PREFIX + _b64(payload)


def decode_feed_cursor(feed_id: str, cursor: str, field: str = "cursor") -> int:
    """The change-feed position of a cursor `encode_feed_cursor` made for this feed."""
    if not isinstance(cursor, str) or not cursor:
        raise InvalidCursor(f"expected the cursor of a streamed event, got {cursor!r}", field)
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor(f"too long ({len(cursor)} characters) to be a stream cursor", field)
    if not cursor.startswith(FEED_CURSOR_PREFIX):
        if cursor.count(".") == 1 and not cursor.startswith("f"):
            raise InvalidCursor("a query cursor (from a page of results), not a stream cursor", field)
        raise InvalidCursor("malformed: not a stream cursor of this store", field)
    text = cursor[len(FEED_CURSOR_PREFIX) :]
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidCursor("malformed: not a stream cursor of this store", field) from None
    if not isinstance(data, dict) or not isinstance(data.get("f"), str):
        raise InvalidCursor("malformed: not a stream cursor of this store", field)
    if data["f"] != feed_id:
        raise InvalidCursor("made by another event store (its file was replaced?): start without a cursor", field)
    position = data.get("p")
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise InvalidCursor("malformed: bad position", field)
    return position


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
