"""Opening a camera's source with OpenCV (FFmpeg backend) without ever hanging.

`open_source(config)` returns a `VideoSource`, a thin wrapper over
`cv2.VideoCapture` that splits reading into `grab()` (demux + decode, cheap to do
for every frame) and `retrieve()` (conversion to a BGR array, done only for the
frames someone needs). Every failure is a `SourceError` that says whether retrying
can help (`permanent=False`) or not (`permanent=True`).

Timeouts. Network sources are opened with OpenCV's own open/read timeouts
(`CAP_PROP_OPEN_TIMEOUT_MSEC`, `CAP_PROP_READ_TIMEOUT_MSEC`, enforced through
FFmpeg's interrupt callback), and FFmpeg's socket timeout as a second guard. The
RTSP transport and the socket timeout can only reach FFmpeg through the
`OPENCV_FFMPEG_CAPTURE_OPTIONS` environment variable, which OpenCV reads inside
each open; `_CaptureOptionsGate` makes sure no open sees another one's options.

Files. Existence is checked first (a missing file is a permanent error naming the
path), then the first frame is decoded during the open, so a file that is not a
video or is corrupt fails at once, permanently. `realtime=True` paces `grab()` at
the file's frame rate like a camera; `loop=True` starts over at the end. Without
`loop`, the end of the file makes `grab()` return False and sets `end_of_file`,
which the capture loop reports as a normal end, not an error. A file that ends
well before the frame count its container announces is reported as truncated.
`start_pts` opens a file part-way (a batch segment): FFmpeg seeks to the keyframe
before it and decodes on to the frame at that time, whose media time is its own
timestamp, as if the file had been read from the beginning.

Media time. After every successful `grab()`, `pts` is the frame's presentation
time in seconds since the camera started, by the rule of `media_time.py`: the
stream's own timestamps (`CAP_PROP_POS_MSEC`, a property read) where they move
forward, a frame period across the loop of a file, the time away across a
reconnect (pass the previous source's `timeline` to `open_source`). HTTP(S)
sources are MJPEG, whose timestamps FFmpeg invents at an assumed 25 fps: their
media time is the monotonic time since they opened.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np

from cluster.config.source import NETWORK_SCHEMES, SourceConfig, redact_url

from .media_time import MediaTimeline

Clock = Callable[[], float]
Sleep = Callable[[float], object]

CAPTURE_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
# How much stream FFmpeg analyses while opening. Its default (5 s) makes every
# (re)connect slow and queues seconds of frames before the first grab; 1 s is
# still enough to learn the codec, size and frame rate of a camera stream.
ANALYZE_DURATION_US = 1_000_000
# A file that ends before this share of the frames its container announces is
# truncated (a recorder died mid-write), not merely estimated a little high.
TRUNCATED_BELOW = 0.9
# When a file carries no usable frame rate, pace it like a common camera.
FALLBACK_FPS = 25.0
# Realtime pacing catches up after a slow frame, but never by bursting more than this.
MAX_PACING_LAG_S = 1.0
# Schemes whose stream timestamps are FFmpeg's invention (MJPEG at an assumed rate),
# not the camera's: media time follows arrival instead.
UNTIMED_SCHEMES = ("http", "https")


class SourceError(Exception):
    """A source could not be opened or read.

    `permanent` is True when retrying cannot help (unknown scheme, malformed URL,
    missing file, not a video, corrupt file); False for network trouble, which
    may clear up (refused, unreachable, timed out).
    """

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent

    def __repr__(self) -> str:
        return f"SourceError({self.message!r}, permanent={self.permanent})"


def _avformat_major() -> int:
    match = re.search(r"avformat:\s+YES \((\d+)\.", cv2.getBuildInformation())
    return int(match.group(1)) if match else 0


# FFmpeg 5 (libavformat 59) renamed the RTSP socket timeout from `stimeout` to
# `timeout`; before that, RTSP's `timeout` meant the listen timeout. HTTP has always
# called its socket timeout `timeout`. Checked against the wheel's FFmpeg 8: RTSP
# `timeout` ends a silent open at the given time, `stimeout` is silently ignored.
_RTSP_SOCKET_TIMEOUT_OPTION = "timeout" if _avformat_major() >= 59 else "stimeout"


def ffmpeg_capture_options(config: SourceConfig) -> str:
    """The OPENCV_FFMPEG_CAPTURE_OPTIONS value ("key;value|key;value") for a network source."""
    # The socket timeout is a second guard behind OpenCV's interrupt callback; it
    # must not cut an open or a read shorter than configured, hence the larger one.
    socket_timeout_us = int(max(config.open_timeout_s, config.read_timeout_s) * 1_000_000)
    options = {"analyzeduration": str(ANALYZE_DURATION_US)}
    if config.scheme in ("rtsp", "rtsps"):
        options["rtsp_transport"] = config.rtsp_transport
        options[_RTSP_SOCKET_TIMEOUT_OPTION] = str(socket_timeout_us)
    else:
        options["timeout"] = str(socket_timeout_us)
    return "|".join(f"{key};{value}" for key, value in options.items())


class _CaptureOptionsGate:
    """Serialises the process-wide OPENCV_FFMPEG_CAPTURE_OPTIONS between opens.

    OpenCV reads the variable somewhere inside `VideoCapture(...)`, so it must hold
    its value for the whole open. Opens that need the same options (the usual case:
    cameras with the same settings) run together; an open that needs different
    options waits until those are done. The previous value is put back afterwards.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._current: str | None = None
        self._users = 0
        self._saved: str | None = None

    def acquire(self, options: str) -> None:
        with self._condition:
            while self._users and self._current != options:
                self._condition.wait()
            if self._users == 0:
                self._saved = os.environ.get(CAPTURE_OPTIONS_ENV)
                os.environ[CAPTURE_OPTIONS_ENV] = options
                self._current = options
            self._users += 1

    def release(self) -> None:
        with self._condition:
            self._users -= 1
            if self._users == 0:
                if self._saved is None:
                    os.environ.pop(CAPTURE_OPTIONS_ENV, None)
                else:
                    os.environ[CAPTURE_OPTIONS_ENV] = self._saved
                self._current = None
                self._condition.notify_all()


_options_gate = _CaptureOptionsGate()


class VideoSource:
    """An open source. Not thread-safe: one thread (the capture loop) drives it."""

    def __init__(
        self,
        capture: cv2.VideoCapture,
        config: SourceConfig,
        *,
        description: str,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        first_frame_grabbed: bool = False,
        timeline: MediaTimeline | None = None,
        frames_before: int = 0,
    ) -> None:
        self._capture = capture
        self._config = config
        self.description = description  # path or redacted URL, safe for messages
        self.is_file = config.is_file
        self._clock = clock
        self._sleep = sleep
        self._pending_first_frame = first_frame_grabbed
        reported_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = reported_fps if 0.0 < reported_fps < 1000.0 else 0.0
        self.size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.expected_frames = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)) if self.is_file else 0
        self.end_of_file = False
        self.loops = 0  # times a looping file started over
        # frames_before: those a part-way open skipped, so truncation is judged on the whole file
        self._frames_this_pass = frames_before + (1 if first_frame_grabbed else 0)
        self._pace_period = 1.0 / (self.fps or FALLBACK_FPS)
        self._next_due: float | None = None
        self._timeline = timeline if timeline is not None else MediaTimeline()
        self._timeline.new_pass()
        self._stream_timestamps = config.scheme not in UNTIMED_SCHEMES
        self._fallback_step = self._pace_period if self.is_file else None
        self.pts = self._timeline.pts  # media time of the last grabbed frame

    @property
    def timeline(self) -> MediaTimeline:
        """This camera's media time; hand it to the next `open_source` after a reconnect."""
        return self._timeline

    def grab(self) -> bool:
        """Take the next frame from the source without converting it; on True, `pts`
        is its media time.

        False means no frame: for a network source a read timeout or a dropped
        connection (the caller decides when that is a stall); for a file the end,
        with `end_of_file` set. Raises SourceError for a truncated file.
        """
        if self.end_of_file:
            return False
        if self.is_file and self._config.realtime:
            self._wait_for_next_frame_time()
        if self._pending_first_frame:  # decoded during the open to prove the file is a video
            self._pending_first_frame = False
        elif self._capture.grab():
            self._frames_this_pass += 1
        elif not self.is_file:
            return False
        else:
            self._check_not_truncated()
            if not self._config.loop:
                self.end_of_file = True
                return False
            self._start_over()
        self._stamp()
        return True

    def retrieve(self) -> np.ndarray | None:
        """The last grabbed frame as a BGR array (a fresh copy), or None."""
        ok, image = self._capture.retrieve()
        return image if ok and image is not None and image.size else None

    def release(self) -> None:
        self._capture.release()

    def _stamp(self) -> None:
        raw = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 if self._stream_timestamps else None
        self.pts = self._timeline.advance(raw, frame_period=self._fallback_step, now=self._clock())

    def _wait_for_next_frame_time(self) -> None:
        now = self._clock()
        if self._next_due is None or now - self._next_due > MAX_PACING_LAG_S:
            self._next_due = now  # first frame, or too far behind to catch up
        elif self._next_due > now:
            # Never more than one frame period, even if the clock stands still.
            self._sleep(min(self._next_due - now, self._pace_period))
        self._next_due += self._pace_period

    def _check_not_truncated(self) -> None:
        expected = self.expected_frames
        if expected and self._frames_this_pass < expected * TRUNCATED_BELOW:
            raise SourceError(
                f"video file {self.description} ended after {self._frames_this_pass} of the "
                f"{expected} frames its header announces: truncated or corrupt",
                permanent=True,
            )

    def _start_over(self) -> None:
        self.loops += 1
        self._timeline.new_pass()
        if not (self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0) and self._capture.grab()):
            # Some containers do not seek back cleanly; opening again always works.
            self._capture.release()
            self._capture = cv2.VideoCapture(str(self._config.file_path), cv2.CAP_FFMPEG, _decode_params(self._config))
            if not (self._capture.isOpened() and self._capture.grab()):
                raise SourceError(
                    f"video file {self.description} could not be read again from the start", permanent=True
                )
        self._frames_this_pass = 1


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
        if any(ch.isspace() or ord(ch) < 32 for ch in url):
            raise SourceError(
                f"malformed source URL {safe!r}: it contains whitespace or control characters", permanent=True
            )
        if not parts.hostname:
            raise SourceError(f"malformed source URL {safe!r}: no host", permanent=True)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise SourceError(f"malformed source URL {safe!r}: {exc}", permanent=True) from None


def _decode_params(config: SourceConfig) -> list[int]:
    """FFmpeg decoder threads. One per camera by default: with many cameras per node the
    parallelism is across cameras, and extra decoder threads only add switching
    (measured: 1,773 vs 1,583 frames per CPU-second on the reference clip)."""
    return [cv2.CAP_PROP_N_THREADS, config.decode_threads] if config.decode_threads else []


def _open_file(
    config: SourceConfig, *, clock: Clock, sleep: Sleep, timeline: MediaTimeline | None, start_pts: float = 0.0
) -> VideoSource:
    path: Path = config.file_path
    if not path.exists():
        raise SourceError(f"video file {path} does not exist", permanent=True)
    if not path.is_file():
        raise SourceError(f"{path} is not a regular file", permanent=True)
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, _decode_params(config))
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"video file {path} could not be opened: not a video, or corrupt", permanent=True)
    frames_before = 0
    if start_pts > 0.0:
        if not capture.set(cv2.CAP_PROP_POS_MSEC, start_pts * 1000.0) or not capture.grab():
            capture.release()
            raise SourceError(f"video file {path} has no decodable frame at {start_pts:.3f} s", permanent=True)
        frames_before = max(0, int(capture.get(cv2.CAP_PROP_POS_FRAMES)) - 1)
        if timeline is None:
            timeline = MediaTimeline(start=max(0.0, capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0))
    elif not capture.grab():
        capture.release()
        raise SourceError(f"video file {path} has no decodable frame: corrupt or empty", permanent=True)
    return VideoSource(
        capture,
        config,
        description=str(path),
        clock=clock,
        sleep=sleep,
        first_frame_grabbed=True,
        timeline=timeline,
        frames_before=frames_before,
    )


def _open_network(config: SourceConfig, *, clock: Clock, sleep: Sleep, timeline: MediaTimeline | None) -> VideoSource:
    description = _safe_url(config.url)
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        int(config.open_timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        int(config.read_timeout_s * 1000),
        *_decode_params(config),
    ]
    _options_gate.acquire(ffmpeg_capture_options(config))
    started = time.monotonic()
    try:
        capture = cv2.VideoCapture(config.url, cv2.CAP_FFMPEG, params)
    except cv2.error as exc:  # rare: OpenCV rejects the arguments outright
        detail = str(exc).replace(config.url, description).strip()[:200]
        raise SourceError(f"could not open {description}: {detail}", permanent=False) from None
    finally:
        _options_gate.release()
    if not capture.isOpened():
        capture.release()
        elapsed = time.monotonic() - started
        if elapsed >= config.open_timeout_s * 0.9:
            why = f"no answer within {config.open_timeout_s:g} s"
        else:
            why = f"refused, or not a video stream (failed after {elapsed:.1f} s)"
        raise SourceError(f"could not open {description}: {why}", permanent=False)
    return VideoSource(capture, config, description=description, clock=clock, sleep=sleep, timeline=timeline)
