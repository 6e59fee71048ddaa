"""MetricsServer: /metrics over HTTP on its own port."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from cluster.metrics.server import MetricsServer


@pytest.fixture
def server():
    registry = CollectorRegistry()
    Counter("matthan_test_events_total", "test", registry=registry).inc(3)
    server = MetricsServer(registry, "127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_metrics_are_served_at_slash_metrics(server):
    status, body = fetch(server.url)
    assert server.url.endswith("/metrics")
    assert status == 200
    assert "matthan_test_events_total 3.0" in body


def test_other_paths_say_where_the_metrics_are(server):
    base = server.url.removesuffix("/metrics")
    assert fetch(base + "/")[0] == 200
    status, body = fetch(base + "/nope")
    assert status == 404 and "/metrics" in body


def test_stop_frees_the_port(server):
    port = server.port
    server.stop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # raises if still taken


def test_a_taken_port_is_reported_with_the_address():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            MetricsServer(CollectorRegistry(), "127.0.0.1", port).start()
