"""Recorded footage for the console's player: masked windows, rendered once, cached.

A browser never gets a segment file: it gets the masked re-encode that `ExportClip`
makes (`cluster.recordings.export.export_clip` with the camera's frame hook, H.264
MP4 with `+faststart`), of one *window*: `[k * window_s, (k + 1) * window_s)` of
wall-clock time. Windows on a fixed grid are what makes sharing work: everybody
playing 21:40:10 of a camera plays the same window, whichever event they came from.

    windows = PlaybackWindows(config.playback, scratch_dir)
    clip = await windows.window(camera_config, camera_dir, at=t, viewer=session.digest)
    windows.clip(clip.clip_id, viewer=session.digest)   # -> the Clip to serve, or None
    await windows.close()

Guarantees:
- a window is re-encoded at most once at a time: a second request for a window being
  rendered waits for the same render (single flight, keyed by camera, window, privacy
  masks and the segments in it: a changed mask or a newly finished segment is a new
  window, never an old render shown);
- at most `max_concurrent_renders` renders run, `max_waiting_renders` wait; beyond,
  `PlaybackBusy`;
- at most `cache_windows` rendered windows are kept (least recently used out; the file
  goes with it);
- a clip is served only to the sessions it was handed to (`viewer`), each of which
  asked for it through the logged playback call; ids are random (unguessable);
- a request that goes away does not cancel a render others wait for (or the cache
  keeps); `close()` cancels every render.

Wall time `window.start + t` is media time `t` of the clip (a window starting in a gap
has its first frame at a positive time; a gap inside shows as the last frame held).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from ..config import CameraConfig
from ..config.playback import PlaybackConfig
from ..domain import RecordingGap
from ..recordings import segments_for_range, timeline
from ..recordings.export import ExportCancelled, ExportError, export_clip
from ..video.frame_hook import frame_hook_for

log = logging.getLogger("matthan.web")

RENDERED_BY = "web console playback"


class NoRecording(Exception):
    """Nothing recorded in the window asked for."""


class FootageDamaged(Exception):
    """A segment of the window does not match its chain entry (or is gone)."""


class PlaybackBusy(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"every playback renderer is busy: try again in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class WindowKey:
    camera_id: str
    start: float
    masks: str  # the privacy config, as JSON: a changed mask is another window
    segments: tuple[tuple[int, str], ...]  # chain index and sha256 of each segment in it


@dataclass
class Clip:
    clip_id: str
    camera_id: str
    start: float
    end: float
    path: Path
    frames: int
    bytes: int
    recorded: tuple[tuple[float, float], ...]  # the segments' ranges within the window
    gaps: tuple[RecordingGap, ...]
    viewers: set[str] = field(default_factory=set)  # session digests it was handed to


def _retrieved(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()


def playback_scratch() -> Path:
    """A directory of this process for rendered windows (created on the first render)."""
    return Path(tempfile.gettempdir()) / f"matthan-playback-{os.getpid()}-{secrets.token_hex(4)}"


def window_start(at: float, window_s: float) -> float:
    return math.floor(at / window_s) * window_s


class PlaybackWindows:
    def __init__(self, config: PlaybackConfig, scratch: Path) -> None:
        self.config = config
        self.scratch = Path(scratch)
        self._cache: OrderedDict[WindowKey, Clip] = OrderedDict()
        self._by_id: dict[str, Clip] = {}
        self._rendering: dict[WindowKey, asyncio.Task[Clip]] = {}
        self._cancels: dict[WindowKey, threading.Event] = {}
        self._slots = asyncio.Semaphore(config.max_concurrent_renders)
        self.renders = 0  # windows encoded since start (tests read it)

    # ------------------------------------------------------------------ asks

    async def window(self, camera: CameraConfig, camera_dir: Path, *, at: float, viewer: str) -> Clip:
        """The rendered window of `camera` that holds wall time `at`, handed to `viewer`.
        Raises NoRecording, FootageDamaged or PlaybackBusy."""
        start = window_start(at, self.config.window_s)
        end = start + self.config.window_s
        segments = await asyncio.to_thread(segments_for_range, camera_dir, start, end)
        if not segments:
            raise NoRecording(f"camera {camera.id!r} has no recording between {start:.0f} and {end:.0f}")
        key = WindowKey(
            camera.id, start, camera.privacy.model_dump_json(), tuple((s.index, s.sha256) for s in segments)
        )
        clip = self._cache.get(key)
        if clip is None:
            task = self._rendering.get(key)
            if task is None:
                waiting = len(self._rendering) - self.config.max_concurrent_renders
                if waiting >= self.config.max_waiting_renders:
                    raise PlaybackBusy(self.config.window_s / 2)
                task = asyncio.ensure_future(self._render(key, camera, camera_dir, end))
                task.add_done_callback(_retrieved)  # every asker may have gone: the failure is still read
                self._rendering[key] = task
            clip = await asyncio.shield(task)  # a browser going away leaves the render to the others
        else:
            self._cache.move_to_end(key)
        clip.viewers.add(viewer)
        return clip

    def clip(self, clip_id: str, *, viewer: str) -> Clip | None:
        """A cached clip handed to `viewer`; None for an unknown, evicted or foreign one."""
        clip = self._by_id.get(clip_id)
        if clip is None or viewer not in clip.viewers:
            return None
        return clip

    @property
    def cached(self) -> int:
        return len(self._cache)

    async def close(self) -> None:
        for cancel in self._cancels.values():
            cancel.set()
        tasks = list(self._rendering.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        self._cache.clear()
        self._by_id.clear()
        await asyncio.to_thread(shutil.rmtree, self.scratch, True)

    # ------------------------------------------------------------------ work

    async def _render(self, key: WindowKey, camera: CameraConfig, camera_dir: Path, end: float) -> Clip:
        cancel = threading.Event()
        self._cancels[key] = cancel
        try:
            async with self._slots:
                clip_id = secrets.token_urlsafe(18)
                self.scratch.mkdir(parents=True, exist_ok=True)
                destination = self.scratch / f"{clip_id}.mp4"
                try:
                    result = await asyncio.to_thread(
                        export_clip,
                        camera_dir,
                        camera.id,
                        key.start,
                        end,
                        destination,
                        hook=frame_hook_for(camera),  # always masked: viewers never see unmasked pixels
                        masked=True,
                        exported_by=RENDERED_BY,
                        reason="",
                        now=0.0,
                        cancel=cancel,
                    )
                except ExportError as exc:
                    destination.unlink(missing_ok=True)
                    if exc.data_loss:
                        raise FootageDamaged(exc.message) from None
                    raise NoRecording(exc.message) from None
                except (ExportCancelled, asyncio.CancelledError):
                    cancel.set()
                    destination.unlink(missing_ok=True)
                    raise
                self.renders += 1
                info = await asyncio.to_thread(timeline, camera_dir, camera.id, key.start, end)
                manifest = result.manifest
                clip = Clip(
                    clip_id=clip_id,
                    camera_id=camera.id,
                    start=key.start,
                    end=end,
                    path=destination,
                    frames=int(manifest["clip"]["frames"]),
                    bytes=int(manifest["clip"]["bytes"]),
                    recorded=tuple((max(s.start, key.start), min(s.end, end)) for s in info.segments),
                    gaps=info.gaps,
                )
                self._keep(key, clip)
                return clip
        finally:
            self._rendering.pop(key, None)
            self._cancels.pop(key, None)

    def _keep(self, key: WindowKey, clip: Clip) -> None:
        self._cache[key] = clip
        self._by_id[clip.clip_id] = clip
        while len(self._cache) > self.config.cache_windows:
            _, old = self._cache.popitem(last=False)
            self._by_id.pop(old.clip_id, None)
            old.path.unlink(missing_ok=True)  # a response still sending it keeps its open file
