"""Client messages of the console's WebSocket are parsed strictly; frames round-trip."""

from __future__ import annotations

import json

import pytest

from cluster.web.protocol import (
    Ack,
    ChannelKey,
    ChannelKind,
    FrameSize,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    close_reason,
    decode_frame,
    encode_frame,
    parse_client_message,
)


def parse(message: object) -> object:
    return parse_client_message(json.dumps(message))


def test_valid_messages_parse_to_their_types() -> None:
    assert parse({"type": "subscribe", "channel": "frames", "camera": "cam-1", "size": "large"}) == Subscribe(
        ChannelKey(ChannelKind.FRAMES, "cam-1"), FrameSize.LARGE
    ), "a frames subscription with its size"
    assert parse({"type": "subscribe", "channel": "frames", "camera": "cam-1"}).size is FrameSize.TILE, (
        "tile is the default size"
    )
    assert parse({"type": "subscribe", "channel": "status", "groups": ["ward-1"]}) == Subscribe(
        ChannelKey(ChannelKind.STATUS), groups=frozenset({"ward-1"})
    ), "a status subscription with a group filter"
    assert parse({"type": "unsubscribe", "channel": "detections", "camera": "c"}) == Unsubscribe(
        ChannelKey(ChannelKind.DETECTIONS, "c")
    ), "an unsubscribe"
    assert parse({"type": "ack", "seq": 7}) == Ack(7), "an ack"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "dance"}', "unknown message type"),
        ('{"type": "subscribe", "channel": "video", "camera": "c"}', "channel must be one of"),
        ('{"type": "subscribe", "channel": "frames", "camera": "Not An Id"}', "is not a camera id"),
        ('{"type": "subscribe", "channel": "frames"}', "is not a camera id"),
        ('{"type": "subscribe", "channel": "frames", "camera": "c", "size": "huge"}', "'tile' or 'large'"),
        ('{"type": "subscribe", "channel": "frames", "camera": "c", "fps": 60}', "unknown field 'fps'"),
        ('{"type": "subscribe", "channel": "status", "groups": "ward-1"}', "list of at most"),
        ('{"type": "subscribe", "channel": "status", "groups": [""]}', "is not a group name"),
        ('{"type": "ack", "seq": -1}', "non-negative integer"),
        ('{"type": "ack", "seq": true}', "non-negative integer"),
        ('{"type": "ack", "seq": 1.5}', "non-negative integer"),
    ],
)
def test_malformed_messages_are_refused_naming_what_is_wrong(text: str, names: str) -> None:
    with pytest.raises(ProtocolError, match=names):
        parse_client_message(text)


def test_a_frame_message_round_trips_header_and_jpeg() -> None:
    jpeg = b"\xff\xd8" + bytes(range(256)) * 4 + b"\xff\xd9"
    header, body = decode_frame(encode_frame({"camera": "hẻm-12", "width": 320}, jpeg, 42))
    assert header == {"camera": "hẻm-12", "width": 320, "type": "frame", "seq": 42}, f"header: {header}"
    assert body == jpeg, "the JPEG must arrive byte for byte"


def test_close_reasons_fit_the_protocols_123_bytes_at_a_character_boundary() -> None:
    reason = close_reason("Phiên đăng nhập đã hết hạn " * 10)
    assert len(reason) <= 123, f"a close reason is at most 123 bytes, got {len(reason)}"
    reason.decode("utf-8")  # must not cut a character in half
