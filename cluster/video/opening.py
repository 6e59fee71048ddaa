"""`open_source`: a camera's source opened with PyAV (FFmpeg), bounded in time, or a
`SourceError` that says whether retrying can help.

URLs are checked again before anything is opened (`SourceConfig` validates them, but a
config may be built without validation): scheme, control characters, whitespace, host.

Network sources are opened with FFmpeg's interrupt callback bounding the open and
every read (PyAV's `timeout=(open, read)`), and FFmpeg's socket timeout as a second
guard (`ffmpeg_options`). A failed open says whether the host was silent or refused;
either may heal, so it is not permanent.

Files: existence is checked first (a missing file is a permanent error naming the
path), then the first frame is decoded during the open, so a file that is not a video
or is corrupt fails at once, permanently. `start_pts` opens a file part-way (a batch
segment).
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import av
import av.error

from cluster.config.source import NETWORK_SCHEMES, SourceConfig, host_name_problem, redact_url
from cluster.support.text import control_characters

from .media_time import MediaTimeline
from .sources import Clock, Sleep, SourceError, VideoSource, ffmpeg_options, open_file_container


def open_source(
    config: SourceConfig,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    timeline: MediaTimeline | None = None,
    start_pts: float = 0.0,
) -> VideoSource:
    """Open `config`'s source, bounded by its open timeout. Raises SourceError.

    `clock` and `sleep` drive the realtime pacing of files (the capture loop
    passes a sleep that a stop request interrupts) and the media time of
    network sources. `timeline` continues the media time of an earlier open of
    the same camera (a reconnect); without it the first frame is at pts 0.
    `start_pts` (files only) starts at the frame at that time of the file.
    """
    _check_url(config.url)
    if config.is_file:
        return _open_file(config, clock=clock, sleep=sleep, timeline=timeline, start_pts=start_pts)
    if start_pts:
        raise ValueError(f"only files can be opened part-way, not {_safe_url(config.url)}")
    return _open_network(config, clock=clock, sleep=sleep, timeline=timeline)


def _safe_url(url: str) -> str:
    try:
        return redact_url(url)
    except ValueError:  # too broken to find the password in: show none of it
        return "<unparseable URL>"


def _check_url(url: str) -> None:
    """Re-check what SourceConfig validates, for configs built without validation."""
    safe = _safe_url(url)
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in ("", "file") or (len(scheme) == 1 and url[1:3] in (":\\", ":/")):
            return  # a file path (which may well contain spaces)
        if scheme not in NETWORK_SCHEMES:
            raise SourceError(
                f"unsupported URL scheme {scheme!r} in {safe!r}; expected one of "
                f"{', '.join((*NETWORK_SCHEMES, 'file'))} or a file path",
                permanent=True,
            )
        controls = control_characters(url)
        if controls:
            raise SourceError(
                f"malformed source URL {safe!r}: it contains control characters ({', '.join(controls)})", permanent=True
            )
        if any(ch.isspace() for ch in url):
            raise SourceError(f"malformed source URL {safe!r}: it contains whitespace", permanent=True)
        if not parts.hostname:
            raise SourceError(f"malformed source URL {safe!r}: no host", permanent=True)
        problem = host_name_problem(parts.hostname)
        if problem:
            raise SourceError(f"malformed source URL {safe!r}: {problem}", permanent=True)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise SourceError(f"malformed source URL {safe!r}: {exc}", permanent=True) from None


def _open_file(
    config: SourceConfig, *, clock: Clock, sleep: Sleep, timeline: MediaTimeline | None, start_pts: float = 0.0
) -> VideoSource:
    path: Path = config.file_path
    if not path.exists():
        raise SourceError(f"video file {path} does not exist", permanent=True)
    if not path.is_file():
        raise SourceError(f"{path} is not a regular file", permanent=True)
    source = VideoSource(
        open_file_container(path), config, description=str(path), clock=clock, sleep=sleep, timeline=timeline
    )
    if start_pts > 0.0:
        if not source.seek_first_frame(start_pts, keep_timeline=timeline is not None):
            source.release()
            raise SourceError(f"video file {path} has no decodable frame at {start_pts:.3f} s", permanent=True)
    elif not source.decode_first_frame():
        source.release()
        raise SourceError(f"video file {path} has no decodable frame: corrupt or empty", permanent=True)
    return source


def _open_network(config: SourceConfig, *, clock: Clock, sleep: Sleep, timeline: MediaTimeline | None) -> VideoSource:
    description = _safe_url(config.url)
    started = time.monotonic()
    try:
        container = av.open(
            config.url, options=ffmpeg_options(config), timeout=(config.open_timeout_s, config.read_timeout_s)
        )
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        elapsed = time.monotonic() - started
        if elapsed >= config.open_timeout_s * 0.9:
            # FFmpeg waits out the timeout both for a silent host and for one that answers
            # bytes it cannot parse (garbage): say both, a reason must not mislead.
            why = (
                f"no answer within {config.open_timeout_s:g} s that FFmpeg could read as {config.scheme} "
                "(the host is silent, or does not speak it)"
            )
        else:
            detail = str(exc).replace(config.url, description).strip()[:200]
            why = f"refused, or not a video stream (failed after {elapsed:.1f} s: {detail})"
        raise SourceError(f"could not open {description}: {why}", permanent=False) from None
    if not container.streams.video:
        container.close()
        raise SourceError(f"could not open {description}: the stream has no video", permanent=False)
    return VideoSource(container, config, description=description, clock=clock, sleep=sleep, timeline=timeline)
