"""GatewayMetrics: subscribers, delivered and dropped messages, bounded labels."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from cluster.metrics.gateway import GatewayMetrics


@pytest.fixture
def registry():
    return CollectorRegistry()


@pytest.fixture
def metrics(registry):
    return GatewayMetrics(registry)


def get(registry, name, **labels):
    return registry.get_sample_value(name, labels)


def test_subscribers_go_up_and_down_by_camera_and_kind(registry, metrics):
    metrics.subscription_opened("cam-1", "frames")
    metrics.subscription_opened("cam-1", "frames")
    metrics.subscription_opened("cam-1", "detections")
    metrics.subscription_closed("cam-1", "frames", "slow_consumer")
    assert get(registry, "matthan_gateway_subscribers", camera="cam-1", kind="frames") == 1
    assert get(registry, "matthan_gateway_subscribers", camera="cam-1", kind="detections") == 1
    assert get(registry, "matthan_gateway_subscriptions_closed_total", kind="frames", reason="slow_consumer") == 1


def test_delivered_and_dropped_messages_are_counted(registry, metrics):
    metrics.messages_delivered("cam-1", "detections", 5)
    metrics.messages_delivered("cam-1", "detections", 0)
    metrics.messages_dropped("cam-1", "frames", "queue_full", 2)
    assert get(registry, "matthan_gateway_messages_delivered_total", camera="cam-1", kind="detections") == 5
    assert (
        get(registry, "matthan_gateway_messages_dropped_total", camera="cam-1", kind="frames", reason="queue_full") == 2
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.subscription_opened("cam-1", "video"),
        lambda m: m.messages_delivered("cam-1", "Frames"),
    ],
)
def test_unknown_kinds_are_refused(metrics, call):
    with pytest.raises(ValueError, match="subscription kind"):
        call(metrics)


@pytest.mark.parametrize("reason", ["Queue Full", "client 10.0.0.7 too slow", "", "x" * 41])
def test_free_text_reasons_are_refused(metrics, reason):
    with pytest.raises(ValueError, match="snake_case"):
        metrics.messages_dropped("cam-1", "frames", reason)


def test_forget_camera_removes_its_series(registry, metrics):
    metrics.subscription_opened("cam-1", "frames")
    metrics.messages_delivered("cam-1", "frames")
    metrics.messages_dropped("cam-1", "frames", "queue_full")
    metrics.messages_delivered("cam-2", "frames")
    metrics.forget_camera("cam-1")
    assert get(registry, "matthan_gateway_subscribers", camera="cam-1", kind="frames") is None
    assert (
        get(registry, "matthan_gateway_messages_dropped_total", camera="cam-1", kind="frames", reason="queue_full")
        is None
    )
    assert get(registry, "matthan_gateway_messages_delivered_total", camera="cam-2", kind="frames") == 1


def test_rpc_bookkeeping(registry, metrics):
    metrics.rpc_started("matthan.v1.Cameras/ListCameras")
    assert get(registry, "matthan_gateway_rpcs_in_flight", method="matthan.v1.Cameras/ListCameras") == 1
    metrics.rpc_finished("matthan.v1.Cameras/ListCameras", "OK", 0.02)
    assert get(registry, "matthan_gateway_rpcs_in_flight", method="matthan.v1.Cameras/ListCameras") == 0
    assert get(registry, "matthan_gateway_rpcs_handled_total", method="matthan.v1.Cameras/ListCameras", code="OK") == 1
    assert get(registry, "matthan_gateway_rpc_duration_seconds_sum", method="matthan.v1.Cameras/ListCameras") == 0.02
