"""`LastKnownControl`: the control plane as the front door uses it, when the
scheduler is slow, frozen or restarting.

The scheduler actor answers reads from memory in milliseconds; when it does not
answer within `read_deadline_s` it is frozen (SIGSTOP, a wedged host) or being
restarted by Ray, and waiting the client's full deadline helps nobody. So:

    read (list, get, handle, cluster status)
        scheduler answers in time  -> its answer; remembered
        it does not                -> the remembered answer, marked with its age
                                      (`view_age_s()` in the same task; the
                                      gateway puts it in trailing metadata)
        nothing remembered         -> SchedulerUnavailable
    write (add, update, remove, drain, undrain)
        a read first, with the same deadline (the probe)
        probe fails                -> SchedulerUnavailable "nothing was changed;
                                      retry" (no request reached the scheduler)
        probe answers              -> the write, with the client's deadline

Guarantees:
- A read never waits longer than `read_deadline_s` for the scheduler.
- A write the probe refused was never submitted. A write that was submitted and
  then timed out may have been applied; retrying it is safe because every write
  is idempotent by camera id (AddCamera of the same config succeeds, UpdateCamera
  sets a state, RemoveCamera of a gone camera is NOT_FOUND).
- A camera the scheduler reports as gone (`CameraNotFound`) is forgotten here
  too: a stale view never resurrects it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..config import CameraConfig
from ..control import (
    CameraControl,
    CameraHandle,
    CameraNotFound,
    CameraView,
    ClusterStatus,
    DrainResult,
    SchedulerUnavailable,
)

log = logging.getLogger("matthan.gateway")

T = TypeVar("T")
WARN_EVERY_S = 10.0  # one warning per this while answers come from the last known view

# Age in seconds of the stale answer this task got, None when every answer was fresh.
_view_age: contextvars.ContextVar[float | None] = contextvars.ContextVar("matthan_view_age", default=None)


def view_age_s() -> float | None:
    """The age of the oldest remembered answer served to the current task, or None."""
    return _view_age.get()


class LastKnownControl:
    """Implements `CameraControl` around another one (the scheduler client)."""

    def __init__(
        self,
        inner: CameraControl,
        *,
        read_deadline_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.inner = inner
        self.read_deadline_s = read_deadline_s
        self._monotonic = monotonic
        self._views: dict[str, CameraView] | None = None  # the last full list, by id
        self._views_at = 0.0
        self._view_at: dict[str, float] = {}  # when each camera's view was last refreshed
        self._handles: dict[str, CameraHandle] = {}
        self._cluster: tuple[ClusterStatus, float] | None = None
        self._warned_at: float | None = None

    # ------------------------------------------------------------------ reads

    async def list_cameras(self) -> list[CameraView]:
        try:
            views = await self._read("ListCameras", self.inner.list_cameras())
        except SchedulerUnavailable:
            if self._views is None:
                raise
            self._served(self._views_at)
            return list(self._views.values())
        now = self._monotonic()
        self._views = {v.config.id: v for v in views}
        self._views_at = now
        self._view_at = dict.fromkeys(self._views, now)
        self._handles = {k: h for k, h in self._handles.items() if k in self._views}
        return views

    async def get_camera(self, camera_id: str) -> CameraView:
        try:
            view = await self._read("GetCamera", self.inner.get_camera(camera_id))
        except CameraNotFound:
            self._forget(camera_id)
            raise
        except SchedulerUnavailable:
            known = self._views.get(camera_id) if self._views is not None else None
            if known is None:
                raise
            self._served(self._view_at.get(camera_id, self._views_at))
            return known
        if self._views is not None:
            self._views[camera_id] = view
            self._view_at[camera_id] = self._monotonic()
        return view

    async def handle(self, camera_id: str) -> CameraHandle:
        try:
            handle = await self._read("handle", self.inner.handle(camera_id))
        except CameraNotFound:
            self._forget(camera_id)
            raise
        except SchedulerUnavailable:
            known = self._handles.get(camera_id)
            if known is None:
                raise
            return known  # the camera actor answers for itself; its own deadlines apply
        self._handles[camera_id] = handle
        return handle

    async def cluster_status(self) -> ClusterStatus:
        try:
            status = await self._read("ClusterStatus", self.inner.cluster_status())
        except SchedulerUnavailable:
            if self._cluster is None:
                raise
            self._served(self._cluster[1])
            return self._cluster[0]
        self._cluster = (status, self._monotonic())
        return status

    # ----------------------------------------------------------------- writes

    async def add_camera(self, config: CameraConfig) -> CameraView:
        await self._probe("AddCamera")
        return await self.inner.add_camera(config)

    async def update_camera(self, config: CameraConfig) -> CameraView:
        await self._probe("UpdateCamera")
        return await self.inner.update_camera(config)

    async def remove_camera(self, camera_id: str) -> None:
        await self._probe("RemoveCamera")
        await self.inner.remove_camera(camera_id)
        self._forget(camera_id)

    async def drain_node(self, node_id: str) -> DrainResult:
        await self._probe("DrainNode")
        return await self.inner.drain_node(node_id)

    async def undrain_node(self, node_id: str) -> None:
        await self._probe("UndrainNode")
        await self.inner.undrain_node(node_id)

    # -------------------------------------------------------------- internals

    async def _read(self, method: str, call: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(call, self.read_deadline_s)
        except TimeoutError:
            raise SchedulerUnavailable(
                f"the scheduler did not answer {method} within {self.read_deadline_s:g} s"
            ) from None

    async def _probe(self, method: str) -> None:
        try:
            await self._read(method, self.inner.cluster_status())
        except SchedulerUnavailable as exc:
            raise SchedulerUnavailable(
                f"{exc}; nothing was changed: retry in a few seconds (writes are idempotent by camera id)"
            ) from None

    def _served(self, at: float) -> None:
        age = max(0.0, self._monotonic() - at)
        current = _view_age.get()
        _view_age.set(age if current is None else max(current, age))
        now = self._monotonic()
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning("the scheduler is not answering: serving its view from %.1f s ago", age)

    def _forget(self, camera_id: str) -> None:
        if self._views is not None:
            self._views.pop(camera_id, None)
        self._view_at.pop(camera_id, None)
        self._handles.pop(camera_id, None)
