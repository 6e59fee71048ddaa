"""Typed, synchronous Python client of the Mắt Thần front door (what the CLI uses).

    with MatthanClient("127.0.0.1:50051", token=os.environ["MATTHAN_TOKEN"]) as client:
        for camera in client.list_cameras():
            print(camera.config.id, camera.status.state if camera.status else "not running")
        open("cam.jpg", "wb").write(client.snapshot("cam-1").jpeg)
        for event in client.stream_detections(["cam-1"], classes=["person"]):
            print(event.batch.sequence, event.batch.detections)
        page = client.events.search(EventSelection(camera_ids=["cam-1"]))   # see events.py

Results are the project's own types (`CameraView`, `CameraConfig`, `JpegFrame`,
`DetectionBatch`, `ClusterStatus`); errors are `ClientError` subclasses carrying
the gRPC status code and the server's message.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import ValidationError

from ..config import CameraConfig, format_validation_error
from ..contract import DataLoss
from ..contract.convert import (
    camera_view_from_proto,
    cluster_status_from_proto,
    data_loss_from_proto,
    detection_batch_from_proto,
    jpeg_frame_from_proto,
)
from ..contract.wire import dict_to_message
from ..control import CameraView, ClusterStatus
from ..domain import DetectionBatch, JpegFrame
from ..proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc, cluster_pb2, cluster_pb2_grpc, types_pb2
from .errors import RESUME_ATTEMPTS, ClientError, InvalidArgument, error_from_rpc
from .events import EventsClient
from .jobs import JobsClient
from .recordings import RecordingsClient  # recordings

DEFAULT_TARGET = "127.0.0.1:50051"  # ServerConfig's default host and port
MAX_RECEIVE_MESSAGE_BYTES = 8 << 20  # matches the server's default max_send_message_bytes
RESUMABLE = (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)


@dataclass(frozen=True, slots=True)
class ClientTls:
    """TLS for the channel. PEM bytes or file paths; `root_ca=None` trusts the system roots."""

    root_ca: bytes | Path | None = None
    client_cert: bytes | Path | None = None  # mTLS
    client_key: bytes | Path | None = None
    server_name: str | None = None  # verify the certificate against this name instead of the target host


@dataclass(frozen=True, slots=True)
class NodeDrain:
    """Answer of `drain_node`."""

    node_id: str
    moved_camera_ids: tuple[str, ...]  # moved off the node by this call
    stranded_camera_ids: tuple[str, ...]  # nowhere to go: keep running there until capacity appears


@dataclass(frozen=True, slots=True)
class FrameEvent:
    frame: JpegFrame
    dropped_slow: int  # since the stream started: frames missed because this client read too slowly
    skipped_rate: int  # since the stream started: frames skipped for max_fps


@dataclass(frozen=True, slots=True)
class DetectionEvent:
    batch: DetectionBatch
    data_loss: DataLoss | None  # batches of this camera before this one that can no longer be delivered


def _pem(value: bytes | Path | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()


def channel_options(server_name: str | None = None) -> list[tuple[str, object]]:
    options: list[tuple[str, object]] = [
        ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
        ("grpc.max_send_message_length", 1 << 20),
        ("grpc.keepalive_time_ms", 60_000),  # server allows pings every 10 s or more
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.keepalive_permit_without_calls", 0),
    ]
    if server_name:
        options.append(("grpc.ssl_target_name_override", server_name))
    return options


class _Stream:
    """A server stream: iterate it once; `cancel()` (any thread) or leaving the loop ends the call."""

    def __init__(self) -> None:
        self._call: grpc.Call | None = None
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        if self._call is not None:
            self._call.cancel()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()


class FrameStream(_Stream):
    def __init__(self, start: Callable[[], grpc.Call]):
        super().__init__()
        self._start = start

    def __iter__(self) -> Iterator[FrameEvent]:
        self._call = self._start()
        try:
            for msg in self._call:
                yield FrameEvent(jpeg_frame_from_proto(msg), msg.dropped_slow, msg.skipped_rate)
        except grpc.RpcError as exc:
            if self._cancelled and exc.code() is grpc.StatusCode.CANCELLED:
                return
            raise error_from_rpc(exc) from None
        finally:
            self._call.cancel()  # the caller stopped iterating (break, exception): end the call on the server too


class DetectionStream(_Stream):
    """Detection batches; with auto_resume, reconnects after RESOURCE_EXHAUSTED (fell
    behind) or UNAVAILABLE (server restart) from the last sequence seen per camera.
    `last_sequences` is what to pass as resume_after to continue later."""

    def __init__(
        self,
        start: Callable[[dict[str, int]], grpc.Call],
        resume_after: Mapping[str, int] | None,
        auto_resume: bool,
        max_retries: int,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__()
        self._start = start
        self.last_sequences: dict[str, int] = dict(resume_after or {})
        self._auto_resume = auto_resume
        self._max_retries = max_retries
        self._sleep = sleep
        self.resumes = 0  # reconnections made
        self.data_losses = 0  # events that reported lost batches

    def __iter__(self) -> Iterator[DetectionEvent]:
        try:
            yield from self._events()
        finally:
            self.cancel()  # the caller stopped iterating (break, exception): end the call on the server too

    def _events(self) -> Iterator[DetectionEvent]:
        failures = 0
        while not self._cancelled:
            self._call = self._start(dict(self.last_sequences))
            try:
                for msg in self._call:
                    failures = 0
                    event = DetectionEvent(
                        detection_batch_from_proto(msg.batch),
                        data_loss_from_proto(msg.data_loss) if msg.HasField("data_loss") else None,
                    )
                    self.last_sequences[event.batch.camera_id] = event.batch.sequence
                    if event.data_loss is not None:
                        self.data_losses += 1
                    yield event
                return
            except grpc.RpcError as exc:
                if self._cancelled and exc.code() is grpc.StatusCode.CANCELLED:
                    return
                if not (self._auto_resume and exc.code() in RESUMABLE and failures < self._max_retries):
                    raise error_from_rpc(exc) from None
                failures += 1
                self.resumes += 1
                # Fell behind: come straight back. Server gone: back off.
                fell_behind = exc.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
                delay = 0.05 if fell_behind else min(0.5 * 2 ** (failures - 1), 5.0)
                self._sleep(delay)


class MatthanClient:
    def __init__(
        self,
        target: str,
        token: str | None = None,
        *,
        tls: ClientTls | None = None,
        timeout_s: float = 10.0,
        channel: grpc.Channel | None = None,
    ):
        """`target` is host:port. Without `tls` the channel is plaintext (loopback,
        or a trusted network with `allow_plaintext`). `channel` overrides both."""
        if channel is None:
            options = channel_options(tls.server_name if tls else None)
            if tls is None:
                channel = grpc.insecure_channel(target, options=options)
            else:
                credentials = grpc.ssl_channel_credentials(
                    _pem(tls.root_ca), _pem(tls.client_key), _pem(tls.client_cert)
                )
                channel = grpc.secure_channel(target, credentials, options=options)
        self.channel = channel
        self.timeout_s = timeout_s
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._cameras = cameras_pb2_grpc.CamerasStub(channel)
        self._cluster = cluster_pb2_grpc.ClusterStub(channel)
        self._health = health_pb2_grpc.HealthStub(channel)
        self.events = EventsClient(channel, self._unary, self._metadata)
        # recordings: list, verify, holds, export (matthan.v1.Recordings)
        self.recordings = RecordingsClient(channel, self._metadata, timeout_s)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> MatthanClient:
        """A client configured like the CLI: MATTHAN_ADDRESS (default 127.0.0.1:50051),
        MATTHAN_TOKEN, and for TLS MATTHAN_TLS_CA (PEM file; setting it turns TLS on),
        MATTHAN_TLS_CERT + MATTHAN_TLS_KEY (mTLS), MATTHAN_TLS_SERVER_NAME.
        Keyword arguments (target, token, tls, timeout_s) override the environment."""
        env = os.environ if environ is None else environ
        tls = None
        if env.get("MATTHAN_TLS_CA"):
            tls = ClientTls(
                root_ca=Path(env["MATTHAN_TLS_CA"]),
                client_cert=Path(env["MATTHAN_TLS_CERT"]) if env.get("MATTHAN_TLS_CERT") else None,
                client_key=Path(env["MATTHAN_TLS_KEY"]) if env.get("MATTHAN_TLS_KEY") else None,
                server_name=env.get("MATTHAN_TLS_SERVER_NAME") or None,
            )
        settings = {
            "target": env.get("MATTHAN_ADDRESS") or DEFAULT_TARGET,
            "token": env.get("MATTHAN_TOKEN") or None,
            "tls": tls,
            **overrides,
        }
        target = settings.pop("target")
        return cls(target, **settings)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> MatthanClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _unary(self, method, request, timeout_s: float | None = None):
        try:
            return method(request, metadata=self._metadata, timeout=timeout_s or self.timeout_s)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None

    # ---------------------------------------------------------------- cameras

    def list_cameras(self, groups: Sequence[str] = ()) -> list[CameraView]:
        response = self._unary(self._cameras.ListCameras, cameras_pb2.ListCamerasRequest(groups=list(groups)))
        return [camera_view_from_proto(c) for c in response.cameras]

    def get_camera(self, camera_id: str) -> CameraView:
        request = cameras_pb2.GetCameraRequest(camera_id=camera_id)
        return camera_view_from_proto(self._unary(self._cameras.GetCamera, request))

    def add_camera(self, camera: CameraConfig | Mapping) -> CameraView:
        spec = _spec(_config(camera))
        return camera_view_from_proto(self._unary(self._cameras.AddCamera, cameras_pb2.AddCameraRequest(camera=spec)))

    def update_camera(self, camera: CameraConfig | Mapping, fields: Sequence[str] | None = None) -> CameraView:
        """Replace the camera's desired state, or with `fields` (config paths such as
        "name", "analysis.fps") only those; `camera` may then be a partial mapping."""
        if fields:
            spec = _spec(camera if isinstance(camera, Mapping) else camera.model_dump(mode="json"))
        else:
            spec = _spec(_config(camera))
        request = cameras_pb2.UpdateCameraRequest(camera=spec)
        request.update_mask.paths.extend(fields or ())
        return camera_view_from_proto(self._unary(self._cameras.UpdateCamera, request))

    def remove_camera(self, camera_id: str) -> None:
        self._unary(self._cameras.RemoveCamera, cameras_pb2.RemoveCameraRequest(camera_id=camera_id))

    def snapshot(self, camera_id: str, *, max_width: int = 0, quality: int = 0) -> JpegFrame:
        request = cameras_pb2.GetSnapshotRequest(camera_id=camera_id, max_width=max_width, quality=quality)
        return jpeg_frame_from_proto(self._unary(self._cameras.GetSnapshot, request))

    def stream_frames(
        self, camera_id: str, *, max_fps: float = 0.0, max_width: int = 0, quality: int = 0
    ) -> FrameStream:
        """Live frames (iterate; `cancel()` from any thread ends it). No deadline."""
        request = cameras_pb2.StreamFramesRequest(
            camera_id=camera_id, max_fps=max_fps, max_width=max_width, quality=quality
        )
        return FrameStream(lambda: self._cameras.StreamFrames(request, metadata=self._metadata))

    def stream_detections(
        self,
        camera_ids: Sequence[str] = (),
        *,
        classes: Sequence[str] = (),
        min_confidence: float = 0.0,
        resume_after: Mapping[str, int] | None = None,
        include_empty: bool = False,
        auto_resume: bool = True,
        max_retries: int = RESUME_ATTEMPTS,
    ) -> DetectionStream:
        """Detection batches of `camera_ids` (empty: every camera the token may see)."""

        def start(resume: dict[str, int]) -> grpc.Call:
            request = cameras_pb2.StreamDetectionsRequest(
                camera_ids=list(camera_ids),
                classes=list(classes),
                min_confidence=min_confidence,
                resume_after=resume,
                include_empty=include_empty,
            )
            return self._cameras.StreamDetections(request, metadata=self._metadata)

        return DetectionStream(start, resume_after, auto_resume, max_retries)

    # ---------------------------------------------------------------- jobs (batch reprocessing)

    @property
    def jobs(self) -> JobsClient:
        """matthan.v1.Jobs: submit, watch, list and cancel reprocessing jobs."""
        return JobsClient(self.channel, self._unary, self._metadata)

    # ---------------------------------------------------------------- cluster

    def cluster_status(self) -> ClusterStatus:
        request = cluster_pb2.GetClusterStatusRequest()
        return cluster_status_from_proto(self._unary(self._cluster.GetClusterStatus, request))

    def drain_node(self, node_id: str, timeout_s: float | None = 120.0) -> NodeDrain:
        """Admin: move every camera off `node_id` (moving cameras takes a while: long default timeout)."""
        request = cluster_pb2.DrainNodeRequest(node_id=node_id)
        response = self._unary(self._cluster.DrainNode, request, timeout_s)
        return NodeDrain(response.node_id, tuple(response.moved_camera_ids), tuple(response.stranded_camera_ids))

    def health(self, service: str = "") -> str:
        """ "SERVING", "NOT_SERVING", ... of the server or one service (no token needed)."""
        response = self._unary(self._health.Check, health_pb2.HealthCheckRequest(service=service))
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def _config(camera: CameraConfig | Mapping) -> CameraConfig:
    if isinstance(camera, CameraConfig):
        return camera
    try:
        return CameraConfig.model_validate(dict(camera))
    except ValidationError as exc:
        # The same message the server would give, without the round trip.
        raise InvalidArgument(grpc.StatusCode.INVALID_ARGUMENT, format_validation_error(exc, "camera.")) from None


def _spec(camera: CameraConfig | Mapping) -> types_pb2.CameraSpec:
    if isinstance(camera, CameraConfig):
        data = camera.model_dump(mode="json")
    else:
        data = json.loads(json.dumps(camera, default=str))  # Paths and the like as strings
    try:
        return dict_to_message(data, types_pb2.CameraSpec())
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument(grpc.StatusCode.INVALID_ARGUMENT, f"camera: {exc}") from None


__all__ = [
    "ClientError",
    "ClientTls",
    "DetectionEvent",
    "DetectionStream",
    "FrameEvent",
    "FrameStream",
    "MatthanClient",
    "NodeDrain",
]
