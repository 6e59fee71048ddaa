"""Opening a camera's source with PyAV (FFmpeg) without ever hanging, one connection
shared by the analysis and the recorder.

`open_source(config)` (`opening.py`) returns a `VideoSource`, which demuxes the stream itself and
splits reading into `grab()` (read the next packets and decode them into a frame,
cheap to do for every frame) and `retrieve()` (conversion of the grabbed frame to
a BGR array, done only for the frames someone needs). Every failure is a
`SourceError` that says whether retrying can help (`permanent=False`) or not
(`permanent=True`).

One connection, two consumers. Because the source demuxes, every packet it reads
can also be handed, as it is and after it was decoded, to a `PacketTap` (the
camera's recorder, `set_packet_tap`): recording is a stream copy of the very
packets the analysis decodes, with no second session to the camera (community
cameras often allow only one or two). A tap must not block: the recorder queues
packets for its own thread and drops recording, never frames, when it falls behind.

Timeouts. Network sources are opened with FFmpeg's interrupt callback bounding
the open and every read (PyAV's `timeout=(open, read)`), and FFmpeg's socket
timeout as a second guard. The RTSP transport, the socket timeout and a short
`analyzeduration` are options of each open (`ffmpeg_options`): no process-wide
state, so opens of different cameras never see each other's options.

Files. Existence is checked first (a missing file is a permanent error naming the
path), then the first frame is decoded during the open, so a file that is not a
video or is corrupt fails at once, permanently. `realtime=True` paces `grab()` at
the file's frame rate like a camera; `loop=True` starts over at the end. Without
`loop`, the end of the file makes `grab()` return False and sets `end_of_file`,
which the capture loop reports as a normal end, not an error. A file that ends
well before the frame count its container announces is reported as truncated.
`start_pts` opens a file part-way (a batch segment): FFmpeg seeks to the keyframe
before it and decodes on to the first frame at that time or later, whose media time
is its own timestamp, as if the file had been read from the beginning.

Media time. After every successful `grab()`, `pts` is the frame's presentation
time in seconds since the camera started, by the rule of `media_time.py`: the
stream's own timestamps (the decoded frame's pts) where they move forward, a
frame period across the loop of a file, the time away across a reconnect (pass
the previous source's `timeline` to `open_source`). HTTP(S) sources are MJPEG,
whose timestamps FFmpeg invents at an assumed 25 fps: their media time is the
monotonic time since they opened.

Decoding uses one FFmpeg decoder thread per camera by default (`decode_threads`):
with many cameras per node the parallelism is across cameras. Analysis stays
OpenCV's (cv2.dnn, MOG2, resize); `bench/recording.py` measures this source's
decode + BGR conversion against OpenCV's `VideoCapture` on the same clip.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
from av.video.reformatter import VideoReformatter

from cluster.config.source import SourceConfig

from .media_time import MediaTimeline
from .packet_tap import PacketTap, template_of

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], object]

# OpenCV's process-wide way of passing FFmpeg options. This source never reads or
# writes it: its options go to each open (`ffmpeg_options`).
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


# FFmpeg 5 (libavformat 59) renamed the RTSP socket timeout from `stimeout` to
# `timeout`; before that, RTSP's `timeout` meant the listen timeout. HTTP has always
# called its socket timeout `timeout`.
_RTSP_SOCKET_TIMEOUT_OPTION = "timeout" if av.library_versions["libavformat"][0] >= 59 else "stimeout"


def ffmpeg_options(config: SourceConfig) -> dict[str, str]:
    """The FFmpeg options of one open of a network source."""
    # The socket timeout is a second guard behind the interrupt callback; it must
    # not cut an open or a read shorter than configured, hence the larger one.
    socket_timeout_us = int(max(config.open_timeout_s, config.read_timeout_s) * 1_000_000)
    options = {"analyzeduration": str(ANALYZE_DURATION_US)}
    if config.scheme in ("rtsp", "rtsps"):
        options["rtsp_transport"] = config.rtsp_transport
        options[_RTSP_SOCKET_TIMEOUT_OPTION] = str(socket_timeout_us)
    else:
        options["timeout"] = str(socket_timeout_us)
    return options


def ffmpeg_capture_options(config: SourceConfig) -> str:
    """The same options as FFmpeg's "key;value|key;value" text (for logs and for
    tools that take OpenCV's form)."""
    return "|".join(f"{key};{value}" for key, value in ffmpeg_options(config).items())


# ---- the source ------------------------------------------------------------------------


class VideoSource:
    """An open source. Not thread-safe: one thread (the capture loop) drives it."""

    def __init__(
        self,
        container: Any,
        config: SourceConfig,
        *,
        description: str,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        timeline: MediaTimeline | None = None,
    ) -> None:
        self._container = container
        self._stream = container.streams.video[0]
        self._config = config
        self.description = description  # path or redacted URL, safe for messages
        self.is_file = config.is_file
        self._clock = clock
        self._sleep = sleep
        _configure_decoder(self._stream, config)
        rate = self._stream.average_rate or self._stream.guessed_rate  # as OpenCV: the average first
        reported_fps = float(rate) if rate else 0.0
        self.fps = reported_fps if 0.0 < reported_fps < 1000.0 else 0.0
        context = self._stream.codec_context
        self.size = (int(context.width), int(context.height))
        self.expected_frames = self._announced_frames() if self.is_file else 0
        self.end_of_file = False
        # A network source whose peer ended the stream (EOF, a reset, a broken pipe): why,
        # so the capture loop reconnects at once instead of waiting out a stall.
        self.connection_lost: str | None = None
        self.loops = 0  # times a looping file started over
        self.decode_errors = 0  # packets the decoder refused (skipped, like a camera's glitch)
        self._packets: Iterator[Any] | None = None
        self._demux_done = False
        self._decoded: collections.deque[Any] = collections.deque()
        self._frame: Any = None  # the last grabbed av.VideoFrame
        # One converter for the source's life: a frame's own (`to_ndarray(format=...)`)
        # sets up a new swscale context for every frame, a third of the conversion's cost.
        self._reformatter = VideoReformatter()
        self._pending_first_frame = False
        # Packets read while the open decoded the first frame of a file, before anyone
        # could set a tap: handed to a tap set before that frame is grabbed.
        self._opening_packets: list[Any] = []
        self._opening = False  # inside decode_first_frame
        self._frames_this_pass = 0
        self._tap: PacketTap | None = None
        self._tap_open = False  # begin() was called for this pass
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

    def set_packet_tap(self, tap: PacketTap | None) -> None:
        """Hand every packet read from now on to `tap` (None: to nobody). The tap
        gets `begin` with the stream before its first packet, `end` when it is
        replaced, when the pass ends and when the source is released."""
        if tap is self._tap:
            return
        self._end_tap("recording reconfigured")
        self._tap = tap

    def grab(self) -> bool:
        """Take the next frame from the source without converting it; on True, `pts`
        is its media time.

        False means no frame: for a network source a read timeout (the caller decides
        when that is a stall) or a lost connection (`connection_lost` says why: the
        peer ended the stream or reset it; reconnect at once); for a file the end,
        with `end_of_file` set. Raises SourceError for a truncated file.
        """
        if self.end_of_file:
            return False
        if self.is_file and self._config.realtime:
            self._wait_for_next_frame_time()
        if self._pending_first_frame:  # decoded during the open to prove the file is a video
            self._pending_first_frame = False
            opening, self._opening_packets = self._opening_packets, []
            for packet in opening:
                self._tap_packet(packet)
        elif self._next_frame():
            self._frames_this_pass += 1
        elif not self.is_file:
            return False
        else:
            self._check_not_truncated()
            if not self._config.loop:
                self.end_of_file = True
                self._end_tap("end of file")
                return False
            self._start_over()
        self._stamp()
        return True

    def retrieve(self) -> np.ndarray | None:
        """The last grabbed frame as a BGR array (a fresh copy), or None."""
        frame = self._frame
        if frame is None:
            return None
        try:
            image = self._reformatter.reformat(frame, format="bgr24").to_ndarray()
        except (av.error.FFmpegError, ValueError) as exc:
            log.debug("%s: frame conversion failed: %s", self.description, exc)
            return None
        return image if image.size else None

    def release(self) -> None:
        self._end_tap("source closed")
        self._frame = None
        self._decoded.clear()
        try:
            self._container.close()
        except av.error.FFmpegError as exc:  # closing a broken network stream can complain
            log.debug("%s: close: %s", self.description, exc)

    # ---- reading ---------------------------------------------------------------------

    def decode_first_frame(self) -> bool:
        """For a file's open: decode its first frame now (False: there is none)."""
        self._opening = True
        try:
            if not self._next_frame():
                return False
        finally:
            self._opening = False
        self._pending_first_frame = True
        self._frames_this_pass = 1
        return True

    def seek_first_frame(self, start_pts: float, *, keep_timeline: bool) -> bool:
        """For a part-way open of a file: seek to the keyframe before `start_pts` and
        decode on to the first frame at that time or later (False: there is none).
        Its media time is its own timestamp (unless a timeline was handed over), and
        the frames skipped count toward the truncation check as if they had been read."""
        half_frame = 0.5 * self._pace_period
        try:
            self._container.seek(int(start_pts / self._stream.time_base), stream=self._stream, backward=True)
            self._stream.codec_context.flush_buffers()
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            log.debug("%s: seek to %.3f s failed: %s", self.description, start_pts, exc)
            return False
        self._packets, self._demux_done = None, False
        self._opening = True  # the packets before the first frame are nobody's: a part-way open records nothing
        try:
            while True:
                if not self._next_frame():
                    return False
                at = self._frame.time
                if at is None or at >= start_pts - half_frame:
                    break
        finally:
            self._opening = False
            self._opening_packets = []
        first = max(0.0, at if at is not None else start_pts)
        if not keep_timeline:
            self._timeline = MediaTimeline(start=first)
            self._timeline.new_pass()
            self.pts = self._timeline.pts
        self._pending_first_frame = True
        self._frames_this_pass = round(first * (self.fps or FALLBACK_FPS)) + 1
        return True

    def _next_frame(self) -> bool:
        """Read and decode packets until a frame comes out; False if none can (end of
        the stream, a read error or timeout)."""
        while not self._decoded:
            if self._demux_done:
                if self.is_file:
                    return False
                self._demux_done = False  # a network read failed: try reading again
                self._packets = None
            if self._packets is None:
                self._packets = self._container.demux(self._stream)
            try:
                packet = next(self._packets)
            except StopIteration:
                self._demux_done = True
                if not self.is_file:
                    self.connection_lost = (
                        "the stream ended (the camera closed it, or sent data FFmpeg could not follow)"
                    )
                return False
            except (av.error.FFmpegError, OSError) as exc:  # a read timeout, a dropped connection, bad data
                log.debug("%s: read failed: %s", self.description, exc)
                self._demux_done = True
                if self.is_file:
                    self._flush_decoder()
                    continue
                if isinstance(exc, (ConnectionError, EOFError)):
                    self.connection_lost = f"the connection was lost ({type(exc).__name__})"
                return False
            self._decode(packet)
            if packet.size:
                if self._opening:
                    self._opening_packets.append(packet)
                else:
                    self._tap_packet(packet)
        self._frame = self._decoded.popleft()
        return True

    def _decode(self, packet: Any) -> None:
        try:
            self._decoded.extend(packet.decode())  # the empty packet at the end flushes the decoder
        except av.error.FFmpegError as exc:
            self.decode_errors += 1
            log.debug("%s: packet not decodable: %s", self.description, exc)

    def _flush_decoder(self) -> None:
        try:
            self._decoded.extend(self._stream.codec_context.decode(None))
        except av.error.FFmpegError as exc:
            log.debug("%s: decoder flush: %s", self.description, exc)

    def _tap_packet(self, packet: Any) -> None:
        tap = self._tap
        if tap is None:
            return
        if not self._tap_open:
            try:
                template = template_of(self._stream, is_file=self.is_file, fps=self.fps)
            except (av.error.FFmpegError, ValueError) as exc:
                log.warning("%s: cannot hand this stream to the recorder: %s", self.description, exc)
                self._tap = None
                return
            tap.begin(template)
            self._tap_open = True
        tap.packet(packet)

    def _end_tap(self, reason: str) -> None:
        if self._tap is not None and self._tap_open:
            self._tap.end(reason)
        self._tap_open = False

    def _stamp(self) -> None:
        raw = None
        if self._stream_timestamps and self._frame is not None:
            raw = self._frame.time  # None when the frame has no pts
        self.pts = self._timeline.advance(raw, frame_period=self._fallback_step, now=self._clock())

    def _announced_frames(self) -> int:
        """The frame count the container announces (as OpenCV estimates it: the
        count in the header, else duration x frame rate)."""
        if self._stream.frames:
            return int(self._stream.frames)
        duration = self._container.duration  # in AV_TIME_BASE units (microseconds)
        if duration and self.fps:
            return int(duration / 1_000_000 * self.fps + 0.5)
        return 0

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
        self._end_tap("file looped")
        self._decoded.clear()
        self._packets, self._demux_done = None, False
        try:
            self._container.seek(0, stream=self._stream)
            self._stream.codec_context.flush_buffers()
            started = self._next_frame()
        except av.error.FFmpegError:
            started = False
        if not started:
            # Some containers do not seek back cleanly; opening again always works.
            self._container.close()
            self._container = open_file_container(self._config.file_path)
            self._stream = self._container.streams.video[0]
            _configure_decoder(self._stream, self._config)
            self._packets, self._demux_done = None, False
            if not self._next_frame():
                raise SourceError(
                    f"video file {self.description} could not be read again from the start", permanent=True
                )
        self._frames_this_pass = 1


def _configure_decoder(stream: Any, config: SourceConfig) -> None:
    """FFmpeg decoder threads and the decode shortcut, before the decoder opens.

    One thread per camera by default: with many cameras per node the parallelism is
    across cameras, and extra decoder threads only add switching. `skip_loop_filter`
    is FFmpeg's own decoder option of that name (see `SourceConfig`)."""
    context = stream.codec_context
    context.thread_count = config.decode_threads
    if config.decode_threads != 1:
        context.thread_type = "AUTO"
    if config.skip_loop_filter != "none":
        context.options = {**context.options, "skip_loop_filter": config.skip_loop_filter}


def open_file_container(path: Path) -> Any:
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError):
        raise SourceError(f"video file {path} could not be opened: not a video, or corrupt", permanent=True) from None
    if not container.streams.video:
        container.close()
        raise SourceError(f"video file {path} could not be opened: not a video (no video stream)", permanent=True)
    return container
