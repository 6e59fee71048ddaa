"""The console's routes for recorded footage (the player and the timeline):

    GET /api/cameras/{id}/recordings?from=&to=   recorded ranges and gaps (ListRecordings' answer;
                                                 default: the last `playback.timeline_s`)
    GET /api/cameras/{id}/playback?at=T          the masked window holding wall time T, rendered
                                                 (or from the cache): its clip URL, bounds, ranges, gaps
    GET /api/playback/{clip_id}                  the window's MP4, with HTTP Range (the <video> seeks)

Scope and roles are the other camera routes' (a viewer of the camera; 403 for a camera out
of a viewer's scope, as for an unknown id). Every window handed out is one access-log call
`WebPlayback`: who watched which camera's footage from when to when. The clip itself goes
only to sessions it was handed to (playback.py), after the camera's scope is checked again.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from aiohttp import web

from ..config.recording import RecordingStorageConfig
from ..gateway.rpc import check_camera_id
from ..recordings import RecordingCatalog, timeline
from ..recordings.holds import read_holds
from .api import ACCESS_EXTRA, SERVICES, json_response, logged, query, require_session
from .errors import ErrorCode, WebError, bad_request
from .playback import Clip, PlaybackWindows
from .search import parse_time
from .services import ConsoleServices
from .sessions import Session

MAX_TIMELINE_S = 7 * 86400.0
CLIP_ID_LENGTH = 24


def catalog_of(services: ConsoleServices) -> RecordingCatalog:
    # The gateway's catalog (matthan serve); without one, the default the Recordings service uses.
    return services.recordings or RecordingCatalog(RecordingStorageConfig(), Path("var"))


def windows_of(services: ConsoleServices) -> PlaybackWindows:
    if services.playback is None:
        raise WebError(503, ErrorCode.UNAVAILABLE, "this console has no player")
    return services.playback


def _span(request: web.Request, default_s: float, now: float) -> tuple[float, float]:
    start = parse_time("from", request.query.get("from"))
    end = parse_time("to", request.query.get("to"))
    end = now if end is None else end
    start = end - default_s if start is None else start
    if not end > start:
        raise bad_request("to: the range is empty or backwards (to must be after from)")
    if end - start > MAX_TIMELINE_S:
        raise bad_request(f"to: at most {MAX_TIMELINE_S / 86400:g} days in one timeline")
    return start, end


def _gap(gap) -> dict:
    return {"start": gap.start, "end": gap.end, "reason": gap.reason}


@logged("WebListRecordings")
async def list_recordings(request: web.Request, session: Session) -> web.Response:
    """The camera's recorded ranges and gaps (with their reasons) over [from, to)."""
    services = request.app[SERVICES]
    query(request, {"from", "to"})
    camera_id = check_camera_id("camera", request.match_info["camera_id"])
    start, end = _span(request, services.config.playback.timeline_s, services.clock())
    await services.directory.camera(session.principal, camera_id)  # 403 out of a viewer's scope
    view = await services.control.get_camera(camera_id)
    camera_dir = catalog_of(services).camera_dir(view.config)

    def read():
        held = [(h.start, h.end) for h in read_holds(camera_dir)]
        return timeline(camera_dir, camera_id, start, end, held=held)

    info = await asyncio.to_thread(read)
    return json_response(
        {
            "camera": camera_id,
            "from": start,
            "to": end,
            "ranges": [{"start": r.start, "end": r.end} for r in info.ranges],
            "gaps": [_gap(g) for g in info.gaps],
            "window_s": services.config.playback.window_s,
        }
    )


@logged("WebPlayback")
async def playback(request: web.Request, session: Session) -> web.Response:
    """The masked window of footage holding `at`: rendered once, shared, bounded."""
    services = request.app[SERVICES]
    query(request, {"at"})
    camera_id = check_camera_id("camera", request.match_info["camera_id"])
    at = parse_time("at", request.query.get("at"))
    if at is None:
        raise bad_request("at: required (the wall-clock time to play, epoch seconds or ISO 8601 with an offset)")
    if not math.isfinite(at):
        raise bad_request("at: not a time")
    await services.directory.camera(session.principal, camera_id)
    view = await services.control.get_camera(camera_id)  # fresh: the masks as they are now
    camera_dir = catalog_of(services).camera_dir(view.config)
    clip = await windows_of(services).window(view.config, camera_dir, at=at, viewer=session.digest)
    request[ACCESS_EXTRA] = {"start_s": clip.start, "end_s": clip.end, "detail": f"window of {clip.frames} frames"}
    return json_response(_clip_json(clip, at))


def _clip_json(clip: Clip, at: float) -> dict:
    return {
        "camera": clip.camera_id,
        "url": f"/api/playback/{clip.clip_id}",
        "from": clip.start,
        "to": clip.end,
        "at": at,
        "frames": clip.frames,
        "bytes": clip.bytes,
        "recorded": [{"start": s, "end": e} for s, e in clip.recorded],
        "gaps": [_gap(g) for g in clip.gaps],
    }


async def playback_clip(request: web.Request) -> web.StreamResponse:
    """A window's MP4 for the <video> element: Range requests answered by aiohttp's
    FileResponse (206 with Content-Range, 416 beyond the end)."""
    services = request.app[SERVICES]
    query(request, set())
    session = require_session(request)
    clip_id = request.match_info["clip_id"]
    clip = None
    if len(clip_id) == CLIP_ID_LENGTH and clip_id.replace("-", "").replace("_", "").isalnum():
        clip = windows_of(services).clip(clip_id, viewer=session.digest)
    if clip is None:
        raise WebError(404, ErrorCode.NOT_FOUND, "no such playback clip for this session (ask /playback again)")
    await services.directory.camera(session.principal, clip.camera_id)  # the scope may have changed since
    if not clip.path.is_file():
        raise WebError(404, ErrorCode.NOT_FOUND, "the clip left the cache: ask /playback again")
    return web.FileResponse(clip.path, headers={"Content-Type": "video/mp4"})


def add_playback_routes(app: web.Application) -> None:
    app.router.add_get("/api/cameras/{camera_id}/recordings", list_recordings)
    app.router.add_get("/api/cameras/{camera_id}/playback", playback)
    app.router.add_get("/api/playback/{clip_id}", playback_clip)


__all__ = ["add_playback_routes"]
