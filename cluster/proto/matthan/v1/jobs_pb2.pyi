import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_CANCELLING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_CANCELLING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState

class CameraRange(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: _timestamp_pb2.Timestamp
    def __init__(self, to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class SubmitReprocessRequest(_message.Message):
    __slots__ = ("camera_id", "files", "recorded", "start_time", "rules_json", "analysis_json", "fps", "segment_s")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    RULES_JSON_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_JSON_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_S_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    files: _containers.RepeatedScalarFieldContainer[str]
    recorded: CameraRange
    start_time: str
    rules_json: str
    analysis_json: str
    fps: float
    segment_s: float
    def __init__(self, camera_id: _Optional[str] = ..., files: _Optional[_Iterable[str]] = ..., recorded: _Optional[_Union[CameraRange, _Mapping]] = ..., start_time: _Optional[str] = ..., rules_json: _Optional[str] = ..., analysis_json: _Optional[str] = ..., fps: _Optional[float] = ..., segment_s: _Optional[float] = ...) -> None: ...

class JobFile(_message.Message):
    __slots__ = ("path", "duration_s", "fps", "frame_count", "footage_start", "time_source", "clip_start_s", "clip_end_s", "segments")
    PATH_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    FRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    FOOTAGE_START_FIELD_NUMBER: _ClassVar[int]
    TIME_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CLIP_START_S_FIELD_NUMBER: _ClassVar[int]
    CLIP_END_S_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    path: str
    duration_s: float
    fps: float
    frame_count: int
    footage_start: float
    time_source: str
    clip_start_s: float
    clip_end_s: float
    segments: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, path: _Optional[str] = ..., duration_s: _Optional[float] = ..., fps: _Optional[float] = ..., frame_count: _Optional[int] = ..., footage_start: _Optional[float] = ..., time_source: _Optional[str] = ..., clip_start_s: _Optional[float] = ..., clip_end_s: _Optional[float] = ..., segments: _Optional[_Iterable[str]] = ...) -> None: ...

class NotRecordedRange(_message.Message):
    __slots__ = ("start", "end", "reason")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class DamagedRange(_message.Message):
    __slots__ = ("file_index", "path", "start_s", "end_s", "reason")
    FILE_INDEX_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    file_index: int
    path: str
    start_s: float
    end_s: float
    reason: str
    def __init__(self, file_index: _Optional[int] = ..., path: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class JobEventCount(_message.Message):
    __slots__ = ("type", "class_name", "rule", "count")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    type: str
    class_name: str
    rule: str
    count: int
    def __init__(self, type: _Optional[str] = ..., class_name: _Optional[str] = ..., rule: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "camera_id", "state", "submitted_by", "submitted_at", "started_at", "finished_at", "files", "segments_total", "segments_done", "segments_running", "frames_total", "frames_done", "frames_analysed", "footage_total_s", "footage_done_s", "speed", "eta_s", "damaged", "event_counts", "error", "recorded", "not_recorded", "waiting")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_BY_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_DONE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    FRAMES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DONE_FIELD_NUMBER: _ClassVar[int]
    FRAMES_ANALYSED_FIELD_NUMBER: _ClassVar[int]
    FOOTAGE_TOTAL_S_FIELD_NUMBER: _ClassVar[int]
    FOOTAGE_DONE_S_FIELD_NUMBER: _ClassVar[int]
    SPEED_FIELD_NUMBER: _ClassVar[int]
    ETA_S_FIELD_NUMBER: _ClassVar[int]
    DAMAGED_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    NOT_RECORDED_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    camera_id: str
    state: JobState
    submitted_by: str
    submitted_at: float
    started_at: float
    finished_at: float
    files: _containers.RepeatedCompositeFieldContainer[JobFile]
    segments_total: int
    segments_done: int
    segments_running: int
    frames_total: int
    frames_done: int
    frames_analysed: int
    footage_total_s: float
    footage_done_s: float
    speed: float
    eta_s: float
    damaged: _containers.RepeatedCompositeFieldContainer[DamagedRange]
    event_counts: _containers.RepeatedCompositeFieldContainer[JobEventCount]
    error: str
    recorded: CameraRange
    not_recorded: _containers.RepeatedCompositeFieldContainer[NotRecordedRange]
    waiting: str
    def __init__(self, job_id: _Optional[str] = ..., camera_id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., submitted_by: _Optional[str] = ..., submitted_at: _Optional[float] = ..., started_at: _Optional[float] = ..., finished_at: _Optional[float] = ..., files: _Optional[_Iterable[_Union[JobFile, _Mapping]]] = ..., segments_total: _Optional[int] = ..., segments_done: _Optional[int] = ..., segments_running: _Optional[int] = ..., frames_total: _Optional[int] = ..., frames_done: _Optional[int] = ..., frames_analysed: _Optional[int] = ..., footage_total_s: _Optional[float] = ..., footage_done_s: _Optional[float] = ..., speed: _Optional[float] = ..., eta_s: _Optional[float] = ..., damaged: _Optional[_Iterable[_Union[DamagedRange, _Mapping]]] = ..., event_counts: _Optional[_Iterable[_Union[JobEventCount, _Mapping]]] = ..., error: _Optional[str] = ..., recorded: _Optional[_Union[CameraRange, _Mapping]] = ..., not_recorded: _Optional[_Iterable[_Union[NotRecordedRange, _Mapping]]] = ..., waiting: _Optional[str] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("camera_ids", "states", "limit")
    CAMERA_IDS_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    camera_ids: _containers.RepeatedScalarFieldContainer[str]
    states: _containers.RepeatedScalarFieldContainer[JobState]
    limit: int
    def __init__(self, camera_ids: _Optional[_Iterable[str]] = ..., states: _Optional[_Iterable[_Union[JobState, str]]] = ..., limit: _Optional[int] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id", "interval_s")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    interval_s: float
    def __init__(self, job_id: _Optional[str] = ..., interval_s: _Optional[float] = ...) -> None: ...
