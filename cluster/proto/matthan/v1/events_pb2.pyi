import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from . import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_ZONE_ENTER: _ClassVar[EventType]
    EVENT_TYPE_ZONE_LEAVE: _ClassVar[EventType]
    EVENT_TYPE_LOITERING: _ClassVar[EventType]
    EVENT_TYPE_OCCUPANCY: _ClassVar[EventType]
    EVENT_TYPE_LINE_CROSSING: _ClassVar[EventType]
    EVENT_TYPE_STREAM_LOST: _ClassVar[EventType]
    EVENT_TYPE_STREAM_STALLED: _ClassVar[EventType]
    EVENT_TYPE_TAMPER_BLACK: _ClassVar[EventType]
    EVENT_TYPE_TAMPER_UNIFORM: _ClassVar[EventType]
    EVENT_TYPE_TAMPER_DEFOCUS: _ClassVar[EventType]
    EVENT_TYPE_TAMPER_MOVED: _ClassVar[EventType]

class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEVERITY_UNSPECIFIED: _ClassVar[Severity]
    SEVERITY_ALERT: _ClassVar[Severity]
    SEVERITY_INFO: _ClassVar[Severity]

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_A_TO_B: _ClassVar[Direction]
    DIRECTION_B_TO_A: _ClassVar[Direction]

class EventOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_ORDER_NEWEST_FIRST: _ClassVar[EventOrder]
    EVENT_ORDER_OLDEST_FIRST: _ClassVar[EventOrder]

class CountKey(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COUNT_KEY_UNSPECIFIED: _ClassVar[CountKey]
    COUNT_KEY_CAMERA: _ClassVar[CountKey]
    COUNT_KEY_RULE: _ClassVar[CountKey]
    COUNT_KEY_CLASS: _ClassVar[CountKey]
    COUNT_KEY_DIRECTION: _ClassVar[CountKey]
    COUNT_KEY_TYPE: _ClassVar[CountKey]
    COUNT_KEY_SEVERITY: _ClassVar[CountKey]

class TimeBucket(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_BUCKET_NONE: _ClassVar[TimeBucket]
    TIME_BUCKET_MINUTE: _ClassVar[TimeBucket]
    TIME_BUCKET_HOUR: _ClassVar[TimeBucket]
    TIME_BUCKET_DAY: _ClassVar[TimeBucket]
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_ZONE_ENTER: EventType
EVENT_TYPE_ZONE_LEAVE: EventType
EVENT_TYPE_LOITERING: EventType
EVENT_TYPE_OCCUPANCY: EventType
EVENT_TYPE_LINE_CROSSING: EventType
EVENT_TYPE_STREAM_LOST: EventType
EVENT_TYPE_STREAM_STALLED: EventType
EVENT_TYPE_TAMPER_BLACK: EventType
EVENT_TYPE_TAMPER_UNIFORM: EventType
EVENT_TYPE_TAMPER_DEFOCUS: EventType
EVENT_TYPE_TAMPER_MOVED: EventType
SEVERITY_UNSPECIFIED: Severity
SEVERITY_ALERT: Severity
SEVERITY_INFO: Severity
DIRECTION_UNSPECIFIED: Direction
DIRECTION_A_TO_B: Direction
DIRECTION_B_TO_A: Direction
EVENT_ORDER_NEWEST_FIRST: EventOrder
EVENT_ORDER_OLDEST_FIRST: EventOrder
COUNT_KEY_UNSPECIFIED: CountKey
COUNT_KEY_CAMERA: CountKey
COUNT_KEY_RULE: CountKey
COUNT_KEY_CLASS: CountKey
COUNT_KEY_DIRECTION: CountKey
COUNT_KEY_TYPE: CountKey
COUNT_KEY_SEVERITY: CountKey
TIME_BUCKET_NONE: TimeBucket
TIME_BUCKET_MINUTE: TimeBucket
TIME_BUCKET_HOUR: TimeBucket
TIME_BUCKET_DAY: TimeBucket

class Event(_message.Message):
    __slots__ = ("event_id", "camera_id", "type", "severity", "rule", "start_time", "end_time", "start_pts", "end_pts", "class_name", "track_id", "direction", "dwell_s", "count", "peak_confidence", "peak_box", "job_id", "revision", "thumbnail")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    START_PTS_FIELD_NUMBER: _ClassVar[int]
    END_PTS_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    DWELL_S_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    PEAK_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    PEAK_BOX_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    camera_id: str
    type: EventType
    severity: Severity
    rule: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    start_pts: float
    end_pts: float
    class_name: str
    track_id: int
    direction: Direction
    dwell_s: float
    count: int
    peak_confidence: float
    peak_box: _types_pb2.Box
    job_id: str
    revision: int
    thumbnail: bytes
    def __init__(self, event_id: _Optional[str] = ..., camera_id: _Optional[str] = ..., type: _Optional[_Union[EventType, str]] = ..., severity: _Optional[_Union[Severity, str]] = ..., rule: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_pts: _Optional[float] = ..., end_pts: _Optional[float] = ..., class_name: _Optional[str] = ..., track_id: _Optional[int] = ..., direction: _Optional[_Union[Direction, str]] = ..., dwell_s: _Optional[float] = ..., count: _Optional[int] = ..., peak_confidence: _Optional[float] = ..., peak_box: _Optional[_Union[_types_pb2.Box, _Mapping]] = ..., job_id: _Optional[str] = ..., revision: _Optional[int] = ..., thumbnail: _Optional[bytes] = ...) -> None: ...

class EventFilter(_message.Message):
    __slots__ = ("camera_ids", "groups", "types", "severities", "classes", "rules", "time_from", "time_to", "min_dwell_s", "job_ids", "live_only")
    CAMERA_IDS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    SEVERITIES_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    TIME_FROM_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_FIELD_NUMBER: _ClassVar[int]
    MIN_DWELL_S_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    LIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    camera_ids: _containers.RepeatedScalarFieldContainer[str]
    groups: _containers.RepeatedScalarFieldContainer[str]
    types: _containers.RepeatedScalarFieldContainer[EventType]
    severities: _containers.RepeatedScalarFieldContainer[Severity]
    classes: _containers.RepeatedScalarFieldContainer[str]
    rules: _containers.RepeatedScalarFieldContainer[str]
    time_from: _timestamp_pb2.Timestamp
    time_to: _timestamp_pb2.Timestamp
    min_dwell_s: float
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    live_only: bool
    def __init__(self, camera_ids: _Optional[_Iterable[str]] = ..., groups: _Optional[_Iterable[str]] = ..., types: _Optional[_Iterable[_Union[EventType, str]]] = ..., severities: _Optional[_Iterable[_Union[Severity, str]]] = ..., classes: _Optional[_Iterable[str]] = ..., rules: _Optional[_Iterable[str]] = ..., time_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., time_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_dwell_s: _Optional[float] = ..., job_ids: _Optional[_Iterable[str]] = ..., live_only: _Optional[bool] = ...) -> None: ...

class QueryEventsRequest(_message.Message):
    __slots__ = ("filter", "order", "page_size", "cursor")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    filter: EventFilter
    order: EventOrder
    page_size: int
    cursor: str
    def __init__(self, filter: _Optional[_Union[EventFilter, _Mapping]] = ..., order: _Optional[_Union[EventOrder, str]] = ..., page_size: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class QueryEventsResponse(_message.Message):
    __slots__ = ("events", "next_cursor", "has_more")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    next_cursor: str
    has_more: bool
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., next_cursor: _Optional[str] = ..., has_more: _Optional[bool] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class StreamEventsRequest(_message.Message):
    __slots__ = ("filter", "cursor")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    filter: EventFilter
    cursor: str
    def __init__(self, filter: _Optional[_Union[EventFilter, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...

class StreamEventsResponse(_message.Message):
    __slots__ = ("event", "cursor")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    event: Event
    cursor: str
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...

class CountEventsRequest(_message.Message):
    __slots__ = ("filter", "group_by", "bucket", "time_zone")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    filter: EventFilter
    group_by: _containers.RepeatedScalarFieldContainer[CountKey]
    bucket: TimeBucket
    time_zone: str
    def __init__(self, filter: _Optional[_Union[EventFilter, _Mapping]] = ..., group_by: _Optional[_Iterable[_Union[CountKey, str]]] = ..., bucket: _Optional[_Union[TimeBucket, str]] = ..., time_zone: _Optional[str] = ...) -> None: ...

class EventCount(_message.Message):
    __slots__ = ("count", "bucket_start", "camera_id", "rule", "class_name", "direction", "type", "severity")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    BUCKET_START_FIELD_NUMBER: _ClassVar[int]
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    count: int
    bucket_start: _timestamp_pb2.Timestamp
    camera_id: str
    rule: str
    class_name: str
    direction: Direction
    type: EventType
    severity: Severity
    def __init__(self, count: _Optional[int] = ..., bucket_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., camera_id: _Optional[str] = ..., rule: _Optional[str] = ..., class_name: _Optional[str] = ..., direction: _Optional[_Union[Direction, str]] = ..., type: _Optional[_Union[EventType, str]] = ..., severity: _Optional[_Union[Severity, str]] = ...) -> None: ...

class CountEventsResponse(_message.Message):
    __slots__ = ("counts", "time_zone")
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedCompositeFieldContainer[EventCount]
    time_zone: str
    def __init__(self, counts: _Optional[_Iterable[_Union[EventCount, _Mapping]]] = ..., time_zone: _Optional[str] = ...) -> None: ...
