import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CameraState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAMERA_STATE_UNSPECIFIED: _ClassVar[CameraState]
    CAMERA_STATE_CONNECTING: _ClassVar[CameraState]
    CAMERA_STATE_LIVE: _ClassVar[CameraState]
    CAMERA_STATE_STALLED: _ClassVar[CameraState]
    CAMERA_STATE_RECONNECTING: _ClassVar[CameraState]
    CAMERA_STATE_FAILED: _ClassVar[CameraState]
    CAMERA_STATE_STOPPED: _ClassVar[CameraState]
    CAMERA_STATE_UNRESPONSIVE: _ClassVar[CameraState]
CAMERA_STATE_UNSPECIFIED: CameraState
CAMERA_STATE_CONNECTING: CameraState
CAMERA_STATE_LIVE: CameraState
CAMERA_STATE_STALLED: CameraState
CAMERA_STATE_RECONNECTING: CameraState
CAMERA_STATE_FAILED: CameraState
CAMERA_STATE_STOPPED: CameraState
CAMERA_STATE_UNRESPONSIVE: CameraState

class CameraSpec(_message.Message):
    __slots__ = ("id", "name", "groups", "enabled", "source", "analysis", "output", "timezone", "rules", "privacy", "health", "recording", "priority")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    PRIVACY_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    RECORDING_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    groups: _containers.RepeatedScalarFieldContainer[str]
    enabled: bool
    source: SourceSpec
    analysis: AnalysisSpec
    output: OutputSpec
    timezone: str
    rules: RulesSpec
    privacy: PrivacySpec
    health: HealthSpec
    recording: RecordingSpec
    priority: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., groups: _Optional[_Iterable[str]] = ..., enabled: _Optional[bool] = ..., source: _Optional[_Union[SourceSpec, _Mapping]] = ..., analysis: _Optional[_Union[AnalysisSpec, _Mapping]] = ..., output: _Optional[_Union[OutputSpec, _Mapping]] = ..., timezone: _Optional[str] = ..., rules: _Optional[_Union[RulesSpec, _Mapping]] = ..., privacy: _Optional[_Union[PrivacySpec, _Mapping]] = ..., health: _Optional[_Union[HealthSpec, _Mapping]] = ..., recording: _Optional[_Union[RecordingSpec, _Mapping]] = ..., priority: _Optional[int] = ...) -> None: ...

class RecordingSpec(_message.Message):
    __slots__ = ("mode", "pre_roll_s", "post_roll_s", "segment_s", "directory", "retention", "queue_packets", "min_free_bytes", "retry_s")
    MODE_FIELD_NUMBER: _ClassVar[int]
    PRE_ROLL_S_FIELD_NUMBER: _ClassVar[int]
    POST_ROLL_S_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_S_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    QUEUE_PACKETS_FIELD_NUMBER: _ClassVar[int]
    MIN_FREE_BYTES_FIELD_NUMBER: _ClassVar[int]
    RETRY_S_FIELD_NUMBER: _ClassVar[int]
    mode: str
    pre_roll_s: float
    post_roll_s: float
    segment_s: float
    directory: str
    retention: RetentionSpec
    queue_packets: int
    min_free_bytes: int
    retry_s: float
    def __init__(self, mode: _Optional[str] = ..., pre_roll_s: _Optional[float] = ..., post_roll_s: _Optional[float] = ..., segment_s: _Optional[float] = ..., directory: _Optional[str] = ..., retention: _Optional[_Union[RetentionSpec, _Mapping]] = ..., queue_packets: _Optional[int] = ..., min_free_bytes: _Optional[int] = ..., retry_s: _Optional[float] = ...) -> None: ...

class RetentionSpec(_message.Message):
    __slots__ = ("continuous_days", "motion_days", "events_days", "max_bytes", "interval_s")
    CONTINUOUS_DAYS_FIELD_NUMBER: _ClassVar[int]
    MOTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_DAYS_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    continuous_days: float
    motion_days: float
    events_days: float
    max_bytes: int
    interval_s: float
    def __init__(self, continuous_days: _Optional[float] = ..., motion_days: _Optional[float] = ..., events_days: _Optional[float] = ..., max_bytes: _Optional[int] = ..., interval_s: _Optional[float] = ...) -> None: ...

class SourceSpec(_message.Message):
    __slots__ = ("url", "rtsp_transport", "open_timeout_s", "read_timeout_s", "stall_timeout_s", "loop", "realtime", "reconnect", "decode_threads", "skip_loop_filter")
    URL_FIELD_NUMBER: _ClassVar[int]
    RTSP_TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    READ_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    STALL_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    LOOP_FIELD_NUMBER: _ClassVar[int]
    REALTIME_FIELD_NUMBER: _ClassVar[int]
    RECONNECT_FIELD_NUMBER: _ClassVar[int]
    DECODE_THREADS_FIELD_NUMBER: _ClassVar[int]
    SKIP_LOOP_FILTER_FIELD_NUMBER: _ClassVar[int]
    url: str
    rtsp_transport: str
    open_timeout_s: float
    read_timeout_s: float
    stall_timeout_s: float
    loop: bool
    realtime: bool
    reconnect: ReconnectSpec
    decode_threads: int
    skip_loop_filter: str
    def __init__(self, url: _Optional[str] = ..., rtsp_transport: _Optional[str] = ..., open_timeout_s: _Optional[float] = ..., read_timeout_s: _Optional[float] = ..., stall_timeout_s: _Optional[float] = ..., loop: _Optional[bool] = ..., realtime: _Optional[bool] = ..., reconnect: _Optional[_Union[ReconnectSpec, _Mapping]] = ..., decode_threads: _Optional[int] = ..., skip_loop_filter: _Optional[str] = ...) -> None: ...

class ReconnectSpec(_message.Message):
    __slots__ = ("initial_s", "max_s", "multiplier", "jitter")
    INITIAL_S_FIELD_NUMBER: _ClassVar[int]
    MAX_S_FIELD_NUMBER: _ClassVar[int]
    MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    JITTER_FIELD_NUMBER: _ClassVar[int]
    initial_s: float
    max_s: float
    multiplier: float
    jitter: float
    def __init__(self, initial_s: _Optional[float] = ..., max_s: _Optional[float] = ..., multiplier: _Optional[float] = ..., jitter: _Optional[float] = ...) -> None: ...

class AnalysisSpec(_message.Message):
    __slots__ = ("fps", "width", "motion", "detector", "tracker", "opencv_threads", "min_fps")
    FPS_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    MOTION_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_FIELD_NUMBER: _ClassVar[int]
    TRACKER_FIELD_NUMBER: _ClassVar[int]
    OPENCV_THREADS_FIELD_NUMBER: _ClassVar[int]
    MIN_FPS_FIELD_NUMBER: _ClassVar[int]
    fps: float
    width: int
    motion: MotionSpec
    detector: DetectorSpec
    tracker: TrackerSpec
    opencv_threads: int
    min_fps: float
    def __init__(self, fps: _Optional[float] = ..., width: _Optional[int] = ..., motion: _Optional[_Union[MotionSpec, _Mapping]] = ..., detector: _Optional[_Union[DetectorSpec, _Mapping]] = ..., tracker: _Optional[_Union[TrackerSpec, _Mapping]] = ..., opencv_threads: _Optional[int] = ..., min_fps: _Optional[float] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class Polygon(_message.Message):
    __slots__ = ("points",)
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[Point]
    def __init__(self, points: _Optional[_Iterable[_Union[Point, _Mapping]]] = ...) -> None: ...

class MotionSpec(_message.Message):
    __slots__ = ("enabled", "width", "history", "var_threshold", "min_area", "masks", "gate_detector", "report_regions", "region_min_area")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    VAR_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MIN_AREA_FIELD_NUMBER: _ClassVar[int]
    MASKS_FIELD_NUMBER: _ClassVar[int]
    GATE_DETECTOR_FIELD_NUMBER: _ClassVar[int]
    REPORT_REGIONS_FIELD_NUMBER: _ClassVar[int]
    REGION_MIN_AREA_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    width: int
    history: int
    var_threshold: float
    min_area: float
    masks: _containers.RepeatedCompositeFieldContainer[Polygon]
    gate_detector: bool
    report_regions: bool
    region_min_area: float
    def __init__(self, enabled: _Optional[bool] = ..., width: _Optional[int] = ..., history: _Optional[int] = ..., var_threshold: _Optional[float] = ..., min_area: _Optional[float] = ..., masks: _Optional[_Iterable[_Union[Polygon, _Mapping]]] = ..., gate_detector: _Optional[bool] = ..., report_regions: _Optional[bool] = ..., region_min_area: _Optional[float] = ...) -> None: ...

class DetectorSpec(_message.Message):
    __slots__ = ("format", "model", "weights", "names", "onnx_layout", "input_size", "confidence", "nms", "classes", "max_fps")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    ONNX_LAYOUT_FIELD_NUMBER: _ClassVar[int]
    INPUT_SIZE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    NMS_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    MAX_FPS_FIELD_NUMBER: _ClassVar[int]
    format: str
    model: str
    weights: str
    names: str
    onnx_layout: str
    input_size: int
    confidence: float
    nms: float
    classes: _containers.RepeatedScalarFieldContainer[str]
    max_fps: float
    def __init__(self, format: _Optional[str] = ..., model: _Optional[str] = ..., weights: _Optional[str] = ..., names: _Optional[str] = ..., onnx_layout: _Optional[str] = ..., input_size: _Optional[int] = ..., confidence: _Optional[float] = ..., nms: _Optional[float] = ..., classes: _Optional[_Iterable[str]] = ..., max_fps: _Optional[float] = ...) -> None: ...

class TrackerSpec(_message.Message):
    __slots__ = ("enabled", "method", "iou_threshold", "max_distance", "max_age_s", "per_class")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    IOU_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MAX_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_S_FIELD_NUMBER: _ClassVar[int]
    PER_CLASS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    method: str
    iou_threshold: float
    max_distance: float
    max_age_s: float
    per_class: bool
    def __init__(self, enabled: _Optional[bool] = ..., method: _Optional[str] = ..., iou_threshold: _Optional[float] = ..., max_distance: _Optional[float] = ..., max_age_s: _Optional[float] = ..., per_class: _Optional[bool] = ...) -> None: ...

class OutputSpec(_message.Message):
    __slots__ = ("ring_size", "jpeg_quality", "event_ring_size", "thumbnail_width", "thumbnail_quality")
    RING_SIZE_FIELD_NUMBER: _ClassVar[int]
    JPEG_QUALITY_FIELD_NUMBER: _ClassVar[int]
    EVENT_RING_SIZE_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_WIDTH_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_QUALITY_FIELD_NUMBER: _ClassVar[int]
    ring_size: int
    jpeg_quality: int
    event_ring_size: int
    thumbnail_width: int
    thumbnail_quality: int
    def __init__(self, ring_size: _Optional[int] = ..., jpeg_quality: _Optional[int] = ..., event_ring_size: _Optional[int] = ..., thumbnail_width: _Optional[int] = ..., thumbnail_quality: _Optional[int] = ...) -> None: ...

class RulesSpec(_message.Message):
    __slots__ = ("zones", "lines", "update_interval_s")
    ZONES_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    zones: _containers.RepeatedCompositeFieldContainer[ZoneRuleSpec]
    lines: _containers.RepeatedCompositeFieldContainer[LineRuleSpec]
    update_interval_s: float
    def __init__(self, zones: _Optional[_Iterable[_Union[ZoneRuleSpec, _Mapping]]] = ..., lines: _Optional[_Iterable[_Union[LineRuleSpec, _Mapping]]] = ..., update_interval_s: _Optional[float] = ...) -> None: ...

class ZoneRuleSpec(_message.Message):
    __slots__ = ("name", "polygon", "anchor", "inertia", "report_enter_leave", "loitering_s", "occupancy_max", "filters", "severity")
    NAME_FIELD_NUMBER: _ClassVar[int]
    POLYGON_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    INERTIA_FIELD_NUMBER: _ClassVar[int]
    REPORT_ENTER_LEAVE_FIELD_NUMBER: _ClassVar[int]
    LOITERING_S_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_MAX_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    polygon: Polygon
    anchor: str
    inertia: int
    report_enter_leave: bool
    loitering_s: float
    occupancy_max: int
    filters: RuleFilterSpec
    severity: str
    def __init__(self, name: _Optional[str] = ..., polygon: _Optional[_Union[Polygon, _Mapping]] = ..., anchor: _Optional[str] = ..., inertia: _Optional[int] = ..., report_enter_leave: _Optional[bool] = ..., loitering_s: _Optional[float] = ..., occupancy_max: _Optional[int] = ..., filters: _Optional[_Union[RuleFilterSpec, _Mapping]] = ..., severity: _Optional[str] = ...) -> None: ...

class LineRuleSpec(_message.Message):
    __slots__ = ("name", "start", "end", "a_side", "directions", "anchor", "hysteresis", "filters", "severity")
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    A_SIDE_FIELD_NUMBER: _ClassVar[int]
    DIRECTIONS_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    HYSTERESIS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    start: Point
    end: Point
    a_side: str
    directions: _containers.RepeatedScalarFieldContainer[str]
    anchor: str
    hysteresis: float
    filters: RuleFilterSpec
    severity: str
    def __init__(self, name: _Optional[str] = ..., start: _Optional[_Union[Point, _Mapping]] = ..., end: _Optional[_Union[Point, _Mapping]] = ..., a_side: _Optional[str] = ..., directions: _Optional[_Iterable[str]] = ..., anchor: _Optional[str] = ..., hysteresis: _Optional[float] = ..., filters: _Optional[_Union[RuleFilterSpec, _Mapping]] = ..., severity: _Optional[str] = ...) -> None: ...

class RuleFilterSpec(_message.Message):
    __slots__ = ("classes", "min_confidence", "min_area", "max_area", "windows")
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    MIN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    MIN_AREA_FIELD_NUMBER: _ClassVar[int]
    MAX_AREA_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_FIELD_NUMBER: _ClassVar[int]
    classes: _containers.RepeatedScalarFieldContainer[str]
    min_confidence: float
    min_area: float
    max_area: float
    windows: _containers.RepeatedCompositeFieldContainer[TimeWindowSpec]
    def __init__(self, classes: _Optional[_Iterable[str]] = ..., min_confidence: _Optional[float] = ..., min_area: _Optional[float] = ..., max_area: _Optional[float] = ..., windows: _Optional[_Iterable[_Union[TimeWindowSpec, _Mapping]]] = ...) -> None: ...

class TimeWindowSpec(_message.Message):
    __slots__ = ("start", "end", "days")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    days: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ..., days: _Optional[_Iterable[str]] = ...) -> None: ...

class PrivacySpec(_message.Message):
    __slots__ = ("masks", "mode", "pixelate_cells")
    MASKS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PIXELATE_CELLS_FIELD_NUMBER: _ClassVar[int]
    masks: _containers.RepeatedCompositeFieldContainer[Polygon]
    mode: str
    pixelate_cells: int
    def __init__(self, masks: _Optional[_Iterable[_Union[Polygon, _Mapping]]] = ..., mode: _Optional[str] = ..., pixelate_cells: _Optional[int] = ...) -> None: ...

class HealthSpec(_message.Message):
    __slots__ = ("stream_lost_after_s", "stream_severity", "tamper")
    STREAM_LOST_AFTER_S_FIELD_NUMBER: _ClassVar[int]
    STREAM_SEVERITY_FIELD_NUMBER: _ClassVar[int]
    TAMPER_FIELD_NUMBER: _ClassVar[int]
    stream_lost_after_s: float
    stream_severity: str
    tamper: TamperSpec
    def __init__(self, stream_lost_after_s: _Optional[float] = ..., stream_severity: _Optional[str] = ..., tamper: _Optional[_Union[TamperSpec, _Mapping]] = ...) -> None: ...

class TamperSpec(_message.Message):
    __slots__ = ("enabled", "fps", "width", "learn_s", "refresh_s", "min_duration_s", "clear_s", "black_max_brightness", "uniform_max_stddev", "defocus_ratio", "moved_max_similarity", "moved_max_edge_share", "min_still_edges", "severity")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    LEARN_S_FIELD_NUMBER: _ClassVar[int]
    REFRESH_S_FIELD_NUMBER: _ClassVar[int]
    MIN_DURATION_S_FIELD_NUMBER: _ClassVar[int]
    CLEAR_S_FIELD_NUMBER: _ClassVar[int]
    BLACK_MAX_BRIGHTNESS_FIELD_NUMBER: _ClassVar[int]
    UNIFORM_MAX_STDDEV_FIELD_NUMBER: _ClassVar[int]
    DEFOCUS_RATIO_FIELD_NUMBER: _ClassVar[int]
    MOVED_MAX_SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    MOVED_MAX_EDGE_SHARE_FIELD_NUMBER: _ClassVar[int]
    MIN_STILL_EDGES_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    fps: float
    width: int
    learn_s: float
    refresh_s: float
    min_duration_s: float
    clear_s: float
    black_max_brightness: float
    uniform_max_stddev: float
    defocus_ratio: float
    moved_max_similarity: float
    moved_max_edge_share: float
    min_still_edges: float
    severity: str
    def __init__(self, enabled: _Optional[bool] = ..., fps: _Optional[float] = ..., width: _Optional[int] = ..., learn_s: _Optional[float] = ..., refresh_s: _Optional[float] = ..., min_duration_s: _Optional[float] = ..., clear_s: _Optional[float] = ..., black_max_brightness: _Optional[float] = ..., uniform_max_stddev: _Optional[float] = ..., defocus_ratio: _Optional[float] = ..., moved_max_similarity: _Optional[float] = ..., moved_max_edge_share: _Optional[float] = ..., min_still_edges: _Optional[float] = ..., severity: _Optional[str] = ...) -> None: ...

class CameraStatus(_message.Message):
    __slots__ = ("state", "reason", "node_id", "pid", "mode", "frames_received", "frames_analysed", "frames_skipped", "detector_runs", "reconnects", "fps_in", "fps_out", "last_frame_time", "last_sequence", "stage_seconds", "capture_to_publish_seconds", "cpu_percent", "memory_uss_bytes", "recording", "target_fps", "degraded")
    class StageSecondsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    FRAMES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_ANALYSED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_RUNS_FIELD_NUMBER: _ClassVar[int]
    RECONNECTS_FIELD_NUMBER: _ClassVar[int]
    FPS_IN_FIELD_NUMBER: _ClassVar[int]
    FPS_OUT_FIELD_NUMBER: _ClassVar[int]
    LAST_FRAME_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STAGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TO_PUBLISH_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USS_BYTES_FIELD_NUMBER: _ClassVar[int]
    RECORDING_FIELD_NUMBER: _ClassVar[int]
    TARGET_FPS_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    state: CameraState
    reason: str
    node_id: str
    pid: int
    mode: str
    frames_received: int
    frames_analysed: int
    frames_skipped: int
    detector_runs: int
    reconnects: int
    fps_in: float
    fps_out: float
    last_frame_time: _timestamp_pb2.Timestamp
    last_sequence: int
    stage_seconds: _containers.ScalarMap[str, float]
    capture_to_publish_seconds: float
    cpu_percent: float
    memory_uss_bytes: int
    recording: RecordingStatus
    target_fps: float
    degraded: bool
    def __init__(self, state: _Optional[_Union[CameraState, str]] = ..., reason: _Optional[str] = ..., node_id: _Optional[str] = ..., pid: _Optional[int] = ..., mode: _Optional[str] = ..., frames_received: _Optional[int] = ..., frames_analysed: _Optional[int] = ..., frames_skipped: _Optional[int] = ..., detector_runs: _Optional[int] = ..., reconnects: _Optional[int] = ..., fps_in: _Optional[float] = ..., fps_out: _Optional[float] = ..., last_frame_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sequence: _Optional[int] = ..., stage_seconds: _Optional[_Mapping[str, float]] = ..., capture_to_publish_seconds: _Optional[float] = ..., cpu_percent: _Optional[float] = ..., memory_uss_bytes: _Optional[int] = ..., recording: _Optional[_Union[RecordingStatus, _Mapping]] = ..., target_fps: _Optional[float] = ..., degraded: _Optional[bool] = ...) -> None: ...

class RecordingStatus(_message.Message):
    __slots__ = ("state", "reason", "mode", "directory", "bytes_written", "segments_written", "packets_dropped", "gaps_recorded", "retention_deleted", "disk_used_bytes", "budget_bytes", "disk_free_bytes", "last_segment_end")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    BYTES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    PACKETS_DROPPED_FIELD_NUMBER: _ClassVar[int]
    GAPS_RECORDED_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DELETED_FIELD_NUMBER: _ClassVar[int]
    DISK_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    BUDGET_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISK_FREE_BYTES_FIELD_NUMBER: _ClassVar[int]
    LAST_SEGMENT_END_FIELD_NUMBER: _ClassVar[int]
    state: str
    reason: str
    mode: str
    directory: str
    bytes_written: int
    segments_written: int
    packets_dropped: int
    gaps_recorded: int
    retention_deleted: int
    disk_used_bytes: int
    budget_bytes: int
    disk_free_bytes: int
    last_segment_end: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[str] = ..., reason: _Optional[str] = ..., mode: _Optional[str] = ..., directory: _Optional[str] = ..., bytes_written: _Optional[int] = ..., segments_written: _Optional[int] = ..., packets_dropped: _Optional[int] = ..., gaps_recorded: _Optional[int] = ..., retention_deleted: _Optional[int] = ..., disk_used_bytes: _Optional[int] = ..., budget_bytes: _Optional[int] = ..., disk_free_bytes: _Optional[int] = ..., last_segment_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Camera(_message.Message):
    __slots__ = ("spec", "status", "node_id")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    spec: CameraSpec
    status: CameraStatus
    node_id: str
    def __init__(self, spec: _Optional[_Union[CameraSpec, _Mapping]] = ..., status: _Optional[_Union[CameraStatus, _Mapping]] = ..., node_id: _Optional[str] = ...) -> None: ...

class Frame(_message.Message):
    __slots__ = ("camera_id", "frame_sequence", "capture_time", "width", "height", "jpeg", "dropped_slow", "skipped_rate")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    FRAME_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TIME_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    DROPPED_SLOW_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_RATE_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    frame_sequence: int
    capture_time: _timestamp_pb2.Timestamp
    width: int
    height: int
    jpeg: bytes
    dropped_slow: int
    skipped_rate: int
    def __init__(self, camera_id: _Optional[str] = ..., frame_sequence: _Optional[int] = ..., capture_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., jpeg: _Optional[bytes] = ..., dropped_slow: _Optional[int] = ..., skipped_rate: _Optional[int] = ...) -> None: ...

class Box(_message.Message):
    __slots__ = ("x", "y", "w", "h")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    W_FIELD_NUMBER: _ClassVar[int]
    H_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    w: float
    h: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ..., w: _Optional[float] = ..., h: _Optional[float] = ...) -> None: ...

class Detection(_message.Message):
    __slots__ = ("class_id", "class_name", "confidence", "box", "track_id")
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    class_id: int
    class_name: str
    confidence: float
    box: Box
    track_id: int
    def __init__(self, class_id: _Optional[int] = ..., class_name: _Optional[str] = ..., confidence: _Optional[float] = ..., box: _Optional[_Union[Box, _Mapping]] = ..., track_id: _Optional[int] = ...) -> None: ...

class DetectionBatch(_message.Message):
    __slots__ = ("camera_id", "sequence", "frame_sequence", "capture_time", "publish_time", "detections", "motion", "motion_ratio")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FRAME_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TIME_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    DETECTIONS_FIELD_NUMBER: _ClassVar[int]
    MOTION_FIELD_NUMBER: _ClassVar[int]
    MOTION_RATIO_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    sequence: int
    frame_sequence: int
    capture_time: _timestamp_pb2.Timestamp
    publish_time: _timestamp_pb2.Timestamp
    detections: _containers.RepeatedCompositeFieldContainer[Detection]
    motion: bool
    motion_ratio: float
    def __init__(self, camera_id: _Optional[str] = ..., sequence: _Optional[int] = ..., frame_sequence: _Optional[int] = ..., capture_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detections: _Optional[_Iterable[_Union[Detection, _Mapping]]] = ..., motion: _Optional[bool] = ..., motion_ratio: _Optional[float] = ...) -> None: ...

class DataLoss(_message.Message):
    __slots__ = ("reason", "first_missing_sequence", "last_missing_sequence")
    class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REASON_UNSPECIFIED: _ClassVar[DataLoss.Reason]
        RING_OVERWRITTEN: _ClassVar[DataLoss.Reason]
        CAMERA_RESTARTED: _ClassVar[DataLoss.Reason]
    REASON_UNSPECIFIED: DataLoss.Reason
    RING_OVERWRITTEN: DataLoss.Reason
    CAMERA_RESTARTED: DataLoss.Reason
    REASON_FIELD_NUMBER: _ClassVar[int]
    FIRST_MISSING_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAST_MISSING_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    reason: DataLoss.Reason
    first_missing_sequence: int
    last_missing_sequence: int
    def __init__(self, reason: _Optional[_Union[DataLoss.Reason, str]] = ..., first_missing_sequence: _Optional[int] = ..., last_missing_sequence: _Optional[int] = ...) -> None: ...
