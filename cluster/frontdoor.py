"""The front door of `matthan serve`: the gRPC gateway, the duty-room web console
(`server.web`) and the /metrics endpoint, started around whatever implements
`CameraControl` (and, for the Events API and the event store's metrics, the event
writer's client). The console shares the gateway's fan-out, authenticator and
access log, so a browser is one more subscriber of the same hubs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .config import MatthanConfig
from .control import CameraControl

if TYPE_CHECKING:
    from .events import EventQueries
    from .gateway.server import GatewayServer
    from .metrics.events import EventStoreStatsSource
    from .web.server import WebConsole

logger = logging.getLogger(__name__)


class FrontDoor:
    def __init__(
        self,
        config: MatthanConfig,
        control: CameraControl,
        scheduler_report=None,
        events: EventQueries | None = None,
        event_stats: EventStoreStatsSource | None = None,
    ):
        from .metrics.scheduler import SchedulerReportSource
        from .metrics.service import MetricsService

        self.config = config
        self.control = control
        scheduler = SchedulerReportSource(scheduler_report) if scheduler_report is not None else None
        self.metrics = MetricsService(config.metrics, control, scheduler=scheduler, events=event_stats)
        self.events = events
        self.gateway: GatewayServer | None = None
        self.web: WebConsole | None = None

    async def start(self) -> None:
        await self.metrics.start()
        if self.config.server is None:
            logger.info("no `server:` section: the gRPC front door and the web console are off")
            return
        from .gateway.server import GatewayServer

        server = self.config.server
        if not server.file_roots:  # requests may name files of the state dir only (the demo's clips)
            server = server.model_copy(update={"file_roots": [self.config.runtime.state_dir]})
        self.gateway = GatewayServer(
            self.control,
            server,
            metrics=self.metrics.gateway,
            events=self.events,
            recordings=self._recording_catalog(),
            recording_metrics=self.metrics.recordings,
            event_lookup=self._event_lookup(),
        )
        await self.gateway.start()
        if self.config.server.web is not None:
            from .web.server import WebConsole

            self.web = WebConsole.beside(self.gateway)
            await self.web.start()

    @property
    def web_url(self) -> str | None:
        """Where the web console answers (None when it is off)."""
        return self.web.url if self.web is not None else None

    def _recording_catalog(self):
        from .recordings import RecordingCatalog

        return RecordingCatalog(self.config.recordings, self.config.runtime.state_dir.resolve())

    def _event_lookup(self):
        """Holds on an event look it up in the event store."""
        from .gateway.recordings_service import event_store_lookup

        return event_store_lookup(self.config.events.store.resolved_path(self.config.runtime.state_dir))

    async def stop(self) -> None:
        """Web console first (its pages' sockets close with 1001), then the gateway (health
        NOT_SERVING, streams end with a clear status), then metrics."""
        try:
            if self.web is not None:
                await self.web.stop()
        finally:
            try:
                if self.gateway is not None:
                    await self.gateway.stop()
            finally:
                await self.metrics.stop()
