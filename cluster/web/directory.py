"""One camera listing for every page and socket of the console.

`CameraDirectory.views()` answers from a listing at most `max_age_s` old, and
however many browsers ask at once the control plane is asked once (single
flight). Visibility is the gateway's: `Principal.sees`, and a scoped viewer gets
the same 403 for a camera outside its scope and for an unknown id, so it cannot
probe which cameras exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..control import CameraControl, CameraNotFound, CameraView
from ..gateway.auth import Principal

# An id missing from the cached listing is looked up in one at most this old: a camera
# added a moment ago is found, and a stream of unknown ids costs at most this many listings.
FRESH_LOOKUP_S = 0.5


class CameraDirectory:
    def __init__(self, control: CameraControl, max_age_s: float, monotonic: Callable[[], float]):
        self._control = control
        self.max_age_s = max_age_s
        self._monotonic = monotonic
        self._views: dict[str, CameraView] | None = None
        self._listed_at = -float("inf")
        self._listing: asyncio.Future[dict[str, CameraView]] | None = None

    async def views(self, max_age_s: float | None = None) -> dict[str, CameraView]:
        """Every camera by id, from a listing at most `max_age_s` (default: the directory's) old.
        Raises what `list_cameras` raises (SchedulerUnavailable) when no fresh listing can be had."""
        max_age = self.max_age_s if max_age_s is None else max_age_s
        if self._views is not None and self._monotonic() - self._listed_at <= max_age:
            return self._views
        if self._listing is None or self._listing.done():
            self._listing = asyncio.ensure_future(self._list())
        listing = self._listing
        try:
            return await asyncio.shield(listing)
        finally:
            if listing.done() and self._listing is listing:
                self._listing = None

    async def _list(self) -> dict[str, CameraView]:
        views = {v.config.id: v for v in await self._control.list_cameras()}
        self._views, self._listed_at = views, self._monotonic()
        return views

    async def visible(self, principal: Principal, groups: frozenset[str] = frozenset()) -> list[CameraView]:
        """The cameras `principal` may see (in `groups`, when given), by id."""
        views = await self.views()
        return [
            v
            for _, v in sorted(views.items())
            if principal.sees(v.config) and (not groups or not groups.isdisjoint(v.config.groups))
        ]

    async def camera(self, principal: Principal, camera_id: str) -> CameraView:
        """The camera if `principal` may see it. Raises AuthError (PERMISSION_DENIED) or CameraNotFound.
        A camera missing from the cached listing is looked up once more in a
        fresher one (just added)."""
        views = await self.views()
        view = views.get(camera_id)
        if view is None:
            view = (await self.views(max_age_s=FRESH_LOOKUP_S)).get(camera_id)
        if view is None:
            if principal.sees_by_id(camera_id):
                raise CameraNotFound(camera_id)
            raise principal.camera_denied(camera_id)
        if not principal.sees(view.config):
            raise principal.camera_denied(camera_id)
        return view
