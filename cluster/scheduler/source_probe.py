"""What a file source is, read from its header before its camera ever runs.

The scheduler costs a camera by its source's resolution and frame rate (`cost.py`).
A file is probed once (per path, size and modification time): opening its container
reads those from the header in milliseconds, so 64 cameras of one clip are placed by
their real cost in the first planning step.

Network sources are not probed: a second session to a camera that allows one or
two (many cheap ones do) would compete with its actor, and the scheduler's node may
not even reach it. Their size is learnt from their actor's first status; until then
they are costed like the measured cameras with the same settings, or by the prior.
"""

from __future__ import annotations

import logging
import math
import os
import threading

import cv2

from ..config import SourceConfig
from .prior import SourceInfo

logger = logging.getLogger(__name__)

_Key = tuple[str, int, int]  # path, size, mtime_ns


class FileProbe:
    """Probes file sources, remembering each answer until the file changes. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[_Key, SourceInfo | None] = {}

    def probe(self, source: SourceConfig) -> SourceInfo | None:
        """Width, height and fps of a file source; None for network sources, and for
        files that are missing or unreadable (their camera reports why when it starts)."""
        if not source.is_file:
            return None
        path = source.file_path
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key in self._known:
                return self._known[key]
        info = _read_header(str(path))
        with self._lock:
            self._known[key] = info
        return info


def _read_header(path: str) -> SourceInfo | None:
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            logger.info("probe: %s could not be opened; its camera will say why", path)
            return None
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        capture.release()
    info = SourceInfo(width, height, fps if math.isfinite(fps) and 0 < fps < 1000 else None)
    return info if info.complete else None
