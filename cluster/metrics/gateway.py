"""Front-door metrics, updated by the gateway as things happen.

The gateway (cluster/gateway/) calls these from its event loop; prometheus_client
metrics are thread-safe, so scrapes on the metrics server's thread are fine.

    metrics = GatewayMetrics(registry)
    server = grpc.aio.server(interceptors=[metrics.interceptor(), ...])  # first: sees every call
    metrics.subscription_opened("cam-1", "detections")
    metrics.messages_delivered("cam-1", "detections", 3)
    metrics.messages_dropped("cam-1", "frames", "queue_full")
    metrics.subscription_closed("cam-1", "detections", "slow_consumer")

Labels stay bounded: `kind` must be one of `KINDS`, reasons must be short
snake_case codes (an enum's value such as `CloseKind.SLOW_CONSUMER.value`), never
free text; there is no client, session or token label.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from . import definitions as d
from .grpc_interceptor import MetricsInterceptor

KINDS: tuple[str, ...] = ("frames", "detections")
_CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")  # matched whole
UNKNOWN_METHOD = "unknown"


def checked_code(value: str, what: str) -> str:
    """`value` if it is a bounded label code (short snake_case), else ValueError."""
    if not isinstance(value, str) or not _CODE_PATTERN.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a short snake_case code (labels must stay bounded)")
    return value


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry, *, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self._subscribers = d.GATEWAY_SUBSCRIBERS.create(registry)
        self._closed = d.GATEWAY_SUBSCRIPTIONS_CLOSED.create(registry)
        self._delivered = d.GATEWAY_DELIVERED.create(registry)
        self._dropped = d.GATEWAY_DROPPED.create(registry)
        self._handled = d.GATEWAY_RPCS_HANDLED.create(registry)
        self._in_flight = d.GATEWAY_RPCS_IN_FLIGHT.create(registry)
        self._duration = d.GATEWAY_RPC_DURATION.create(registry)
        self._drop_reasons: dict[str, set[tuple[str, str]]] = {}  # camera -> (kind, reason), for forget_camera

    # ---- subscriptions and messages ---------------------------------------------------

    def subscription_opened(self, camera_id: str, kind: str) -> None:
        """A stream subscribed to `camera_id` (call once per camera of a multi-camera stream)."""
        self._subscribers.labels(camera_id, _kind(kind)).inc()

    def subscription_closed(self, camera_id: str, kind: str, reason: str = "closed") -> None:
        """The matching end of `subscription_opened`; `reason` e.g. `CloseKind.value`."""
        self._subscribers.labels(camera_id, _kind(kind)).dec()
        self._closed.labels(kind, checked_code(reason, "close reason")).inc()

    def messages_delivered(self, camera_id: str, kind: str, count: int = 1) -> None:
        if count:
            self._delivered.labels(camera_id, _kind(kind)).inc(count)

    def messages_dropped(self, camera_id: str, kind: str, reason: str, count: int = 1) -> None:
        """Messages a subscriber will not get: e.g. `queue_full` (oldest frame
        replaced), `slow_consumer` (detection stream cut), `ring_overwritten`."""
        if count:
            self._dropped.labels(camera_id, _kind(kind), checked_code(reason, "drop reason")).inc(count)
            self._drop_reasons.setdefault(camera_id, set()).add((kind, reason))

    def forget_camera(self, camera_id: str) -> None:
        """Drop the per-camera series of a removed camera."""
        for kind in KINDS:
            for metric in (self._subscribers, self._delivered):
                _remove(metric, camera_id, kind)
        for kind, reason in self._drop_reasons.pop(camera_id, ()):
            _remove(self._dropped, camera_id, kind, reason)

    # ---- RPCs (the interceptor calls these) ---------------------------------------------

    def rpc_started(self, method: str) -> None:
        self._in_flight.labels(method).inc()

    def rpc_finished(self, method: str, code: str, seconds: float | None) -> None:
        """`code`: status code name (`OK`, `NOT_FOUND`...). `seconds`: unary duration, None for streams."""
        self._in_flight.labels(method).dec()
        self._handled.labels(method, code).inc()
        if seconds is not None:
            self._duration.labels(method).observe(seconds)

    def rpc_unimplemented(self) -> None:
        self._handled.labels(UNKNOWN_METHOD, "UNIMPLEMENTED").inc()

    def interceptor(self) -> MetricsInterceptor:
        """A grpc.aio server interceptor recording every RPC into these metrics."""
        return MetricsInterceptor(self)


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"subscription kind {kind!r} is not one of {', '.join(KINDS)}")
    return kind


def _remove(metric, *labels: str) -> None:
    with contextlib.suppress(KeyError):
        metric.remove(*labels)
