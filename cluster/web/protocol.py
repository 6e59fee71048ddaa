"""The console's WebSocket protocol: one socket per page, every tile multiplexed on it.

Client to server, JSON text messages (anything else closes the socket with 4400):

    {"type": "subscribe", "channel": "frames", "camera": "cam-1", "size": "tile"}   # or "large"
    {"type": "subscribe", "channel": "detections", "camera": "cam-1"}              # a tile's overlay
    {"type": "subscribe", "channel": "status", "groups": ["ward-3"]}               # groups optional
    {"type": "subscribe", "channel": "events"}                                     # camera, groups optional
    {"type": "unsubscribe", "channel": "frames", "camera": "cam-1"}
    {"type": "ack", "seq": 41}        # every message up to seq 41 has been handled

Server to client: every message carries `seq` (1, 2, 3, ...). The server has at most
`web.socket_window` messages unacknowledged; while the window is full, newer data
replaces what is not sent yet, per channel (newest wins), so a hidden tab or a slow
network never builds a backlog. Text messages are JSON (`hello`, `detections`,
`cameras`, `events`, `closed`); a frame is a binary message:

    4 bytes big-endian header length | header (UTF-8 JSON, "type": "frame") | JPEG

A channel that ends on its own (camera removed, access revoked, not visible,
unavailable) gets a `closed` message naming `code`; the socket and its other
channels go on. The socket itself closes with one of `CloseCode`.

Channel kinds are `ChannelKind`. The events feed ("events") is the one kind where
newest-wins would be wrong: its channel keeps the events not sent yet in a bounded
list and each `events` message carries all of them (and `lost`, how many it had to
leave out since the last message), see event_channel.py.
"""

from __future__ import annotations

import enum
import json
import re
import struct
from dataclasses import dataclass

from ..config.camera import CAMERA_ID_PATTERN

_CAMERA_ID = re.compile(CAMERA_ID_PATTERN)
MAX_GROUPS = 100
MAX_GROUP_LENGTH = 128
_HEADER_LENGTH = struct.Struct(">I")


class CloseCode(enum.IntEnum):
    """Why the server closed a console WebSocket (4000-4999: the application's own)."""

    GOING_AWAY = 1001  # the front door is shutting down: reconnect later
    MESSAGE_TOO_BIG = 1009  # a message above web.max_request_bytes
    BAD_MESSAGE = 4400  # not a valid protocol message (the reason says what is wrong)
    SESSION_ENDED = 4401  # logged out or expired: log in again
    TOO_SLOW = 4408  # the browser accepted or acknowledged nothing for web.stuck_timeout_s
    TOO_MANY = 4429  # too many channels on this socket, or sockets in this session


class ChannelKind(str, enum.Enum):
    FRAMES = "frames"
    DETECTIONS = "detections"
    STATUS = "status"
    EVENTS = "events"  # the live events feed: every camera the user may see, or one camera


class FrameSize(str, enum.Enum):
    TILE = "tile"  # web.tile_width at web.tile_fps
    LARGE = "large"  # web.large_width at web.large_fps


class ProtocolError(ValueError):
    """A message the server cannot accept; the socket closes with 4400 and this reason."""


@dataclass(frozen=True, slots=True)
class ChannelKey:
    kind: ChannelKind
    camera: str = ""  # "" for the status channel and the events feed of every camera

    def describe(self) -> dict:
        return {"channel": self.kind.value, "camera": self.camera or None}


@dataclass(frozen=True, slots=True)
class Subscribe:
    key: ChannelKey
    size: FrameSize = FrameSize.TILE
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    key: ChannelKey


@dataclass(frozen=True, slots=True)
class Ack:
    seq: int


ClientMessage = Subscribe | Unsubscribe | Ack

_FIELDS = {
    ("subscribe", ChannelKind.FRAMES): {"type", "channel", "camera", "size"},
    ("subscribe", ChannelKind.DETECTIONS): {"type", "channel", "camera"},
    ("subscribe", ChannelKind.STATUS): {"type", "channel", "groups"},
    ("unsubscribe", ChannelKind.FRAMES): {"type", "channel", "camera"},
    ("unsubscribe", ChannelKind.DETECTIONS): {"type", "channel", "camera"},
    ("unsubscribe", ChannelKind.STATUS): {"type", "channel"},
    ("subscribe", ChannelKind.EVENTS): {"type", "channel", "camera", "groups"},
    ("unsubscribe", ChannelKind.EVENTS): {"type", "channel", "camera"},
}
# Channels whose camera is optional ("" when absent: every camera the user may see).
_CAMERA_OPTIONAL = {ChannelKind.EVENTS}


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def parse_client_message(text: str) -> ClientMessage:
    """The message in `text`; raises ProtocolError naming what is wrong."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ProtocolError("not JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("a message must be a JSON object")
    kind = data.get("type")
    if kind == "ack":
        _only(data, {"type", "seq"}, "ack")
        seq = data.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ProtocolError(f"ack.seq must be a non-negative integer, got {_shown(seq)}")
        return Ack(seq)
    if kind not in ("subscribe", "unsubscribe"):
        raise ProtocolError(f"unknown message type {_shown(kind)} (subscribe, unsubscribe or ack)")
    try:
        channel = ChannelKind(data.get("channel"))
    except ValueError:
        choices = ", ".join(k.value for k in ChannelKind)
        raise ProtocolError(f"{kind}.channel must be one of {choices}, got {_shown(data.get('channel'))}") from None
    _only(data, _FIELDS[(kind, channel)], f"{kind} {channel.value}")
    camera = ""
    if channel is not ChannelKind.STATUS and not (channel in _CAMERA_OPTIONAL and "camera" not in data):
        value = data.get("camera")
        if not isinstance(value, str) or not _CAMERA_ID.fullmatch(value):
            raise ProtocolError(f"{kind}.camera: {_shown(value)} is not a camera id")
        camera = value
    key = ChannelKey(channel, camera)
    if kind == "unsubscribe":
        return Unsubscribe(key)
    size = FrameSize.TILE
    if "size" in data:
        try:
            size = FrameSize(data["size"])
        except ValueError:
            raise ProtocolError(f"subscribe.size must be 'tile' or 'large', got {_shown(data['size'])}") from None
    return Subscribe(key, size, _groups(data.get("groups", [])))


def _only(data: dict, allowed: set[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ProtocolError(f"{what}: unknown field {_shown(unknown[0])}")


def _groups(value: object) -> frozenset[str]:
    if not isinstance(value, list) or len(value) > MAX_GROUPS:
        raise ProtocolError(f"subscribe.groups must be a list of at most {MAX_GROUPS} group names")
    for group in value:
        if not isinstance(group, str) or not group.strip() or len(group) > MAX_GROUP_LENGTH:
            raise ProtocolError(f"subscribe.groups: {_shown(group)} is not a group name")
    return frozenset(value)


# ------------------------------------------------------------------ server side


def encode_text(message: dict, seq: int) -> str:
    return json.dumps({**message, "seq": seq}, ensure_ascii=False, separators=(",", ":"))


def encode_frame(header: dict, jpeg: bytes, seq: int) -> bytes:
    head = json.dumps({**header, "type": "frame", "seq": seq}, separators=(",", ":")).encode("utf-8")
    return _HEADER_LENGTH.pack(len(head)) + head + jpeg


def decode_frame(data: bytes) -> tuple[dict, bytes]:
    """(header, JPEG) of a binary frame message (what the page does, for tests and benchmarks)."""
    (length,) = _HEADER_LENGTH.unpack_from(data)
    start = _HEADER_LENGTH.size
    return json.loads(data[start : start + length]), data[start + length :]


def close_reason(text: str) -> bytes:
    """A close reason within the protocol's 123 bytes (cut at a character boundary)."""
    raw = text.encode("utf-8")
    if len(raw) <= 123:
        return raw
    return raw[:120].decode("utf-8", "ignore").encode("utf-8") + b"..."
