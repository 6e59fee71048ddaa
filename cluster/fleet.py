"""Runs the desired camera set as camera actors on the connected Ray cluster.

`CameraFleet` implements `cluster.control.CameraControl` for `matthan serve`:
admin changes take effect live and are persisted. Placement is left to Ray's
default scheduling here; the scheduler actor (cluster/scheduler) takes over
placement, balancing and healing.
"""

from __future__ import annotations

import asyncio
import logging

from .actors.handle import CameraActorHandle
from .actors.ray_handles import CameraActorFactory
from .domain import CameraState
from .config import CameraConfig
from .control import (
    CameraExists,
    CameraNotFound,
    CameraUnavailable,
    CameraView,
    ClusterStatus,
    NodeView,
)
from .scheduler.desired_state import DesiredStateStore

logger = logging.getLogger(__name__)

# A status call that takes longer than this means the actor is busy or gone.
STATUS_TIMEOUT_S = 5.0


class CameraFleet:
    def __init__(self, factory: CameraActorFactory, store: DesiredStateStore | None = None):
        self._factory = factory
        self._store = store
        self._configs: dict[str, CameraConfig] = {}
        self._handles: dict[str, CameraActorHandle] = {}
        self._lock = asyncio.Lock()

    async def start(self, seed: list[CameraConfig]) -> None:
        """Start from the persisted set if there is one, else from `seed`."""
        persisted = self._store.load() if self._store else None
        cameras = persisted if persisted is not None else seed
        if persisted is not None:
            logger.info("resuming %d camera(s) from %s (the config file only seeds the first start)",
                        len(persisted), self._store.path)
        async with self._lock:
            for config in cameras:
                self._configs[config.id] = config
                if config.enabled:
                    self._handles[config.id] = self._factory.create(config)
            self._persist()

    async def shutdown(self) -> None:
        async with self._lock:
            await asyncio.gather(*(self._factory.destroy(h) for h in self._handles.values()),
                                 return_exceptions=True)
            self._handles.clear()

    # ---- CameraControl ---------------------------------------------------------------

    async def list_cameras(self) -> list[CameraView]:
        ids = sorted(self._configs)
        return list(await asyncio.gather(*(self.get_camera(i) for i in ids)))

    async def get_camera(self, camera_id: str) -> CameraView:
        config = self._configs.get(camera_id)
        if config is None:
            raise CameraNotFound(camera_id)
        handle = self._handles.get(camera_id)
        status = None
        if handle is not None:
            try:
                status = await asyncio.wait_for(handle.status(), STATUS_TIMEOUT_S)
            except Exception as exc:  # actor starting, dead or busy: report as unobserved
                logger.debug("camera %s: status unavailable: %r", camera_id, exc)
        return CameraView(config=config, status=status, node_id=status.node_id if status else None)

    async def add_camera(self, config: CameraConfig) -> CameraView:
        async with self._lock:
            if config.id in self._configs:
                raise CameraExists(config.id)
            self._configs[config.id] = config
            if config.enabled:
                self._handles[config.id] = self._factory.create(config)
            self._persist()
        logger.info("camera %s added", config.id)
        return await self.get_camera(config.id)

    async def update_camera(self, config: CameraConfig) -> CameraView:
        async with self._lock:
            if config.id not in self._configs:
                raise CameraNotFound(config.id)
            self._configs[config.id] = config
            handle = self._handles.get(config.id)
            if handle is not None and not config.enabled:
                await self._factory.destroy(self._handles.pop(config.id))
            elif handle is not None:
                await handle.update(config)
            elif config.enabled:
                self._handles[config.id] = self._factory.create(config)
            self._persist()
        logger.info("camera %s updated", config.id)
        return await self.get_camera(config.id)

    async def remove_camera(self, camera_id: str) -> None:
        async with self._lock:
            if camera_id not in self._configs:
                raise CameraNotFound(camera_id)
            del self._configs[camera_id]
            handle = self._handles.pop(camera_id, None)
            if handle is not None:
                await self._factory.destroy(handle)
            self._persist()
        logger.info("camera %s removed", camera_id)

    async def handle(self, camera_id: str) -> CameraActorHandle:
        if camera_id not in self._configs:
            raise CameraNotFound(camera_id)
        handle = self._handles.get(camera_id)
        if handle is None:
            raise CameraUnavailable(f"camera {camera_id!r} is disabled")
        return handle

    async def cluster_status(self) -> ClusterStatus:
        views = await self.list_cameras()
        nodes = self._factory.nodes()
        per_node: dict[str, list[str]] = {}
        for view in views:
            if view.node_id:
                per_node.setdefault(view.node_id, []).append(view.config.id)
        node_views = tuple(
            NodeView(
                node_id=n.node_id,
                address=n.address,
                alive=n.alive,
                cpus=n.cpus,
                cameras=tuple(per_node.get(n.node_id, ())),
            )
            for n in nodes
        )
        live = sum(1 for v in views if v.status is not None and v.status.state is CameraState.LIVE)
        return ClusterStatus(nodes=node_views, cameras_configured=len(views), cameras_live=live)

    def _persist(self) -> None:
        if self._store is not None:
            self._store.save(list(self._configs.values()))
