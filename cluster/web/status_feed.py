"""Camera states for every open page from one listing per `interval_s`.

While at least one listener is joined, a single loop reads the directory (which
asks the control plane at most once however many pages are open) and hands the
listing, or the error that prevented it, to every listener. Listeners filter it by
their principal and queue it newest-wins, so a slow page never holds the loop up.
The loop never ends on an error: a control plane that does not answer is reported
to the listeners and asked again on the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ..control import CameraView
from .directory import CameraDirectory

log = logging.getLogger("matthan.web")

Listing = dict[str, CameraView] | Exception
Listener = Callable[[Listing], None]


class StatusFeed:
    def __init__(self, directory: CameraDirectory, interval_s: float):
        self._directory = directory
        self.interval_s = interval_s
        self._listeners: list[Listener] = []
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._closed = False

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def join(self, listener: Listener) -> None:
        self._listeners.append(listener)
        self._wake.set()  # the newcomer gets a listing now, not after a full interval
        if not self._closed and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run(), name="web-status-feed")

    def leave(self, listener: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    async def close(self) -> None:
        self._closed = True
        self._listeners.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5.0)

    async def _run(self) -> None:
        while self._listeners and not self._closed:
            self._wake.clear()
            listing: Listing
            try:
                listing = await self._directory.views()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the control plane may be unavailable: tell the pages, go on
                log.warning("camera listing for the web console failed: %s", exc)
                listing = exc
            for listener in list(self._listeners):
                try:
                    listener(listing)
                except Exception:  # a bug in one page's filter must not starve the others
                    log.exception("a web status listener failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
