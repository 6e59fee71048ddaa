from google.protobuf import field_mask_pb2 as _field_mask_pb2
from . import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListCamerasRequest(_message.Message):
    __slots__ = ("groups",)
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, groups: _Optional[_Iterable[str]] = ...) -> None: ...

class ListCamerasResponse(_message.Message):
    __slots__ = ("cameras",)
    CAMERAS_FIELD_NUMBER: _ClassVar[int]
    cameras: _containers.RepeatedCompositeFieldContainer[_types_pb2.Camera]
    def __init__(self, cameras: _Optional[_Iterable[_Union[_types_pb2.Camera, _Mapping]]] = ...) -> None: ...

class GetCameraRequest(_message.Message):
    __slots__ = ("camera_id",)
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    def __init__(self, camera_id: _Optional[str] = ...) -> None: ...

class AddCameraRequest(_message.Message):
    __slots__ = ("camera",)
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    camera: _types_pb2.CameraSpec
    def __init__(self, camera: _Optional[_Union[_types_pb2.CameraSpec, _Mapping]] = ...) -> None: ...

class UpdateCameraRequest(_message.Message):
    __slots__ = ("camera", "update_mask")
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    camera: _types_pb2.CameraSpec
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, camera: _Optional[_Union[_types_pb2.CameraSpec, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class RemoveCameraRequest(_message.Message):
    __slots__ = ("camera_id",)
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    def __init__(self, camera_id: _Optional[str] = ...) -> None: ...

class RemoveCameraResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSnapshotRequest(_message.Message):
    __slots__ = ("camera_id", "max_width", "quality")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_WIDTH_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    max_width: int
    quality: int
    def __init__(self, camera_id: _Optional[str] = ..., max_width: _Optional[int] = ..., quality: _Optional[int] = ...) -> None: ...

class StreamFramesRequest(_message.Message):
    __slots__ = ("camera_id", "max_fps", "max_width", "quality")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_FPS_FIELD_NUMBER: _ClassVar[int]
    MAX_WIDTH_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    max_fps: float
    max_width: int
    quality: int
    def __init__(self, camera_id: _Optional[str] = ..., max_fps: _Optional[float] = ..., max_width: _Optional[int] = ..., quality: _Optional[int] = ...) -> None: ...

class StreamDetectionsRequest(_message.Message):
    __slots__ = ("camera_ids", "classes", "min_confidence", "resume_after", "include_empty")
    class ResumeAfterEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CAMERA_IDS_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    MIN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    RESUME_AFTER_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EMPTY_FIELD_NUMBER: _ClassVar[int]
    camera_ids: _containers.RepeatedScalarFieldContainer[str]
    classes: _containers.RepeatedScalarFieldContainer[str]
    min_confidence: float
    resume_after: _containers.ScalarMap[str, int]
    include_empty: bool
    def __init__(self, camera_ids: _Optional[_Iterable[str]] = ..., classes: _Optional[_Iterable[str]] = ..., min_confidence: _Optional[float] = ..., resume_after: _Optional[_Mapping[str, int]] = ..., include_empty: _Optional[bool] = ...) -> None: ...

class StreamDetectionsResponse(_message.Message):
    __slots__ = ("batch", "data_loss")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    DATA_LOSS_FIELD_NUMBER: _ClassVar[int]
    batch: _types_pb2.DetectionBatch
    data_loss: _types_pb2.DataLoss
    def __init__(self, batch: _Optional[_Union[_types_pb2.DetectionBatch, _Mapping]] = ..., data_loss: _Optional[_Union[_types_pb2.DataLoss, _Mapping]] = ...) -> None: ...
