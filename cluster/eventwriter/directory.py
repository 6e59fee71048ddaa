"""The cameras the event writer follows: the scheduler's desired set, and their actor handles.

`cluster.events.CameraDirectory` over `SchedulerClient`. The writer may start before
the scheduler (or outlive a restart of it): the client is made on first use and made
again after the scheduler could not be found, so the writer's loop just retries.
"""

from __future__ import annotations

from collections.abc import Callable

from ..control import CameraHandle
from ..scheduler.client import SchedulerClient


class SchedulerDirectory:
    def __init__(self, namespace: str, connect: Callable[[str], SchedulerClient] = SchedulerClient.connect):
        self._namespace = namespace
        self._connect = connect
        self._client: SchedulerClient | None = None

    def _scheduler(self) -> SchedulerClient:
        if self._client is None:
            self._client = self._connect(self._namespace)  # SchedulerUnavailable if it is not there (yet)
        return self._client

    async def camera_ids(self) -> list[str]:
        """Enabled cameras of the desired set (a disabled camera has no actor, hence no ring)."""
        return [view.config.id for view in await self._scheduler().list_cameras() if view.config.enabled]

    async def handle(self, camera_id: str) -> CameraHandle:
        return await self._scheduler().handle(camera_id)
