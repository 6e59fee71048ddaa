r"""One camera's capture thread: keep the newest frame, never fall behind.

`CaptureLoop` grabs every frame the source produces, so nothing queues up inside
FFmpeg and the newest frame is always the live one, but converts (retrieves) a
frame to BGR only when someone needs it:

    grab (every frame; the source stamps its media time, pts) --each packet--> packet tap (recorder)
      |
      +-- due? FrameSampler(retrieve_fps) decides by pts --+
      +-- requested? (request_frame(), for a reader) ------+--> retrieve + frame hook
                                                                  |
                        newest retrieved frame: latest(), wait_frame()  (readers, JPEGs)
                        newest due frame:       wait_due()              (the analysis)

Recording shares the connection: a packet tap (`set_packet_tap`, the camera's
recorder) gets every packet the source demuxes, on this thread and without
waiting (the recorder's hand-off is bounded and drops recording, not frames).
The tap follows the loop across reconnects; each open is a new pass for it.

`retrieve_fps` is per second of media time: None makes every frame due, 0 none
(only requested frames are decoded). Each slot holds one frame (newest wins,
there is no queue): a consumer slower than the frames skips some, it never falls
behind. The frame hook (`cluster.video.frame_hook`) is applied as the frame is
decoded, so no consumer ever sees an unhooked image. `Frame.sequence` counts
every grabbed frame, so gaps between the sequences a reader sees are the frames
it skipped. The capture loop keeps one `MediaTimeline` for its whole life and
hands it to every open, so pts never goes back across reconnects.

States (CameraState) and what moves between them:

    CONNECTING --first frame--> LIVE --no frame for stall_timeout_s--> STALLED
        |                        |  \                                   |
        | open failed (transient)|   \ connection lost (EOF, reset)     | source closed
        |                        |    `------------------------------.  |
        | file ended, not looping: STOPPED (reason "end of file ...") |  |
        v                                                            v  v
    RECONNECTING <---------------------------------------------------- (backoff)
        |
        +--after the backoff delay--> CONNECTING ...

    any state --permanent error--> FAILED      any state --stop()--> STOPPED

- CONNECTING covers the open and the wait for the first frame: a source that
  opens but never sends a frame goes to STALLED after `stall_timeout_s`.
- "unreachable" (the open failed) goes CONNECTING -> RECONNECTING with a reason
  starting "unreachable:"; "stalled" (opened, then silence) passes through STALLED
  and its RECONNECTING reason starts "stalled:". A stalled source is closed and
  opened again at once (after the backoff): a hung RTSP session rarely recovers.
- "connection lost" (the camera ended the stream or reset the connection) does not
  wait for `stall_timeout_s`: a closed connection sends nothing more, so the loop
  goes to RECONNECTING at once with a reason starting "connection lost:".
- The end of a non-looping file is STOPPED with `end_of_file` True and a reason
  starting "end of file", so batch reprocessing can tell "done" from "broken"
  (FAILED) and from a stop() (reason "stopped").
- `reconnects` counts every open attempt after the first one.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from cluster.config.source import SourceConfig, redact_url
from cluster.domain import CameraState, CaptureStats, Frame
from cluster.support.backoff import Backoff
from cluster.support.threads import named_thread
from cluster.video.frame_hook import IDENTITY, FrameHook, retrieve_frame
from cluster.video.media_time import MediaTimeline
from cluster.video.opening import open_source
from cluster.video.packet_tap import PacketTap
from cluster.video.sampler import FrameSampler
from cluster.video.sources import SourceError, VideoSource

log = logging.getLogger(__name__)

Opener = Callable[..., VideoSource]  # opener(config, *, clock=..., sleep=..., timeline=...) -> VideoSource
StateCallback = Callable[[CameraState, str], None]

# Pause after a failed grab that returned at once (e.g. a dropped connection), so
# the thread does not spin while it waits to declare a stall.
FAILED_GRAB_PAUSE_S = 0.05
# How often the thread looks at the stop flag while it waits for an open.
STOP_POLL_S = 0.05
# fps_in is measured over windows of at least this length, then smoothed.
FPS_WINDOW_S = 1.0
SMOOTHING = 0.3  # weight of the newest sample in the smoothed figures

TERMINAL_STATES = (CameraState.FAILED, CameraState.STOPPED)


class CaptureLoop:
    """Reads one camera's source on a daemon thread. All public methods are thread-safe."""

    def __init__(
        self,
        camera_id: str,
        source: SourceConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        opener: Opener = open_source,
        retrieve_fps: float | None = None,
        frame_hook: FrameHook = IDENTITY,
        on_state_change: StateCallback | None = None,
    ) -> None:
        self.camera_id = camera_id
        self._config = source
        self._description = redact_url(source.url)
        self._clock = clock
        self._wall_clock = wall_clock
        self._opener = opener
        self._on_state_change = on_state_change
        self._backoff = Backoff(source.reconnect, rng)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._new_frame = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

        # Guarded by _lock.
        self._state = CameraState.CONNECTING
        self._reason = f"not started; source {self._description}"
        self._end_of_file = False
        self._frame: Frame | None = None  # newest retrieved
        self._due_frame: Frame | None = None  # newest retrieved because it was due
        self._retrieve_fps = self._checked_fps(retrieve_fps)
        self._sampler = self._sampler_for(self._retrieve_fps)
        self._frame_hook = frame_hook
        self._frame_requested = False
        self._stats = CaptureStats()
        self._packet_tap: PacketTap | None = None
        self._tap_version = 0  # bumped by set_packet_tap; the capture thread hands the tap to its source

        # Capture thread only.
        self._timeline = MediaTimeline()
        self._sequence = 0
        self._last_failure = ""
        self._fps_window_start = 0.0
        self._fps_window_frames = 0

    # ---- control -----------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                raise RuntimeError(f"capture loop of camera {self.camera_id} was already started")
            self._thread = named_thread(self._run, name=f"capture-{self.camera_id}")
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the thread and wait up to `timeout` s for it; True if it has ended.

        Waits for an open in progress are abandoned at once; a read in progress
        finishes first (bounded by read_timeout_s).
        """
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._set_state(CameraState.STOPPED, "stopped on request")
        return thread is None or not thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def retrieve_fps(self) -> float | None:
        with self._lock:
            return self._retrieve_fps

    @retrieve_fps.setter
    def retrieve_fps(self, fps: float | None) -> None:
        """Frames due per second of media time. None: every frame. 0: none, only on
        request_frame(). A change starts a fresh schedule at the next frame."""
        fps = self._checked_fps(fps)
        with self._lock:
            if fps != self._retrieve_fps:
                self._retrieve_fps = fps
                self._sampler = self._sampler_for(fps)

    def set_retrieve_fps(self, fps: float | None) -> None:
        self.retrieve_fps = fps

    def set_frame_hook(self, hook: FrameHook) -> None:
        """Apply `hook` to every frame decoded from the next one on."""
        with self._lock:
            self._frame_hook = hook

    def set_packet_tap(self, tap: PacketTap | None) -> None:
        """Hand every packet the source demuxes to `tap` (the recorder), from the next
        grab on, and across reconnects; None stops. Never reopens the source."""
        with self._lock:
            if tap is not self._packet_tap:
                self._packet_tap = tap
                self._tap_version += 1

    def request_frame(self) -> None:
        """Convert the next grabbed frame whatever the rate (for a reader that needs one now)."""
        with self._lock:
            self._frame_requested = True

    # ---- observation ---------------------------------------------------------------

    def state(self) -> tuple[CameraState, str]:
        with self._lock:
            return self._state, self._reason

    @property
    def end_of_file(self) -> bool:
        """True once a non-looping file has played to its end (state STOPPED)."""
        with self._lock:
            return self._end_of_file

    def stats(self) -> CaptureStats:
        with self._lock:
            return self._stats

    def latest(self) -> Frame | None:
        with self._lock:
            return self._frame

    def wait_frame(self, after_sequence: int, timeout: float) -> Frame | None:
        """The newest frame if its sequence is above `after_sequence`, waiting up to
        `timeout` s for one. None on timeout, or at once if the loop has ended."""
        return self._wait(after_sequence, timeout, due=False)

    def wait_due(self, after_sequence: int, timeout: float) -> Frame | None:
        """Like `wait_frame`, for the newest frame the sampler marked due (the
        analysis's frames; requested frames never show up here)."""
        return self._wait(after_sequence, timeout, due=True)

    def _wait(self, after_sequence: int, timeout: float, *, due: bool) -> Frame | None:
        deadline = time.monotonic() + timeout
        with self._new_frame:
            while True:
                frame = self._due_frame if due else self._frame
                if frame is not None and frame.sequence > after_sequence:
                    return frame
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._state in TERMINAL_STATES:
                    return None
                self._new_frame.wait(remaining)

    # ---- the thread --------------------------------------------------------------

    def _run(self) -> None:
        attempts = 0
        try:
            while not self._stop.is_set():
                if attempts:
                    with self._lock:
                        self._stats = replace(self._stats, reconnects=self._stats.reconnects + 1)
                attempts += 1
                self._set_state(CameraState.CONNECTING, self._connecting_reason(attempts))
                try:
                    source = self._open()
                except SourceError as error:
                    if error.permanent:
                        self._set_state(CameraState.FAILED, error.message)
                        return
                    self._wait_backoff(f"unreachable: {error.message}")
                    continue
                if source is None:  # stop() during the open
                    break
                try:
                    failure = self._stream(source)
                finally:
                    source.release()
                if failure is None:  # stopped, or the file ended
                    return
                if failure.permanent:
                    self._set_state(CameraState.FAILED, failure.message)
                    return
                self._wait_backoff(failure.message)
        except Exception as exc:  # a bug must not leave the camera silently "live"
            log.exception("capture thread of camera %s crashed", self.camera_id)
            self._set_state(CameraState.FAILED, f"capture thread crashed: {exc!r}")
        finally:
            self._set_state(CameraState.STOPPED, "stopped on request")
            with self._new_frame:
                self._new_frame.notify_all()  # wake readers: nothing more will come

    def _connecting_reason(self, attempt: int) -> str:
        if attempt == 1:
            return f"opening {self._description}"
        return f"reconnecting, attempt {attempt}; last failure: {self._last_failure}"

    def _open(self) -> VideoSource | None:
        """Open on a helper thread so stop() need not wait out a slow open."""
        pending = _PendingOpen(
            self._opener, self._config, clock=self._clock, sleep=self._stop.wait, timeline=self._timeline
        )
        while not pending.done.wait(STOP_POLL_S):
            if self._stop.is_set():
                pending.abandon()
                return None
        return pending.result()

    def _wait_backoff(self, reason: str) -> None:
        self._last_failure = reason
        delay = self._backoff.next_delay()
        self._set_state(CameraState.RECONNECTING, f"{reason}; retrying in {delay:.1f} s")
        self._stop.wait(delay)

    def _stream(self, source: VideoSource) -> SourceError | None:
        """Grab until stop, end of file or stall. Returns the failure to recover from, if any."""
        with self._lock:
            self._stats = replace(self._stats, width=source.size[0], height=source.size[1], source_fps=source.fps)
        last_frame_at = self._clock()  # stall timing starts at the open
        live = False
        tap_version = 0  # this source has no tap yet
        while not self._stop.is_set():
            with self._lock:
                tap, version = self._packet_tap, self._tap_version
            if version != tap_version:
                source.set_packet_tap(tap)
                tap_version = version
            try:
                grabbed = source.grab()
            except SourceError as error:
                return error
            now = self._clock()
            if grabbed:
                last_frame_at = now
                if not live:
                    live = True
                    self._backoff.reset()
                    self._set_state(CameraState.LIVE, f"receiving frames from {source.description}")
                self._on_grabbed(source, now)
                continue
            if source.end_of_file:
                with self._lock:
                    self._end_of_file = True
                    frames = self._stats.frames_received
                self._set_state(CameraState.STOPPED, f"end of file {source.description} after {frames} frames")
                return None
            if source.connection_lost:
                return SourceError(f"connection lost: {source.connection_lost} ({source.description})", permanent=False)
            silent_for = now - last_frame_at
            if silent_for >= self._config.stall_timeout_s:
                since = "since the last frame" if live else "since the source opened"
                message = f"stalled: no frame for {silent_for:.1f} s {since} from {source.description}"
                self._set_state(CameraState.STALLED, message)
                return SourceError(message, permanent=False)
            self._stop.wait(FAILED_GRAB_PAUSE_S)
        return None

    def _on_grabbed(self, source: VideoSource, now: float) -> None:
        self._sequence += 1
        wall = self._wall_clock()
        with self._lock:
            requested = self._frame_requested
            sampler = self._sampler
            hook = self._frame_hook
        due = sampler is not None and sampler.due(source.pts)
        decode_seconds = None
        frame = None
        if due or requested:
            frame = retrieve_frame(source, hook, sequence=self._sequence, capture_time=wall)
            decode_seconds = self._clock() - now
        rate = self._measure_rate(now)
        with self._new_frame:
            stats = self._stats
            self._stats = replace(
                stats,
                frames_received=stats.frames_received + 1,
                frames_due=stats.frames_due + int(due),
                last_frame_time=wall,
                fps_in=_smooth(stats.fps_in, rate, stats.fps_in == 0.0),
            )
            if frame is not None:
                self._frame = frame
                if due:
                    self._due_frame = frame
                self._frame_requested = False
                self._stats = replace(
                    self._stats,
                    frames_decoded=stats.frames_decoded + 1,
                    decode_seconds=_smooth(stats.decode_seconds, decode_seconds, stats.frames_decoded == 0),
                    width=frame.image.shape[1],
                    height=frame.image.shape[0],
                )
                self._new_frame.notify_all()

    def _measure_rate(self, now: float) -> float | None:
        """The source's frame rate over the window that just closed, else None."""
        if self._fps_window_frames == 0:
            self._fps_window_start = now
        self._fps_window_frames += 1
        elapsed = now - self._fps_window_start
        if elapsed < FPS_WINDOW_S:
            return None
        rate = (self._fps_window_frames - 1) / elapsed
        self._fps_window_frames = 1  # this frame opens the next window
        self._fps_window_start = now
        return rate

    def _set_state(self, state: CameraState, reason: str) -> None:
        """Move to `state`. Once stopped or failed, the first final word counts."""
        with self._new_frame:
            # A terminal state is never left: FAILED keeps its reason through stop(),
            # and "end of file" is not overwritten by the thread's closing "stopped".
            if self._state in TERMINAL_STATES:
                return
            if self._stop.is_set() and state not in TERMINAL_STATES:
                return  # stop() is winning; do not flash back to live
            if (state, reason) == (self._state, self._reason):
                return
            self._state, self._reason = state, reason
            if state in TERMINAL_STATES:
                self._new_frame.notify_all()
        log.info("camera %s: %s (%s)", self.camera_id, state.value, reason)
        if self._on_state_change is not None:
            try:
                self._on_state_change(state, reason)
            except Exception:  # a broken observer must not break capture
                log.exception("on_state_change callback of camera %s failed", self.camera_id)

    @staticmethod
    def _checked_fps(fps: float | None) -> float | None:
        if fps is not None and not fps >= 0:
            raise ValueError(f"retrieve_fps must be None, 0 or positive, not {fps}")
        return fps

    @staticmethod
    def _sampler_for(fps: float | None) -> FrameSampler | None:
        return None if fps == 0 else FrameSampler(fps)


class _PendingOpen:
    """One open running on its own thread. If the capture loop gives up on it
    (stop), whatever it eventually opens is released by that thread."""

    def __init__(self, opener: Opener, config: SourceConfig, **kwargs: object) -> None:
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._abandoned = False
        self._source: VideoSource | None = None
        self._error: BaseException | None = None
        thread = named_thread(self._run, args=(opener, config, kwargs), name="capture-open")
        thread.start()

    def _run(self, opener: Opener, config: SourceConfig, kwargs: dict[str, object]) -> None:
        try:
            source, error = opener(config, **kwargs), None
        except BaseException as exc:  # noqa: BLE001 - handed to the capture thread, which raises it there
            source, error = None, exc
        with self._lock:
            if self._abandoned:
                if source is not None:
                    source.release()
                return
            self._source, self._error = source, error
        self.done.set()

    def abandon(self) -> None:
        with self._lock:
            self._abandoned = True
            source, self._source = self._source, None
        if source is not None:
            source.release()

    def result(self) -> VideoSource:
        if self._error is not None:
            raise self._error
        assert self._source is not None
        return self._source


def _smooth(previous: float, sample: float | None, first: bool) -> float:
    if sample is None:
        return previous
    return sample if first else (1.0 - SMOOTHING) * previous + SMOOTHING * sample
