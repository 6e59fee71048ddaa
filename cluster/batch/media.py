"""A cheap index of a video file: duration, frame rate, keyframe times, creation time.

PyAV demuxes the file's packets without decoding them (an hour of H.264 in well
under a second), so segments can be cut at keyframes and progress measured in
frames before any analysis runs. The index is the container's account of the
file; what is really decodable is found by the analysis itself (damaged ranges).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from pathlib import Path

import av

# A file whose container announces no frame rate is counted at this rate.
FALLBACK_FPS = 25.0


class MediaError(ValueError):
    """A file that cannot be indexed: not a video, unreadable, empty. Names the file."""


@dataclass(frozen=True, slots=True)
class MediaIndex:
    """What the container says about one file's first video stream.

    `keyframes` are the media times (seconds since the first frame) of the packets
    a decoder can start at, ascending, starting with 0.0. `duration_s` is the time
    from the first frame to the end of the last one. `frame_count` is announced or
    counted from the packets. `creation_time` is the container's `creation_time`
    tag as epoch seconds, or None.
    """

    path: Path
    duration_s: float
    fps: float
    frame_count: int
    keyframes: tuple[float, ...]
    width: int
    height: int
    codec: str
    creation_time: float | None = None


def index_media(path: Path) -> MediaIndex:
    """Index `path` (its packets, not its pictures). Raises MediaError naming the file."""
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise MediaError(f"{path}: not a readable video file ({_reason(exc)})") from None
    try:
        if not container.streams.video:
            raise MediaError(f"{path}: no video stream")
        stream = container.streams.video[0]
        time_base = float(stream.time_base) if stream.time_base else 0.0
        rate = float(stream.average_rate or stream.guessed_rate or 0.0)
        fps = rate if 0.0 < rate < 1000.0 else FALLBACK_FPS
        first: float | None = None
        last = 0.0
        packets = 0
        keyframes: list[float] = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None:
                    continue  # the flush packet at the end, or one without time
                pts = packet.pts * time_base if time_base else packets / fps
                packets += 1
                if first is None:
                    first = pts
                last = max(last, pts)
                if packet.is_keyframe:
                    keyframes.append(pts)
        except av.FFmpegError:
            pass  # a damaged tail: the index covers the packets before it
        if first is None or packets == 0:
            raise MediaError(f"{path}: no video frames")
        relative = sorted({round(k - first, 6) for k in keyframes if k >= first})
        if not relative or relative[0] > 0.0:
            relative.insert(0, 0.0)  # decoding always can start at the beginning
        duration = (last - first) + 1.0 / fps
        announced = int(stream.frames or 0)
        return MediaIndex(
            path=path,
            duration_s=duration,
            fps=fps,
            frame_count=max(announced, packets),
            keyframes=tuple(relative),
            width=int(stream.codec_context.width or 0),
            height=int(stream.codec_context.height or 0),
            codec=str(stream.codec_context.name),
            creation_time=_creation_time(
                container.metadata.get("creation_time") or stream.metadata.get("creation_time")
            ),
        )
    finally:
        container.close()


def _creation_time(value: str | None) -> float | None:
    """`2018-04-19T22:46:00.000000Z` (UTC when no offset is given) as epoch seconds."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    stamp = moment.timestamp()
    return stamp if math.isfinite(stamp) and stamp > 0 else None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
