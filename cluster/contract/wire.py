"""The protobuf mechanics every conversion shares: Timestamps (checked, with the field
named when a client's is invalid) and the generic walk between messages and dicts that
lets the *Spec messages mirror the config models key for key.
"""

from __future__ import annotations

import logging

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from ..proto.matthan.v1 import types_pb2
from .errors import RequestError

log = logging.getLogger(__name__)


# ----------------------------------------------------------------- timestamps


def to_timestamp(epoch_seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(round(epoch_seconds * 1e9))
    return ts


def from_timestamp(ts: Timestamp) -> float:
    return ts.ToNanoseconds() / 1e9


# A Timestamp's valid range (google/protobuf/timestamp.proto): 0001-01-01 to 9999-12-31.
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799


def checked_timestamp(field: str, ts: Timestamp) -> float:
    """`ts` in epoch seconds, or RequestError naming `field` when it is not a valid Timestamp."""
    if not 0 <= ts.nanos <= 999_999_999:
        raise RequestError(field, f"nanos {ts.nanos} is out of range (0..999999999)")
    if not _MIN_SECONDS <= ts.seconds <= _MAX_SECONDS:
        raise RequestError(field, f"seconds {ts.seconds} is outside the years 0001-9999")
    return from_timestamp(ts)


def describe_timestamp(ts: Timestamp) -> str:
    """`ts` for a log line, valid or not."""
    try:
        return ts.ToJsonString()
    except ValueError:
        return f"invalid(seconds={ts.seconds}, nanos={ts.nanos})"


# ------------------------------------------------------------ generic message walk


def is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated


def _message_value(msg: Message) -> object:
    """A message as the config holds it: shapes as (x, y) pairs, anything else as a dict."""
    if isinstance(msg, types_pb2.Point):
        return (msg.x, msg.y)
    if isinstance(msg, types_pb2.Polygon):
        return [(p.x, p.y) for p in msg.points]
    return message_to_dict(msg)


def _fill_message(value: object, msg: Message, strict: bool) -> None:
    """The inverse of `_message_value`, into `msg`."""
    if isinstance(msg, types_pb2.Point):
        msg.x, msg.y = value  # type: ignore[misc]  # an (x, y) pair, checked by the config model
    elif isinstance(msg, types_pb2.Polygon):
        msg.points.extend(types_pb2.Point(x=x, y=y) for x, y in value)  # type: ignore[attr-defined]
    else:
        assert isinstance(value, dict), f"{msg.DESCRIPTOR.full_name} needs a mapping, got {value!r}"
        dict_to_message(value, msg, strict)


def message_to_dict(msg: Message) -> dict:
    """Present fields only: unset optional scalars and messages, empty repeated fields are left out."""
    out: dict = {}
    for field in msg.DESCRIPTOR.fields:
        value = getattr(msg, field.name)
        if is_repeated(field):
            if not value:
                continue
            if field.message_type is None:
                out[field.name] = list(value)
            else:
                out[field.name] = [_message_value(v) for v in value]
        elif field.message_type is not None:
            if msg.HasField(field.name):
                out[field.name] = _message_value(value)
        elif field.has_presence:
            if msg.HasField(field.name):
                out[field.name] = value
        else:
            out[field.name] = value  # plain proto3 scalar (CameraSpec.id): always present
    return out


def dict_to_message(data: dict, msg: Message, strict: bool = True) -> Message:
    """Fill `msg` from a JSON-mode dict of a config model.

    A key the message lacks raises KeyError when `strict`; otherwise it is skipped
    with a warning (once per key), so a config field added without its proto
    field never breaks ListCameras. tests/proto checks the two stay in sync.
    """
    msg.SetInParent()
    fields = msg.DESCRIPTOR.fields_by_name
    for key, value in data.items():
        if value is None:
            continue
        field = fields.get(key)
        if field is None:
            problem = f"{msg.DESCRIPTOR.full_name} has no field {key!r} (proto and config out of sync)"
            if strict:
                raise KeyError(problem)
            if problem not in _warned:
                _warned.add(problem)
                log.warning("%s: the field is not sent to clients", problem)
            continue
        target = getattr(msg, key)
        if is_repeated(field):
            if field.message_type is None:
                target.extend(value)
            else:
                for item in value:
                    _fill_message(item, target.add(), strict)
        elif field.message_type is not None:
            target.SetInParent()
            _fill_message(value, target, strict)
        else:
            setattr(msg, key, value)
    return msg


_warned: set[str] = set()
