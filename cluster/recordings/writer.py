"""One segment file: the stream's packets muxed as they are (stream copy) into Matroska.

Matroska because it takes every codec a camera sends (H.264, H.265, MJPEG) and
the packets RTSP depacketizers emit as they come (two packets of one picture
share a timestamp, which MP4 and MPEG-TS muxers refuse), and because a file cut
short by a power loss still plays up to where it ends.

A segment is written as `<name>.mkv.part`, then closed, fsynced and renamed to
`<name>.mkv`; only then is it hashed and put on the chain. Its timestamps start
at 0 (the first packet's), so its own duration is its wall-clock length.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from cluster.support.private import make_private_dirs, open_private
from cluster.video.packet_tap import StreamTemplate

from .chain import PART_SUFFIX, SEGMENT_SUFFIX, SEGMENTS_DIR, file_sha256

SEGMENT_FORMAT = "matroska"
WRITE_ERRORS = (av.error.FFmpegError, OSError, ValueError)


@dataclass(frozen=True, slots=True)
class FinishedSegment:
    file: str  # relative to the camera directory
    start: float
    end: float
    bytes: int
    sha256: str
    packets: int


def segment_name(camera_id: str, start: float) -> str:
    moment = dt.datetime.fromtimestamp(start, dt.UTC)
    return f"{SEGMENTS_DIR}/{moment:%Y-%m-%d}/{camera_id}-{moment:%Y%m%dT%H%M%S}.{moment.microsecond // 1000:03d}Z"


class SegmentWriter:
    """Writes one segment. Not thread-safe: the recorder's thread drives it. Every
    method may raise one of `WRITE_ERRORS` (disk full, read-only, gone)."""

    def __init__(self, camera_dir: Path, camera_id: str, template: StreamTemplate, start: float) -> None:
        self.camera_dir = camera_dir
        self.start = start
        self.name = segment_name(camera_id, start) + SEGMENT_SUFFIX
        self.part = camera_dir / (self.name + PART_SUFFIX)
        make_private_dirs(self.part.parent)
        # Created 0600 first: FFmpeg then opens the file as it is, keeping the mode (footage is private).
        os.close(open_private(self.part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC))
        self._container = av.open(str(self.part), "w", format=SEGMENT_FORMAT)
        try:
            self._stream = self._container.add_stream_from_template(template.stream)
        except WRITE_ERRORS:
            self._container.close()
            raise
        self._offset: int | None = None  # first packet's dts, in its time base
        self._time_base: Fraction | None = None
        self.packets = 0
        self.bytes_in = 0  # packet payload written
        self.last_end = start

    def write(self, packet: Any, end: float) -> None:
        """Mux `packet` (an `av.Packet` of the template's stream); `end` is the wall
        time its picture ends (the segment's end if it is the last)."""
        dts = packet.dts if packet.dts is not None else packet.pts
        pts = packet.pts if packet.pts is not None else dts
        if self._offset is None:
            self._offset = dts
            self._time_base = packet.time_base
        packet.dts = dts - self._offset
        packet.pts = pts - self._offset
        packet.stream = self._stream
        self._container.mux(packet)
        self.packets += 1
        self.bytes_in += packet.size
        self.last_end = end

    def finish(self, end: float, *, start: float | None = None) -> FinishedSegment:
        """Close, fsync and rename the file, and hash it. `start` (default: the one it was
        opened with) is the exact wall time of its first picture, known by now."""
        start = self.start if start is None else start
        self._container.close()
        with open(self.part, "rb") as fh:
            os.fsync(fh.fileno())
        final = self.camera_dir / self.name
        os.replace(self.part, final)
        _fsync_dir(final.parent)
        return FinishedSegment(
            file=self.name,
            start=start,
            end=max(end, start),
            bytes=final.stat().st_size,
            sha256=file_sha256(final),
            packets=self.packets,
        )

    def abandon(self) -> None:
        """Give up on the segment after a write error: close what can be closed and
        leave the partial `.part` file (footage up to the error) out of the chain."""
        with contextlib.suppress(*WRITE_ERRORS):
            self._container.close()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
