"""MetricsService: the assembled endpoint, scraped over HTTP, follows the conventions."""

from __future__ import annotations

import asyncio
import urllib.request

from prometheus_client import CollectorRegistry

from cluster.config.metrics import MetricsConfig
from cluster.metrics.events import EventStoreMetrics
from cluster.metrics.service import MetricsService

from .exposition import convention_problems, families
from .fakes import FakeClock, FakeControl, meters_snapshot, status, view


class EventWriterMetrics:
    """The event writer's side: its own registry, read as snapshots (as EventWriterClient does)."""

    def __init__(self) -> None:
        self.metrics = EventStoreMetrics(CollectorRegistry())

    async def event_store_snapshot(self):
        return self.metrics.snapshot()


def test_the_service_serves_cluster_and_front_door_metrics():
    clock = FakeClock()
    control = FakeControl(views=[view("cam-1", status("cam-1", metrics=meters_snapshot())), view("cam-2", None)])
    writer = EventWriterMetrics()
    service = MetricsService(MetricsConfig(port=0, refresh_interval_s=1.0), control, events=writer, wall_clock=clock)

    async def scenario() -> str:
        writer.metrics.events_written("cam-1", "person")  # in the writer's process, read at start()
        await service.start()
        try:
            service.gateway.subscription_opened("cam-1", "frames")
            service.batch.job_started("job-1", 10)
            loop = asyncio.get_running_loop()
            with await loop.run_in_executor(
                None, lambda: urllib.request.urlopen(service.server.url, timeout=10)
            ) as response:
                return response.read().decode()
        finally:
            await service.stop()

    text = asyncio.run(scenario())
    names = set(families(text))
    for expected in (
        "matthan_camera_up",
        "matthan_node_up",
        "matthan_build_info",
        "matthan_gateway_subscribers",
        "matthan_batch_job_progress_ratio",
        "matthan_events",
        "matthan_metrics_refresh_errors",
    ):
        assert expected in names, f"{expected} missing from /metrics"
    assert convention_problems(text, {"camera": {"cam-1", "cam-2"}, "node": {"node-a", "node-b", ""}}) == []
    assert control.calls >= 1, "start() refreshes once before serving"


def test_a_disabled_service_neither_serves_nor_reads():
    control = FakeControl()
    service = MetricsService(MetricsConfig(enabled=False), control)

    async def scenario():
        await service.start()
        service.gateway.subscription_opened("cam-1", "frames")  # recorders still usable
        await service.stop()

    asyncio.run(scenario())
    assert control.calls == 0
