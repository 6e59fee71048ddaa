"""Keeps running streams in line with camera changes, with one listing for all of them.

Every `interval_s` (and right after an admin change made through this gateway)
the camera list is read once, and for each open stream:
- a camera whose groups changed away from a viewer is revoked (named stream:
  ends with PERMISSION_DENIED; all-camera detection stream: the camera drops out);
- all-camera detection streams pick up cameras added since;
- event streams filter by the cameras the caller may see now (`EventScope`): a
  viewer's stream gains and loses cameras with their groups, and one that named a
  camera the viewer may no longer see ends with PERMISSION_DENIED.
Removed cameras need nothing here: the hubs see CameraNotFound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ..control import CameraControl, CameraView
from .auth import AuthError, Principal
from .event_feed import EventSubscription
from .fanout import CloseKind, DetectionSubscription, FrameSubscription

Watched = FrameSubscription | DetectionSubscription | EventSubscription

log = logging.getLogger("matthan.gateway")


class AccessWatch:
    def __init__(self, control: CameraControl, interval_s: float):
        self._control = control
        self._interval = interval_s
        self._streams: dict[Watched, Principal] = {}
        self._poke = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closed = False  # checked by the loop too: Python 3.11's wait_for can swallow a cancel

    def watch(self, principal: Principal, sub: Watched) -> None:
        self._streams[sub] = principal
        if not self._closed and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run(), name="gateway-access-watch")

    def forget(self, sub: Watched) -> None:
        self._streams.pop(sub, None)

    def poke(self) -> None:
        """Re-check now (after AddCamera/UpdateCamera through this gateway)."""
        self._poke.set()

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            self._poke.set()
            await asyncio.wait({self._task}, timeout=10.0)

    async def _run(self) -> None:
        while self._streams and not self._closed:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self._interval)
            self._poke.clear()
            if not self._streams or self._closed:
                break
            try:
                views = {v.config.id: v for v in await self._control.list_cameras()}
            except Exception as exc:  # noqa: BLE001 - the control plane may be briefly unavailable; the loop goes on
                log.warning("camera list for access checks failed: %s", exc)
                continue
            for sub, principal in list(self._streams.items()):
                if sub.closed is not None:
                    self._streams.pop(sub, None)
                else:
                    self.check(principal, sub, views)

    @staticmethod
    def check(principal: Principal, sub: Watched, views: dict[str, CameraView]) -> None:
        if isinstance(sub, EventSubscription):
            try:
                sub.set_cameras(sub.scope.cameras_for(principal, views))
            except AuthError as denied:
                sub.close(CloseKind.ACCESS_REVOKED, f"access revoked: {denied.message}")
            return
        all_cameras = sub if isinstance(sub, DetectionSubscription) and sub.follow_all else None
        current = sub.cameras if isinstance(sub, DetectionSubscription) else (sub.key.camera_id,)
        for camera_id in current:
            view = views.get(camera_id)
            if view is not None and not principal.sees(view.config):
                if all_cameras is not None:
                    all_cameras.remove_camera(camera_id, CloseKind.ACCESS_REVOKED)
                else:
                    sub.close(CloseKind.ACCESS_REVOKED, f"access to camera {camera_id!r} was revoked")
                    return
        if all_cameras is not None:
            for camera_id, view in sorted(views.items()):
                if camera_id not in all_cameras.cameras and principal.sees(view.config):
                    all_cameras.add_camera(camera_id)
