"""Protobuf <-> the project's domain values and config models, both directions.

The *Spec messages mirror the config models key for key, so the conversion is a
walk over the message descriptor: present fields become dict keys that pydantic
validates (and reports by path). Shapes are the one thing that differs: a
`Point` message is an (x, y) pair in the config and a `Polygon` message a list
of them, wherever they appear (a line's end, a zone, a list of masks).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Sequence

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from pydantic import ValidationError

from ..config import CameraConfig, format_validation_error, redact_url
from ..config.camera import confined, hide_server_paths, viewer_spec_paths
from ..config.file_access import FileRoots
from ..control import CameraView, ClusterStatus, NodeView
from ..domain import (
    AnalysisMode,
    Box,
    CameraState,
    CameraStatus,
    Detection,
    DetectionBatch,
    JpegFrame,
    RecordingState,
    RecordingStatus,
)
from ..proto.matthan.v1 import cameras_pb2, cluster_pb2, types_pb2
from ..support.text import shown
from .errors import RequestError
from .streams import DataLoss, LossReason
from .wire import dict_to_message, from_timestamp, is_repeated, message_to_dict, to_timestamp

log = logging.getLogger(__name__)


# --------------------------------------------------------------- cameras


def camera_config_to_spec(config: CameraConfig, redact: bool = False) -> types_pb2.CameraSpec:
    spec = dict_to_message(config.model_dump(mode="json"), types_pb2.CameraSpec(), strict=False)
    if redact:
        spec.source.url = redact_url(spec.source.url)
        for loc, name in viewer_spec_paths(config).items():
            *parents, leaf = loc
            target = spec
            for part in parents:
                target = getattr(target, part)
            if target.HasField(leaf) if _has_presence(target, leaf) else getattr(target, leaf):
                setattr(target, leaf, name)
        spec.recording.ClearField("directory")  # a server directory: nobody's business at the duty desk
    return spec


def _has_presence(msg: Message, field: str) -> bool:
    return msg.DESCRIPTOR.fields_by_name[field].has_presence


def validation_error_to_request_error(exc: ValidationError, prefix: str = "") -> RequestError:
    """pydantic's errors as one "field: reason; field: reason" message naming request fields."""
    first = exc.errors()[0]
    field = prefix + ".".join(str(p) for p in first["loc"]) if first["loc"] else prefix.rstrip(".")
    message = format_validation_error(exc, prefix=prefix)
    return RequestError(field or "(request)", first["msg"].removeprefix("Value error, "), message)


def _validate_camera(data: dict, prefix: str, file_roots: FileRoots | None) -> CameraConfig:
    try:
        return CameraConfig.model_validate(data, context=confined(file_roots) if file_roots is not None else None)
    except ValidationError as exc:
        raise validation_error_to_request_error(exc, prefix) from None


def spec_to_camera_config(
    spec: types_pb2.CameraSpec, field_prefix: str = "camera.", *, file_roots: FileRoots | None = None
) -> CameraConfig:
    """Validate a CameraSpec as a new camera's desired state (unset fields take defaults).

    With `file_roots` (a request from the network), every file it names must be under them."""
    return _validate_camera(message_to_dict(spec), field_prefix, file_roots)


def mask_paths_valid(paths: Iterable[str], descriptor: Descriptor = types_pb2.CameraSpec.DESCRIPTOR) -> None:
    for path in paths:
        current: Descriptor | None = descriptor
        for part in path.split("."):
            field = current.fields_by_name.get(part) if current is not None else None
            if field is None:
                raise RequestError("update_mask", f"unknown field path {shown(path)}")
            current = field.message_type if not is_repeated(field) else None
        if path == "id":
            raise RequestError("update_mask", "the camera id cannot be changed (remove and add it instead)")


def apply_update(
    current: CameraConfig,
    spec: types_pb2.CameraSpec,
    mask_paths: Sequence[str],
    field_prefix: str = "camera.",
    *,
    file_roots: FileRoots | None = None,
) -> CameraConfig:
    """The desired state after an UpdateCamera: whole replacement, or only `mask_paths`."""
    if spec.id != current.id:
        raise RequestError(field_prefix + "id", f"{shown(spec.id)} does not match the camera being updated")
    if not mask_paths:
        return spec_to_camera_config(spec, field_prefix, file_roots=file_roots)
    mask_paths_valid(mask_paths)
    merged = current.model_dump(mode="json")
    given = message_to_dict(spec)
    for path in mask_paths:
        *parents, leaf = path.split(".")
        source: object = given
        for part in parents:
            source = source.get(part) if isinstance(source, dict) else None
        target = merged
        for part in parents:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        if isinstance(source, dict) and leaf in source:
            target[leaf] = copy.deepcopy(source[leaf])
        else:
            target.pop(leaf, None)  # listed but unset: back to the default
    return _validate_camera(merged, field_prefix, file_roots)


_STATE_TO_PROTO = {
    CameraState.CONNECTING: types_pb2.CAMERA_STATE_CONNECTING,
    CameraState.LIVE: types_pb2.CAMERA_STATE_LIVE,
    CameraState.STALLED: types_pb2.CAMERA_STATE_STALLED,
    CameraState.RECONNECTING: types_pb2.CAMERA_STATE_RECONNECTING,
    CameraState.FAILED: types_pb2.CAMERA_STATE_FAILED,
    CameraState.STOPPED: types_pb2.CAMERA_STATE_STOPPED,
    CameraState.UNRESPONSIVE: types_pb2.CAMERA_STATE_UNRESPONSIVE,
}
_STATE_FROM_PROTO = {v: k for k, v in _STATE_TO_PROTO.items()}


def _mode_from_proto(mode: str) -> AnalysisMode:
    try:
        return AnalysisMode(mode)
    except ValueError:  # a newer server's mode: shown as unknown rather than failing the read
        return AnalysisMode.NONE


def camera_status_to_proto(status: CameraStatus) -> types_pb2.CameraStatus:
    msg = types_pb2.CameraStatus(
        state=_STATE_TO_PROTO[status.state],
        reason=status.reason,
        node_id=status.node_id,
        pid=status.pid,
        mode=AnalysisMode(status.mode).value,
        frames_received=status.frames_received,
        frames_analysed=status.frames_analysed,
        frames_skipped=status.frames_skipped,
        detector_runs=status.detector_runs,
        reconnects=status.reconnects,
        fps_in=status.fps_in,
        fps_out=status.fps_out,
        last_sequence=status.last_sequence,
        stage_seconds=status.stage_seconds,
        capture_to_publish_seconds=status.capture_to_publish_seconds,
        cpu_percent=status.cpu_percent,
        memory_uss_bytes=status.memory_uss_bytes,
        target_fps=status.target_fps,
        degraded=status.degraded,
    )
    if status.last_frame_time is not None:
        msg.last_frame_time.CopyFrom(to_timestamp(status.last_frame_time))
    if status.recording is not None:
        msg.recording.CopyFrom(recording_status_to_proto(status.recording))
    return msg


def camera_status_from_proto(camera_id: str, msg: types_pb2.CameraStatus) -> CameraStatus:
    return CameraStatus(
        camera_id=camera_id,
        state=_STATE_FROM_PROTO.get(msg.state, CameraState.STOPPED),
        reason=msg.reason,
        node_id=msg.node_id,
        pid=msg.pid,
        mode=_mode_from_proto(msg.mode),
        frames_received=msg.frames_received,
        frames_analysed=msg.frames_analysed,
        frames_skipped=msg.frames_skipped,
        detector_runs=msg.detector_runs,
        reconnects=msg.reconnects,
        fps_in=msg.fps_in,
        fps_out=msg.fps_out,
        last_frame_time=from_timestamp(msg.last_frame_time) if msg.HasField("last_frame_time") else None,
        last_sequence=msg.last_sequence,
        stage_seconds=dict(msg.stage_seconds),
        capture_to_publish_seconds=msg.capture_to_publish_seconds,
        cpu_percent=msg.cpu_percent,
        memory_uss_bytes=msg.memory_uss_bytes,
        recording=_recording_from_proto(msg),
        target_fps=msg.target_fps,
        degraded=msg.degraded,
    )


def _recording_from_proto(msg: types_pb2.CameraStatus) -> RecordingStatus | None:
    if not msg.HasField("recording"):
        return None
    return recording_status_from_proto(msg.recording)


def recording_status_to_proto(status: RecordingStatus) -> types_pb2.RecordingStatus:
    msg = types_pb2.RecordingStatus(
        state=status.state.value,
        reason=status.reason,
        mode=status.mode,
        directory=status.directory,
        bytes_written=status.bytes_written,
        segments_written=status.segments_written,
        packets_dropped=status.packets_dropped,
        gaps_recorded=status.gaps_recorded,
        retention_deleted=status.retention_deleted,
        disk_used_bytes=status.disk_used_bytes,
        budget_bytes=status.budget_bytes,
        disk_free_bytes=status.disk_free_bytes,
    )
    if status.last_segment_end is not None:
        msg.last_segment_end.CopyFrom(to_timestamp(status.last_segment_end))
    return msg


def recording_status_from_proto(msg: types_pb2.RecordingStatus) -> RecordingStatus:
    try:
        state = RecordingState(msg.state)
    except ValueError:  # a newer server's state
        state = RecordingState.FAILED
    return RecordingStatus(
        state=state,
        reason=msg.reason,
        mode=msg.mode,
        directory=msg.directory,
        bytes_written=msg.bytes_written,
        segments_written=msg.segments_written,
        packets_dropped=msg.packets_dropped,
        gaps_recorded=msg.gaps_recorded,
        retention_deleted=msg.retention_deleted,
        disk_used_bytes=msg.disk_used_bytes,
        budget_bytes=msg.budget_bytes,
        disk_free_bytes=msg.disk_free_bytes,
        last_segment_end=from_timestamp(msg.last_segment_end) if msg.HasField("last_segment_end") else None,
    )


def camera_view_to_proto(view: CameraView, redact: bool = False) -> types_pb2.Camera:
    msg = types_pb2.Camera(spec=camera_config_to_spec(view.config, redact), node_id=view.node_id or "")
    if view.status is not None:
        msg.status.CopyFrom(camera_status_to_proto(view.status))
        if redact:
            msg.status.reason = hide_server_paths(view.config, msg.status.reason)
    return msg


def camera_view_from_proto(msg: types_pb2.Camera) -> CameraView:
    config = CameraConfig.model_validate(message_to_dict(msg.spec))
    status = camera_status_from_proto(config.id, msg.status) if msg.HasField("status") else None
    return CameraView(config=config, status=status, node_id=msg.node_id or None)


# ------------------------------------------------------------ frames, detections


def jpeg_frame_to_proto(frame: JpegFrame, dropped_slow: int = 0, skipped_rate: int = 0) -> types_pb2.Frame:
    return types_pb2.Frame(
        camera_id=frame.camera_id,
        frame_sequence=frame.frame_sequence,
        capture_time=to_timestamp(frame.capture_time),
        width=frame.width,
        height=frame.height,
        jpeg=frame.jpeg,
        dropped_slow=dropped_slow,
        skipped_rate=skipped_rate,
    )


def jpeg_frame_from_proto(msg: types_pb2.Frame) -> JpegFrame:
    return JpegFrame(
        camera_id=msg.camera_id,
        frame_sequence=msg.frame_sequence,
        capture_time=from_timestamp(msg.capture_time),
        width=msg.width,
        height=msg.height,
        jpeg=msg.jpeg,
    )


def detection_batch_to_proto(batch: DetectionBatch) -> types_pb2.DetectionBatch:
    msg = types_pb2.DetectionBatch(
        camera_id=batch.camera_id,
        sequence=batch.sequence,
        frame_sequence=batch.frame_sequence,
        capture_time=to_timestamp(batch.capture_time),
        publish_time=to_timestamp(batch.publish_time),
        motion=batch.motion,
        motion_ratio=batch.motion_ratio,
    )
    for d in batch.detections:
        det = msg.detections.add(
            class_id=d.class_id,
            class_name=d.class_name,
            confidence=d.confidence,
            box=types_pb2.Box(x=d.box.x, y=d.box.y, w=d.box.w, h=d.box.h),
        )
        if d.track_id is not None:
            det.track_id = d.track_id
    return msg


def detection_batch_from_proto(msg: types_pb2.DetectionBatch) -> DetectionBatch:
    return DetectionBatch(
        camera_id=msg.camera_id,
        sequence=msg.sequence,
        frame_sequence=msg.frame_sequence,
        capture_time=from_timestamp(msg.capture_time),
        publish_time=from_timestamp(msg.publish_time),
        detections=tuple(
            Detection(
                class_id=d.class_id,
                class_name=d.class_name,
                confidence=d.confidence,
                box=Box(d.box.x, d.box.y, d.box.w, d.box.h),
                track_id=d.track_id if d.HasField("track_id") else None,
            )
            for d in msg.detections
        ),
        motion=msg.motion,
        motion_ratio=msg.motion_ratio,
    )


_LOSS_TO_PROTO = {
    LossReason.RING_OVERWRITTEN: types_pb2.DataLoss.RING_OVERWRITTEN,
    LossReason.CAMERA_RESTARTED: types_pb2.DataLoss.CAMERA_RESTARTED,
}
_LOSS_FROM_PROTO = {v: k for k, v in _LOSS_TO_PROTO.items()}


def detection_response(batch: DetectionBatch, loss: DataLoss | None) -> cameras_pb2.StreamDetectionsResponse:
    msg = cameras_pb2.StreamDetectionsResponse(batch=detection_batch_to_proto(batch))
    if loss is not None:
        msg.data_loss.CopyFrom(
            types_pb2.DataLoss(
                reason=_LOSS_TO_PROTO[loss.reason],
                first_missing_sequence=loss.first_missing,
                last_missing_sequence=loss.last_missing,
            )
        )
    return msg


def data_loss_from_proto(msg: types_pb2.DataLoss) -> DataLoss:
    return DataLoss(
        reason=_LOSS_FROM_PROTO.get(msg.reason, LossReason.RING_OVERWRITTEN),
        first_missing=msg.first_missing_sequence,
        last_missing=msg.last_missing_sequence,
    )


# ------------------------------------------------------------------ cluster


def cluster_status_to_proto(status: ClusterStatus) -> cluster_pb2.ClusterStatus:
    return cluster_pb2.ClusterStatus(
        nodes=[
            cluster_pb2.Node(
                node_id=n.node_id,
                address=n.address,
                alive=n.alive,
                cpus=n.cpus,
                camera_ids=list(n.cameras),
                load=n.load,
                labels=dict(n.labels),
                draining=n.draining,
            )
            for n in status.nodes
        ],
        cameras_configured=status.cameras_configured,
        cameras_live=status.cameras_live,
        unplaced_camera_ids=list(status.unplaced),
    )


def cluster_status_from_proto(msg: cluster_pb2.ClusterStatus) -> ClusterStatus:
    return ClusterStatus(
        nodes=tuple(
            NodeView(
                node_id=n.node_id,
                address=n.address,
                alive=n.alive,
                cpus=n.cpus,
                cameras=tuple(n.camera_ids),
                load=n.load,
                labels=dict(n.labels),
                draining=n.draining,
            )
            for n in msg.nodes
        ),
        cameras_configured=msg.cameras_configured,
        cameras_live=msg.cameras_live,
        unplaced=tuple(msg.unplaced_camera_ids),
    )
