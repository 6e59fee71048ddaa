"""Everything behind the front door's `/metrics`, assembled from `MetricsConfig`.

service = MetricsService(config.metrics, control, scheduler=SchedulerReportSource(client.report),
                         events=event_writer_client)   # the event store's metrics, from its writer
await service.start()               # binds the port, starts the refresher on this loop
gateway_metrics = service.gateway   # give to the gRPC server (see gateway.py)
...
await service.stop()
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import metadata

from prometheus_client import CollectorRegistry

from ..config.metrics import MetricsConfig
from ..control import CameraControl
from . import definitions as d
from .batch import BatchJobMetrics
from .collector import ClusterCollector
from .events import EventStoreStatsSource
from .gateway import GatewayMetrics
from .recordings import RecordingMetrics
from .refresher import ClusterRefresher
from .scheduler import SchedulerStatsSource
from .server import MetricsServer
from .snapshot import SnapshotStore


def matthan_version() -> str:
    try:
        return metadata.version("matthan")
    except metadata.PackageNotFoundError:
        return "unknown"


class MetricsService:
    def __init__(
        self,
        config: MetricsConfig,
        control: CameraControl,
        *,
        scheduler: SchedulerStatsSource | None = None,
        events: EventStoreStatsSource | None = None,
        registry: CollectorRegistry | None = None,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self.registry = registry if registry is not None else CollectorRegistry()
        self.store = SnapshotStore()
        self.refresher = ClusterRefresher(
            control,
            self.store,
            self.registry,
            interval_s=config.refresh_interval_s,
            timeout_s=config.refresh_timeout_s,
            scheduler=scheduler,
            events=events,
            wall_clock=wall_clock,
        )
        self.registry.register(ClusterCollector(self.store, wall_clock=wall_clock, stale_after_s=config.stale_after_s))
        d.BUILD_INFO.create(self.registry).info({"version": matthan_version()})
        self.gateway = GatewayMetrics(self.registry)
        self.batch = BatchJobMetrics(self.registry)
        self.recordings = RecordingMetrics(self.registry)  # give to the Recordings service
        self.server = MetricsServer(self.registry, config.host, config.port)

    async def start(self) -> None:
        """Serve /metrics and refresh on the running event loop; nothing when disabled
        (the recorders still work, they are just never scraped)."""
        if not self.config.enabled:
            return
        self.server.start()
        await self.refresher.refresh_once()  # the first scrape already has data
        self.refresher.start()

    async def stop(self) -> None:
        await self.refresher.stop()
        self.server.stop()
