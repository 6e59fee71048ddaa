"""The front door of `matthan serve`: the gRPC gateway and the /metrics endpoint,
started around whatever implements `CameraControl`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .config import MatthanConfig
from .control import CameraControl

if TYPE_CHECKING:
    from .gateway.server import GatewayServer

logger = logging.getLogger(__name__)


class FrontDoor:
    def __init__(self, config: MatthanConfig, control: CameraControl, scheduler_report=None, jobs=None):
        from .metrics.scheduler import SchedulerReportSource
        from .metrics.service import MetricsService

        self.config = config
        self.control = control
        scheduler = SchedulerReportSource(scheduler_report) if scheduler_report is not None else None
        self.metrics = MetricsService(config.metrics, control, scheduler=scheduler, batch=jobs)
        self.gateway: GatewayServer | None = None
        self.jobs = jobs  # cluster.batch.api.JobControl: serves matthan.v1.Jobs when given

    async def start(self) -> None:
        await self.metrics.start()
        if self.config.server is None:
            logger.info("no `server:` section: the gRPC front door is off")
            return
        from .gateway.server import GatewayServer

        self.gateway = GatewayServer(self.control, self.config.server, metrics=self.metrics.gateway, jobs=self.jobs)
        await self.gateway.start()

    async def stop(self) -> None:
        """Gateway first (health NOT_SERVING, streams end with a clear status), then metrics."""
        try:
            if self.gateway is not None:
                await self.gateway.stop()
        finally:
            await self.metrics.stop()
