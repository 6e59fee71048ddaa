import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListRecordingsRequest(_message.Message):
    __slots__ = ("camera_id", "to")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    to: _timestamp_pb2.Timestamp
    def __init__(self, camera_id: _Optional[str] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class RecordedRange(_message.Message):
    __slots__ = ("start", "end", "segments")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    segments: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., segments: _Optional[int] = ...) -> None: ...

class RecordingGap(_message.Message):
    __slots__ = ("start", "end", "reason")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class RecordedSegment(_message.Message):
    __slots__ = ("index", "file", "start", "end", "bytes", "sha256", "mode", "entry_hash", "held")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_HASH_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    index: int
    file: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    bytes: int
    sha256: str
    mode: str
    entry_hash: str
    held: bool
    def __init__(self, index: _Optional[int] = ..., file: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., mode: _Optional[str] = ..., entry_hash: _Optional[str] = ..., held: _Optional[bool] = ...) -> None: ...

class ListRecordingsResponse(_message.Message):
    __slots__ = ("camera_id", "ranges", "gaps", "segments")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    RANGES_FIELD_NUMBER: _ClassVar[int]
    GAPS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    ranges: _containers.RepeatedCompositeFieldContainer[RecordedRange]
    gaps: _containers.RepeatedCompositeFieldContainer[RecordingGap]
    segments: _containers.RepeatedCompositeFieldContainer[RecordedSegment]
    def __init__(self, camera_id: _Optional[str] = ..., ranges: _Optional[_Iterable[_Union[RecordedRange, _Mapping]]] = ..., gaps: _Optional[_Iterable[_Union[RecordingGap, _Mapping]]] = ..., segments: _Optional[_Iterable[_Union[RecordedSegment, _Mapping]]] = ...) -> None: ...

class ExportClipRequest(_message.Message):
    __slots__ = ("camera_id", "to", "unmasked", "reason")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    UNMASKED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    to: _timestamp_pb2.Timestamp
    unmasked: bool
    reason: str
    def __init__(self, camera_id: _Optional[str] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unmasked: _Optional[bool] = ..., reason: _Optional[str] = ..., **kwargs) -> None: ...

class ExportClipChunk(_message.Message):
    __slots__ = ("data", "manifest_json")
    DATA_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_JSON_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    manifest_json: str
    def __init__(self, data: _Optional[bytes] = ..., manifest_json: _Optional[str] = ...) -> None: ...

class VerifyRecordingsRequest(_message.Message):
    __slots__ = ("camera_id", "to")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    to: _timestamp_pb2.Timestamp
    def __init__(self, camera_id: _Optional[str] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class VerifyRecordingsResponse(_message.Message):
    __slots__ = ("camera_id", "ok", "entries", "segments_checked", "head_index", "head_hash", "problems", "first_broken_index")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    HEAD_INDEX_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    FIRST_BROKEN_INDEX_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    ok: bool
    entries: int
    segments_checked: int
    head_index: int
    head_hash: str
    problems: _containers.RepeatedScalarFieldContainer[str]
    first_broken_index: int
    def __init__(self, camera_id: _Optional[str] = ..., ok: _Optional[bool] = ..., entries: _Optional[int] = ..., segments_checked: _Optional[int] = ..., head_index: _Optional[int] = ..., head_hash: _Optional[str] = ..., problems: _Optional[_Iterable[str]] = ..., first_broken_index: _Optional[int] = ...) -> None: ...

class EvidenceHold(_message.Message):
    __slots__ = ("hold_id", "camera_id", "start", "end", "reason", "placed_by", "placed_at", "event_id")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PLACED_BY_FIELD_NUMBER: _ClassVar[int]
    PLACED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    camera_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    reason: str
    placed_by: str
    placed_at: _timestamp_pb2.Timestamp
    event_id: str
    def __init__(self, hold_id: _Optional[str] = ..., camera_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., placed_by: _Optional[str] = ..., placed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event_id: _Optional[str] = ...) -> None: ...

class PlaceHoldRequest(_message.Message):
    __slots__ = ("camera_id", "to", "event_id", "reason")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    to: _timestamp_pb2.Timestamp
    event_id: str
    reason: str
    def __init__(self, camera_id: _Optional[str] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event_id: _Optional[str] = ..., reason: _Optional[str] = ..., **kwargs) -> None: ...

class ReleaseHoldRequest(_message.Message):
    __slots__ = ("camera_id", "hold_id", "reason")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    hold_id: str
    reason: str
    def __init__(self, camera_id: _Optional[str] = ..., hold_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListHoldsRequest(_message.Message):
    __slots__ = ("camera_id",)
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    def __init__(self, camera_id: _Optional[str] = ...) -> None: ...

class ListHoldsResponse(_message.Message):
    __slots__ = ("holds",)
    HOLDS_FIELD_NUMBER: _ClassVar[int]
    holds: _containers.RepeatedCompositeFieldContainer[EvidenceHold]
    def __init__(self, holds: _Optional[_Iterable[_Union[EvidenceHold, _Mapping]]] = ...) -> None: ...
