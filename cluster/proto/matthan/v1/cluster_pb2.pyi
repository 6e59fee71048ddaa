from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetClusterStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Node(_message.Message):
    __slots__ = ("node_id", "address", "alive", "cpus", "camera_ids", "load", "labels", "draining")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ALIVE_FIELD_NUMBER: _ClassVar[int]
    CPUS_FIELD_NUMBER: _ClassVar[int]
    CAMERA_IDS_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    address: str
    alive: bool
    cpus: float
    camera_ids: _containers.RepeatedScalarFieldContainer[str]
    load: float
    labels: _containers.ScalarMap[str, str]
    draining: bool
    def __init__(self, node_id: _Optional[str] = ..., address: _Optional[str] = ..., alive: _Optional[bool] = ..., cpus: _Optional[float] = ..., camera_ids: _Optional[_Iterable[str]] = ..., load: _Optional[float] = ..., labels: _Optional[_Mapping[str, str]] = ..., draining: _Optional[bool] = ...) -> None: ...

class ClusterStatus(_message.Message):
    __slots__ = ("nodes", "cameras_configured", "cameras_live", "unplaced_camera_ids")
    NODES_FIELD_NUMBER: _ClassVar[int]
    CAMERAS_CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    CAMERAS_LIVE_FIELD_NUMBER: _ClassVar[int]
    UNPLACED_CAMERA_IDS_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[Node]
    cameras_configured: int
    cameras_live: int
    unplaced_camera_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, nodes: _Optional[_Iterable[_Union[Node, _Mapping]]] = ..., cameras_configured: _Optional[int] = ..., cameras_live: _Optional[int] = ..., unplaced_camera_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DrainNodeRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class DrainNodeResponse(_message.Message):
    __slots__ = ("node_id", "moved_camera_ids", "stranded_camera_ids")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MOVED_CAMERA_IDS_FIELD_NUMBER: _ClassVar[int]
    STRANDED_CAMERA_IDS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    moved_camera_ids: _containers.RepeatedScalarFieldContainer[str]
    stranded_camera_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, node_id: _Optional[str] = ..., moved_camera_ids: _Optional[_Iterable[str]] = ..., stranded_camera_ids: _Optional[_Iterable[str]] = ...) -> None: ...
