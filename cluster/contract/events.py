"""Protobuf <-> the event store's types (`matthan.v1.Events`), both directions.

Enums map by name: `EventType.LINE_CROSSING` is `EVENT_TYPE_LINE_CROSSING`,
`GroupBy.CLASS` is `COUNT_KEY_CLASS`, and so on; a test checks both ways that
every value has its twin. A request value that is not one of them (an UNSPECIFIED
zero, or a number from a newer client) is a `RequestError` naming the field.
Bad filters (a time range backwards, a negative dwell) are the store's own checks
(`EventFilter`), reported here as `RequestError`s under the request's field names.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from ..domain import Box, Direction, Event, EventType, Severity
from ..events import Bucket, CountRow, EventFilter, GroupBy, InvalidQuery, Order
from ..proto.matthan.v1 import events_pb2, types_pb2
from .errors import RequestError
from .wire import checked_timestamp, from_timestamp, to_timestamp

E = TypeVar("E", bound=enum.Enum)
FILTER_FIELD = "filter"


def _enum_map(domain: type[E], wire: EnumTypeWrapper, prefix: str) -> dict[E, Any]:
    # Values are the wire numbers (Any: the generated stubs type each enum field by its own class).
    return {member: wire.Value(prefix + str(member.value).upper()) for member in domain}


EVENT_TYPES = _enum_map(EventType, events_pb2.EventType, "EVENT_TYPE_")
SEVERITIES = _enum_map(Severity, events_pb2.Severity, "SEVERITY_")
DIRECTIONS = _enum_map(Direction, events_pb2.Direction, "DIRECTION_")
ORDERS = _enum_map(Order, events_pb2.EventOrder, "EVENT_ORDER_")
GROUP_KEYS = _enum_map(GroupBy, events_pb2.CountKey, "COUNT_KEY_")
BUCKETS = _enum_map(Bucket, events_pb2.TimeBucket, "TIME_BUCKET_")


def _reverse(mapping: Mapping[E, Any]) -> dict[int, E]:
    return {number: member for member, number in mapping.items()}


_FROM_EVENT_TYPE = _reverse(EVENT_TYPES)
_FROM_SEVERITY = _reverse(SEVERITIES)
_FROM_DIRECTION = _reverse(DIRECTIONS)
_FROM_ORDER = _reverse(ORDERS)
_FROM_GROUP_KEY = _reverse(GROUP_KEYS)
_FROM_BUCKET = _reverse(BUCKETS)


def _member(number: int, known: Mapping[int, E], field: str, what: str) -> E:
    member = known.get(number)
    if member is None:
        names = ", ".join(str(m.value) for m in known.values())
        raise RequestError(field, f"{number} is not a {what} (one of: {names})")
    return member


def _members(numbers: Iterable[int], known: Mapping[int, E], field: str, what: str) -> list[E]:
    return [_member(n, known, f"{field}[{i}]", what) for i, n in enumerate(numbers)]


# ---------------------------------------------------------------------- events


def event_to_proto(event: Event, *, with_thumbnail: bool = False) -> events_pb2.Event:
    msg = events_pb2.Event(
        event_id=event.event_id,
        camera_id=event.camera_id,
        type=EVENT_TYPES[event.type],
        severity=SEVERITIES[event.severity],
        rule=event.rule,
        start_time=to_timestamp(event.start_time),
        start_pts=event.start_pts,
        revision=event.revision,
    )
    if event.end_time is not None:
        msg.end_time.CopyFrom(to_timestamp(event.end_time))
    if event.end_pts is not None:
        msg.end_pts = event.end_pts
    if event.class_name is not None:
        msg.class_name = event.class_name
    if event.track_id is not None:
        msg.track_id = event.track_id
    if event.direction is not None:
        msg.direction = DIRECTIONS[event.direction]
    if event.dwell_s is not None:
        msg.dwell_s = event.dwell_s
    if event.count is not None:
        msg.count = event.count
    if event.peak_confidence is not None:
        msg.peak_confidence = event.peak_confidence
    if event.peak_box is not None:
        box = event.peak_box
        msg.peak_box.CopyFrom(types_pb2.Box(x=box.x, y=box.y, w=box.w, h=box.h))
    if event.job_id is not None:
        msg.job_id = event.job_id
    if with_thumbnail and event.thumbnail is not None:
        msg.thumbnail = event.thumbnail
    return msg


def event_from_proto(msg: events_pb2.Event) -> Event:
    def optional(name: str) -> Any:
        return getattr(msg, name) if msg.HasField(name) else None

    box = msg.peak_box if msg.HasField("peak_box") else None
    return Event(
        event_id=msg.event_id,
        camera_id=msg.camera_id,
        type=_member(msg.type, _FROM_EVENT_TYPE, "type", "event type"),
        severity=_member(msg.severity, _FROM_SEVERITY, "severity", "severity"),
        rule=msg.rule,
        start_time=from_timestamp(msg.start_time),
        start_pts=msg.start_pts,
        end_time=from_timestamp(msg.end_time) if msg.HasField("end_time") else None,
        end_pts=optional("end_pts"),
        class_name=optional("class_name"),
        track_id=optional("track_id"),
        direction=_FROM_DIRECTION.get(msg.direction),
        dwell_s=optional("dwell_s"),
        count=optional("count"),
        peak_confidence=optional("peak_confidence"),
        peak_box=Box(box.x, box.y, box.w, box.h) if box is not None else None,
        job_id=optional("job_id"),
        revision=msg.revision,
        thumbnail=msg.thumbnail or None,
    )


# --------------------------------------------------------------------- filters


def filter_from_proto(msg: events_pb2.EventFilter, cameras: AbstractSet[str] | None) -> EventFilter:
    """The store's filter for a request's `filter`, limited to `cameras` (the caller's
    scope, already resolved from camera_ids and groups; None: every camera)."""
    field = FILTER_FIELD
    types = _members(msg.types, _FROM_EVENT_TYPE, f"{field}.types", "event type")
    severities = _members(msg.severities, _FROM_SEVERITY, f"{field}.severities", "severity")
    try:
        return EventFilter(
            cameras=cameras,
            types=frozenset(types) or None,
            severities=frozenset(severities) or None,
            classes=frozenset(msg.classes) or None,
            rules=frozenset(msg.rules) or None,
            time_from=checked_timestamp(f"{field}.time_from", msg.time_from) if msg.HasField("time_from") else None,
            time_to=checked_timestamp(f"{field}.time_to", msg.time_to) if msg.HasField("time_to") else None,
            min_dwell_s=msg.min_dwell_s if msg.HasField("min_dwell_s") else None,
            job_ids=frozenset(msg.job_ids) or None,
            live_only=msg.live_only,
        )
    except InvalidQuery as exc:
        raise RequestError(f"{field}.{exc.field}", exc.reason) from None


def filter_to_proto(
    *,
    camera_ids: Iterable[str] = (),
    groups: Iterable[str] = (),
    types: Iterable[EventType | str] = (),
    severities: Iterable[Severity | str] = (),
    classes: Iterable[str] = (),
    rules: Iterable[str] = (),
    time_from: float | None = None,
    time_to: float | None = None,
    min_dwell_s: float | None = None,
    job_ids: Iterable[str] = (),
    live_only: bool = False,
) -> events_pb2.EventFilter:
    """A request filter from Python values (the client's side); enum values by name or member."""
    msg = events_pb2.EventFilter(
        camera_ids=list(camera_ids),
        groups=list(groups),
        types=[EVENT_TYPES[_as(EventType, t, "types")] for t in types],
        severities=[SEVERITIES[_as(Severity, s, "severities")] for s in severities],
        classes=list(classes),
        rules=list(rules),
        job_ids=list(job_ids),
        live_only=live_only,
    )
    if time_from is not None:
        msg.time_from.CopyFrom(to_timestamp(time_from))
    if time_to is not None:
        msg.time_to.CopyFrom(to_timestamp(time_to))
    if min_dwell_s is not None:
        msg.min_dwell_s = min_dwell_s
    return msg


def _as(enum_type: type[E], value: E | str, field: str) -> E:
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except ValueError:
        names = ", ".join(str(m.value) for m in enum_type)
        raise RequestError(field, f"{value!r} is not one of: {names}") from None


# ------------------------------------------------------------- orders and counts


def order_from_proto(number: int) -> Order:
    return _member(number, _FROM_ORDER, "order", "order")


def order_to_proto(order: Order | str) -> Any:
    return ORDERS[_as(Order, order, "order")]


def group_by_from_proto(numbers: Iterable[int]) -> tuple[GroupBy, ...]:
    keys = _members(numbers, _FROM_GROUP_KEY, "group_by", "count key")
    if len(set(keys)) != len(keys):
        raise RequestError("group_by", f"a key is repeated: {[k.value for k in keys]}")
    return tuple(keys)


def group_by_to_proto(keys: Iterable[GroupBy | str]) -> list[Any]:
    return [GROUP_KEYS[_as(GroupBy, k, "group_by")] for k in keys]


def bucket_from_proto(number: int) -> Bucket | None:
    if number == events_pb2.TIME_BUCKET_NONE:
        return None
    return _member(number, _FROM_BUCKET, "bucket", "time bucket")


def bucket_to_proto(bucket: Bucket | str | None) -> Any:
    return events_pb2.TIME_BUCKET_NONE if bucket is None else BUCKETS[_as(Bucket, bucket, "bucket")]


def count_row_to_proto(row: CountRow) -> events_pb2.EventCount:
    msg = events_pb2.EventCount(count=row.count)
    if row.bucket_start is not None:
        msg.bucket_start.CopyFrom(to_timestamp(row.bucket_start))
    if row.camera_id is not None:
        msg.camera_id = row.camera_id
    if row.rule is not None:
        msg.rule = row.rule
    if row.class_name is not None:
        msg.class_name = row.class_name
    if row.direction is not None:
        msg.direction = DIRECTIONS[row.direction]
    if row.type is not None:
        msg.type = EVENT_TYPES[row.type]
    if row.severity is not None:
        msg.severity = SEVERITIES[row.severity]
    return msg


def count_row_from_proto(msg: events_pb2.EventCount) -> CountRow:
    return CountRow(
        count=msg.count,
        bucket_start=from_timestamp(msg.bucket_start) if msg.HasField("bucket_start") else None,
        camera_id=msg.camera_id if msg.HasField("camera_id") else None,
        rule=msg.rule if msg.HasField("rule") else None,
        class_name=msg.class_name if msg.HasField("class_name") else None,
        direction=_FROM_DIRECTION.get(msg.direction),
        type=_FROM_EVENT_TYPE.get(msg.type),
        severity=_FROM_SEVERITY.get(msg.severity),
    )
