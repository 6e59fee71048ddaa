"""Which cameras' events a caller may see, and which a request asks for.

Events outlive their cameras: an event of a camera removed since is still in the
store. A caller sees the events of a camera if it could see the camera:

- operators and admins: every camera, removed ones too;
- a viewer: the camera ids its token names (removed or not), and the cameras that
  are now configured in one of its token's groups (a removed camera has no groups
  any more, so its events stay hidden from group-scoped viewers).

A request narrows that: `camera_ids` (each must be visible, else PERMISSION_DENIED,
the same answer for unknown ids, as in the Cameras service) and `groups` (cameras
now configured in one of them). The result is the set of camera ids to filter by,
or None for "every camera" (no filter at all).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ..control import CameraView
from .auth import Principal


@dataclass(frozen=True, slots=True)
class EventScope:
    """What a request asked for (checked names); `cameras_for` resolves it against the
    cameras configured now, so a stream can re-resolve it when groups change."""

    named: tuple[str, ...] = ()
    groups: frozenset[str] = frozenset()

    @property
    def needs_cameras(self) -> bool:
        return bool(self.groups)

    def cameras_for(self, principal: Principal, views: Mapping[str, CameraView] | None) -> frozenset[str] | None:
        """Camera ids to filter by (None: all). Raises the principal's PERMISSION_DENIED
        for a named camera it may not see. `views` is needed for viewers and groups."""
        views = views or {}
        for camera_id in self.named:
            if not may_see(principal, camera_id, views):
                raise principal.camera_denied(camera_id)
        cameras: frozenset[str] | None
        if self.named:
            cameras = frozenset(self.named)
        elif principal.scoped:
            cameras = principal.cameras | {cid for cid, view in views.items() if principal.sees(view.config)}
        else:
            cameras = None
        if self.groups:
            in_groups = {cid for cid, view in views.items() if not self.groups.isdisjoint(view.config.groups)}
            cameras = frozenset(in_groups) if cameras is None else cameras & in_groups
        return cameras


def needs_views(principal: Principal, scope: EventScope) -> bool:
    """Whether resolving `scope` for `principal` needs the camera list."""
    return principal.scoped or scope.needs_cameras


def may_see(principal: Principal, camera_id: str, views: Mapping[str, CameraView]) -> bool:
    """Whether the caller may see events of `camera_id` (configured now or not)."""
    if principal.sees_by_id(camera_id):
        return True
    view = views.get(camera_id)
    return view is not None and principal.sees(view.config)


def by_id(views: Collection[CameraView]) -> dict[str, CameraView]:
    return {view.config.id: view for view in views}
