"""The gRPC server: services, health, reflection, TLS, keepalive and limits.

Channel options (see `server_options`), chosen on purpose:

- Message sizes: requests are small (camera specs), so at most
  `limits.max_receive_message_bytes` (1 MiB) is read from a client and at most
  `limits.max_metadata_bytes` (8 KiB) of metadata; gRPC refuses more with
  RESOURCE_EXHAUSTED before our code sees the call; responses
  carry JPEG frames, up to `limits.max_send_message_bytes` (8 MiB). gRPC clients
  accept 4 MiB by default; `cluster.client` raises that to match.
- Keepalive: the server pings a connection after `keepalive.time_s` (30 s) of
  silence and drops it if no answer comes within `keepalive.timeout_s` (10 s), so
  streams of vanished clients (NAT timeouts, dead laptops) are freed. Clients may
  ping, at most every `keepalive.min_client_ping_interval_s` (10 s); faster
  pingers get GOAWAY (too_many_pings). `cluster.client` pings every 60 s.
- SO_REUSEPORT off: a second server on a taken port fails instead of silently
  sharing it.

Health (grpc.health.v1) answers for "" (the server), "matthan.v1.Cameras",
"matthan.v1.Cluster" and "matthan.v1.Events"; health and reflection need no token
(probes, grpcurl). Events is served with an event store (`events`); without one its
calls answer UNAVAILABLE.

Shutdown (`stop`): health turns NOT_SERVING for every service first, then after
`shutdown_drain_s` the streams end with UNAVAILABLE ("server shutting down"),
then gRPC refuses new calls and gives unary calls `grace` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from ..config.server import ServerConfig, is_loopback
from ..control import CameraControl
from ..proto.matthan.v1 import (
    cameras_pb2,
    cameras_pb2_grpc,
    cluster_pb2,
    cluster_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
    recordings_pb2,
    recordings_pb2_grpc,
)
from .access_log import AccessLog
from .access_watch import AccessWatch
from .auth import Authenticator, AuthError
from .cameras_service import CamerasService
from .cluster_service import ClusterService
from .event_feed import EventFeed, EventFeedSettings
from .events_service import EventsService
from .fanout import Fanout, FanoutSettings
from .last_known import LastKnownControl
from .rpc import GatewayState

if TYPE_CHECKING:
    from ..batch.api import JobControl
    from ..events import EventQueries
    from ..metrics.gateway import GatewayMetrics
    from ..metrics.recordings import RecordingMetrics
    from ..recordings import RecordingCatalog
    from .recordings_service import EventLookup

log = logging.getLogger("matthan.gateway")

CAMERAS_SERVICE = cameras_pb2.DESCRIPTOR.services_by_name["Cameras"].full_name
CLUSTER_SERVICE = cluster_pb2.DESCRIPTOR.services_by_name["Cluster"].full_name
EVENTS_SERVICE = events_pb2.DESCRIPTOR.services_by_name["Events"].full_name
RECORDINGS_SERVICE = recordings_pb2.DESCRIPTOR.services_by_name["Recordings"].full_name
SERVICE_NAMES = (CAMERAS_SERVICE, CLUSTER_SERVICE, EVENTS_SERVICE, RECORDINGS_SERVICE)


class _MalformedRequest:
    def __init__(self, type_name: str):
        self.type_name = type_name


class MalformedRequestInterceptor(grpc.aio.ServerInterceptor):
    """Bytes that do not parse as the request message get INVALID_ARGUMENT (after
    authentication), not gRPC's UNKNOWN plus a logged traceback."""

    def __init__(self, auth: Authenticator):
        self._auth = auth

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or not handler_call_details.method.startswith("/matthan.v1."):
            return handler
        if handler.request_streaming:  # none of our methods: leave as is
            return handler
        deserialize = handler.request_deserializer
        type_name = getattr(getattr(deserialize, "__self__", None), "DESCRIPTOR", None)
        type_name = type_name.full_name if type_name is not None else "request"

        def safe_deserialize(data: bytes):
            try:
                return deserialize(data)
            except Exception:  # noqa: BLE001 - DecodeError, or anything protobuf raises on garbage
                return _MalformedRequest(type_name)

        async def refuse(request: _MalformedRequest, context) -> None:
            try:
                self._auth.authenticate(context.invocation_metadata())
            except AuthError as exc:
                await context.abort(exc.code, exc.message)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"request: not a valid {request.type_name} message")

        if handler.response_streaming:
            behaviour = handler.unary_stream

            async def unary_stream(request, context):
                if isinstance(request, _MalformedRequest):
                    await refuse(request, context)
                return await behaviour(request, context)

            return grpc.unary_stream_rpc_method_handler(unary_stream, safe_deserialize, handler.response_serializer)
        behaviour = handler.unary_unary

        async def unary_unary(request, context):
            if isinstance(request, _MalformedRequest):
                await refuse(request, context)
            return await behaviour(request, context)

        return grpc.unary_unary_rpc_method_handler(unary_unary, safe_deserialize, handler.response_serializer)


def server_options(config: ServerConfig) -> list[tuple[str, int]]:
    ka, limits = config.keepalive, config.limits
    options = [
        ("grpc.max_receive_message_length", limits.max_receive_message_bytes),
        ("grpc.max_send_message_length", limits.max_send_message_bytes),
        # Soft and hard limit alike: gRPC refuses metadata above the soft one only sometimes.
        ("grpc.max_metadata_size", limits.max_metadata_bytes),
        ("grpc.absolute_max_metadata_size", limits.max_metadata_bytes),
        ("grpc.max_concurrent_streams", limits.max_concurrent_streams),
        ("grpc.keepalive_time_ms", int(ka.time_s * 1000)),
        ("grpc.keepalive_timeout_ms", int(ka.timeout_s * 1000)),
        ("grpc.keepalive_permit_without_calls", int(ka.permit_without_calls)),
        ("grpc.http2.min_ping_interval_without_data_ms", int(ka.min_client_ping_interval_s * 1000)),
        ("grpc.http2.max_ping_strikes", 2),
        ("grpc.so_reuseport", 0),
    ]
    if ka.max_connection_idle_s is not None:
        options.append(("grpc.max_connection_idle_ms", int(ka.max_connection_idle_s * 1000)))
    return options


def _read(path: Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise ValueError(f"cannot read {what} {path}: {exc.strerror}") from None


def server_credentials(config: ServerConfig) -> grpc.ServerCredentials | None:
    tls = config.tls
    if tls is None:
        return None
    key = _read(tls.key_file, "TLS key file")
    cert = _read(tls.cert_file, "TLS certificate file")
    client_ca = _read(tls.client_ca_file, "TLS client CA file")
    return grpc.ssl_server_credentials(
        [(key, cert)],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None and tls.require_client_cert,
    )


class GatewayServer:
    """The front door. `await start()`, serve, `await stop()`; one instance per process.

    `metrics` (e.g. `MetricsService.gateway`): RPC counts by method and status code,
    open subscriptions, delivered and dropped messages. Without it nothing is recorded.
    `events` (e.g. `EventWriterClient`): the event store the Events service reads; one
    change-feed follow (`EventFeed`) serves every StreamEvents call.
    """

    def __init__(
        self,
        control: CameraControl,
        config: ServerConfig,
        *,
        metrics: GatewayMetrics | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        fanout_settings: FanoutSettings | None = None,
        access_logger: logging.Logger | None = None,
        events: EventQueries | None = None,
        event_feed_settings: EventFeedSettings | None = None,
        recordings: RecordingCatalog | None = None,
        recording_metrics: RecordingMetrics | None = None,
        event_lookup: EventLookup | None = None,
        jobs: JobControl | None = None,
    ):
        self.jobs = jobs  # the batch job manager (matthan.v1.Jobs); None serves no Jobs service
        self.config = config
        # Recordings: where the cameras' segments are (None: the service answers from
        # the default catalog of an unset state_dir, i.e. ./var).
        self._recordings = recordings
        self._recording_metrics = recording_metrics
        self._event_lookup = event_lookup
        self._clock = clock
        # Everything the front door asks the control plane goes through the last known view:
        # a frozen scheduler costs reads `control_read_deadline_s`, not the client's deadline.
        control = LastKnownControl(control, read_deadline_s=config.control_read_deadline_s, monotonic=monotonic)
        self.control = control
        self.metrics = metrics
        settings = fanout_settings or FanoutSettings(
            frame_queue_size=config.limits.frame_queue_size,
            detection_queue_size=config.limits.detection_queue_size,
        )
        self.fanout = Fanout(control, settings, monotonic=monotonic, metrics=metrics)
        self.state = GatewayState(
            control=control,
            config=config,
            auth=Authenticator(config),
            fanout=self.fanout,
            access=AccessLog(access_logger, clock=clock),
            watch=AccessWatch(control, config.camera_refresh_s),
            events=events,
            event_feed=EventFeed(events, event_feed_settings) if events is not None else None,
            recordings=recordings,
        )
        self.health = health.aio.HealthServicer()
        self._server: grpc.aio.Server | None = None
        self._port: int | None = None
        self._services: tuple[str, ...] = SERVICE_NAMES
        self._stopping = False

    @property
    def port(self) -> int:
        """The bound port (useful with `port: 0`); only after start()."""
        if self._port is None:
            raise RuntimeError("GatewayServer.port is known only after start()")
        return self._port

    @property
    def address(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"{host}:{self.port}"

    @property
    def services(self) -> tuple[str, ...]:
        """The matthan.v1 services this server registers (Jobs only with a job manager)."""
        return self._services

    async def start(self) -> None:
        """Bind and serve. Raises RuntimeError if the address cannot be bound,
        ValueError if TLS files are missing or unreadable."""
        if self._server is not None:
            raise RuntimeError("GatewayServer already started")
        credentials = server_credentials(self.config)
        interceptors: list[grpc.aio.ServerInterceptor] = []
        if self.metrics is not None:
            # First, so calls refused by the interceptors after it (malformed requests) are counted too.
            interceptors.append(self.metrics.interceptor())
        interceptors.append(MalformedRequestInterceptor(self.state.auth))
        server = grpc.aio.server(options=server_options(self.config), interceptors=interceptors)
        cameras_pb2_grpc.add_CamerasServicer_to_server(CamerasService(self.state), server)
        cluster_pb2_grpc.add_ClusterServicer_to_server(ClusterService(self.state), server)
        events_pb2_grpc.add_EventsServicer_to_server(EventsService(self.state), server)
        self._add_recordings(server)
        services: tuple[str, ...] = SERVICE_NAMES
        # ---- batch reprocessing (matthan.v1.Jobs), when the job manager is there
        if self.jobs is not None:
            from ..proto.matthan.v1 import jobs_pb2, jobs_pb2_grpc
            from .jobs_service import JobsService

            jobs_pb2_grpc.add_JobsServicer_to_server(JobsService(self.state, self.jobs), server)
            services = (*services, jobs_pb2.DESCRIPTOR.services_by_name["Jobs"].full_name)
        # ----
        self._services = services
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection((*services, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
        address = self.config.address
        try:
            if credentials is None:
                port = server.add_insecure_port(address)
            else:
                port = server.add_secure_port(address, credentials)
        except RuntimeError as exc:
            raise RuntimeError(f"cannot listen on {address}: {exc}") from None
        if not port:
            raise RuntimeError(f"cannot listen on {address} (in use, or not an address of this host)")
        await server.start()
        self._server, self._port = server, port
        for name in ("", *self._services):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("gateway listening on %s (%s)", self.address, self._describe_security())

    def _add_recordings(self, server: grpc.aio.Server) -> None:
        from ..config.recording import RecordingStorageConfig
        from ..recordings import RecordingCatalog
        from .recordings_service import RecordingsService

        catalog = self._recordings or RecordingCatalog(RecordingStorageConfig(), Path("var"))
        service = RecordingsService(
            self.state, catalog, clock=self._clock, event_lookup=self._event_lookup, metrics=self._recording_metrics
        )
        recordings_pb2_grpc.add_RecordingsServicer_to_server(service, server)

    def _describe_security(self) -> str:
        tls = self.config.tls
        if tls is None:
            transport = "plaintext, loopback" if is_loopback(self.config.host) else "plaintext"
        else:
            transport = "TLS + client certificates" if tls.client_ca_file and tls.require_client_cert else "TLS"
        extra = ", token-less callers allowed" if self.config.allow_unauthenticated else ""
        return f"{transport}, {len(self.config.tokens)} tokens{extra}"

    async def stop(self, grace: float | None = None) -> None:
        """Health NOT_SERVING, drain, end streams with UNAVAILABLE, then stop gRPC
        giving unary calls `grace` seconds (default `config.grace_period_s`). Idempotent."""
        if self._server is None or self._stopping:
            return
        self._stopping = True
        grace = self.config.grace_period_s if grace is None else grace
        await self.health.enter_graceful_shutdown()
        if self.config.shutdown_drain_s:
            await asyncio.sleep(self.config.shutdown_drain_s)
        await self.state.watch.close()
        await self.fanout.close(
            "server shutting down: reconnect later (detection streams: resume from your last sequence)"
        )
        if self.state.event_feed is not None:
            await self.state.event_feed.close("server shutting down: reconnect later with your last event cursor")
        await self._server.stop(grace)
        log.info("gateway on %s stopped", self.address)

    async def wait_for_termination(self, timeout: float | None = None) -> bool:
        if self._server is None:
            raise RuntimeError("GatewayServer not started")
        return await self._server.wait_for_termination(timeout)
