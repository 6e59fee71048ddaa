"""One camera end to end, as plain Python: the live driver of the video core.

    capture thread (CaptureLoop): grab every frame, FrameSampler by pts,
                                  decode through the frame hook
        |-- due frames (newest wins) --> analysis thread: pipeline --> detection ring
        |                                      |              '------> event ring <-- stream health
        |                                      '-- motion / open events --> recorder (triggers)
        |-- every demuxed packet (stream copy) -------------------------> recorder thread: segments
        '-- any decoded frame ---------> JPEG cache (readers, on request)

`CameraActor` (camera_actor.py) is a thin Ray wrapper around `CameraWorker`, so
everything here can be driven by tests without Ray.

Events. The pipeline's event revisions (rules, tamper) and the stream health
events (`health.py`, from the capture loop's state changes) go into the event
ring (`ring.EventRing`), which the event store's writer pulls with
`pull_events`. Each run of the capture (start, or a source change) has its own
media-time origin, the wall-clock time it started, so its events never reuse
an id of an earlier run (`cluster.video.emitter`). When capture stops, the
pipeline's open events are ended and published.

Recording (`recording.py`): when `recording.mode` is not off, a `Recorder` is the
capture loop's packet tap, so segments are a stream copy of the one connection
the analysis reads; the analysis thread tells it about motion and open events
(the trigger modes). Turning recording on or off, or changing its settings, is
applied live and never reconnects.

Live updates: `update(config)` with a new source reconnects (stop, start; the
rings and their sequence numbers survive). Any other change (analysis, rules,
privacy masks, tamper and health settings, output, name, groups) is applied to
the running camera without touching the source: a new pipeline is built beside
the running one, carrying over what did not change (the motion background, a
loaded detector, live tracks, the state of unchanged rules, the tamper
detector's learnt view: see `AnalysisPipeline`), and swapped in between two
frames; the frame hook (privacy masks) and the sampling rate take effect from
the next decoded frame.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from ..config import CameraConfig
from ..config.recording import RecordingMode
from ..domain import (
    AnalysisMode,
    AnalysisResult,
    CameraState,
    CameraStatus,
    DetectionBatch,
    DetectionPull,
    EventPull,
    Frame,
    JpegFrame,
    RecordingStatus,
)
from ..support.threads import named_thread
from ..video.emitter import EventEmitter
from ..video.frame_hook import FrameHook, frame_hook_for
from ..video.opening import open_source
from ..video.pipeline.detector import ModelError
from ..video.pipeline.pipeline import AnalysisPipeline
from ..video.rate_control import AdaptiveRate
from ..video.settings import EventSettings
from .capture import TERMINAL_STATES, CaptureLoop
from .health import StreamHealth
from .jpeg import JpegCache
from .meters import Ewma, ProcessUsage, RateMeter
from .recorder import Recorder
from .ring import DetectionRing, EventRing
from .telemetry import CameraMeters

logger = logging.getLogger(__name__)

# How long the analysis thread waits for a frame before re-checking for stop.
_FRAME_WAIT_S = 0.5
# What building a pipeline or a frame hook from a camera's settings may raise: a
# configuration the camera cannot run, reported as FAILED rather than raised.
_SETUP_ERRORS = (ModelError, ValueError, OSError)

# pipeline_factory(camera_id, analysis_config, events=EventSettings, previous=running pipeline or None)
PipelineFactory = Callable[..., AnalysisPipeline]
FrameHookFactory = Callable[[CameraConfig], FrameHook]


class CameraWorker:
    """Runs one camera: a capture thread (inside CaptureLoop) and an analysis thread.

    The public methods only read shared state under short locks, so a Ray actor
    can serve them from its thread pool while decoding continues; `start`,
    `stop` and `update` are serialised among themselves.
    """

    def __init__(
        self,
        config: CameraConfig,
        *,
        node_id: str = "",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        capture_factory: Callable[..., CaptureLoop] = CaptureLoop,
        pipeline_factory: PipelineFactory = AnalysisPipeline,
        frame_hook_factory: FrameHookFactory = frame_hook_for,
    ):
        self.config = config
        self.camera_id = config.id
        self.node_id = node_id
        self._clock = clock
        self._wall_clock = wall_clock
        self._capture_factory = capture_factory
        self._pipeline_factory = pipeline_factory
        self._frame_hook_factory = frame_hook_factory
        self._control = threading.Lock()  # start / stop / update, one at a time
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._capture: CaptureLoop | None = None
        # Replaced whole by update(); the analysis thread reads it once per frame.
        self._pipeline: AnalysisPipeline | None = None
        self._failure: str | None = None  # a configuration failure that capture cannot fix
        self.ring = DetectionRing(config.id, config.output.ring_size)
        self.events = EventRing(config.id, config.output.event_ring_size)
        self._health: StreamHealth | None = None
        self._run_origin = 0.0  # media-time origin of this capture run's events
        self.jpegs = JpegCache(config.id, config.output.jpeg_quality)
        self._usage = ProcessUsage(clock=clock)
        self._analysed = 0
        self._detector_runs = 0
        self._analysis_errors = 0
        self._rate_out = RateMeter(clock=clock)
        self._stage = {name: Ewma() for name in ("resize", "motion", "detector", "tracker")}
        self._latency = Ewma()
        self._meters = CameraMeters()  # cumulative histograms/counters for Prometheus
        self._recorder: Recorder | None = None
        self._open_events: set[str] = set()  # events-only recording: ids of events still going on
        # The analysis rate, lowered while the node is short of CPU (analysis.min_fps);
        # driven by the analysis thread, replaced whole on start and on a rate change.
        self._rate = self._new_rate(config)

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Build the pipeline and start capturing. A model that cannot be loaded
        puts the camera in FAILED with the reason, instead of raising: the actor
        must stay up so its state can be read."""
        with self._control:
            self._start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._control:
            self._stop_threads(timeout)

    def update(self, config: CameraConfig) -> None:
        """Apply a new desired state. Only a source change reconnects; the ring
        (and so subscribers' sequence numbers) always survives."""
        if config.id != self.camera_id:
            raise ValueError(f"cannot change camera id from {self.camera_id!r} to {config.id!r}")
        with self._control:
            if config == self.config:
                return
            previous, self.config = self.config, config
            self.jpegs.default_quality = config.output.jpeg_quality
            self.ring.resize(config.output.ring_size)
            self.events.resize(config.output.event_ring_size)
            if config.source != previous.source or not self._running():
                self._stop_threads()
                self._start()
            else:
                self._reconfigure(config)

    def _start(self) -> None:
        # A fresh event per run: an analysis thread that outlived its stop() (stuck in
        # a slow frame past the join timeout) still sees its own run's stop.
        self._stop = threading.Event()
        self._run_origin = round(self._wall_clock(), 3)
        try:
            self._pipeline = self._pipeline_factory(
                self.camera_id, self.config.analysis, events=self._event_settings(self.config)
            )
            hook = self._frame_hook_factory(self.config)
        except _SETUP_ERRORS as exc:
            self._fail_setup(exc)
            self._usage.restart()
            return
        self._failure = None
        self._capture = None
        self._rate = self._new_rate(self.config)
        self._health = StreamHealth(
            self.config.health,
            EventEmitter(self.camera_id, pts_origin=self._run_origin),
            publish=self.events.publish,
            last_pts=self._last_pts,
            clock=self._clock,
            wall_clock=self._wall_clock,
        )
        self._capture = self._capture_factory(
            self.camera_id,
            self.config.source,
            clock=self._clock,
            wall_clock=self._wall_clock,
            opener=self._meters.timed_opener(open_source),
            on_state_change=self._on_capture_state,
            # Decode what the analysis is due and what readers ask for, nothing else.
            retrieve_fps=self.config.analysis.fps,
            frame_hook=hook,
        )
        self._sync_recorder(self.config)
        self._capture.start()
        self._thread = named_thread(
            self._analysis_loop, args=(self._capture, self._stop), name=f"analysis-{self.camera_id}"
        )
        self._thread.start()
        self._usage.restart()  # CPU readings describe the running camera, not its start-up

    def _reconfigure(self, config: CameraConfig) -> None:
        """The analysis-only part of update(): new pipeline and hook, same source."""
        capture = self._capture
        assert capture is not None
        try:
            pipeline = self._pipeline_factory(
                self.camera_id, config.analysis, events=self._event_settings(config), previous=self._pipeline
            )
            hook = self._frame_hook_factory(config)
        except _SETUP_ERRORS as exc:
            self._stop_threads()
            self._fail_setup(exc)
            return
        self._pipeline = pipeline
        capture.set_frame_hook(hook)
        if not self._rate.runs(config.analysis.fps, config.analysis.min_fps):
            self._rate = self._new_rate(config)
        capture.retrieve_fps = self._rate.rate
        if self._health is not None:
            self._health.configure(config.health)
        self._sync_recorder(config)
        logger.info("camera %s: analysis updated in place: %s", self.camera_id, pipeline.describe())

    def _new_rate(self, config: CameraConfig) -> AdaptiveRate:
        return AdaptiveRate(config.analysis.fps, config.analysis.min_fps, self._clock())

    def _stop_threads(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._capture is not None:
            self._capture.stop(timeout)
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                logger.warning(
                    "camera %s: analysis thread still busy after %.0f s; open events stay open", self.camera_id, timeout
                )
            elif self._pipeline is not None:
                self.events.publish(self._pipeline.finish())  # the footage of this run is over
        if self._health is not None:
            self._health.stop()
            self._health = None
        recorder, self._recorder = self._recorder, None
        if recorder is not None and not recorder.stop(timeout):
            logger.warning("camera %s: recorder still busy after %.0f s", self.camera_id, timeout)

    def _sync_recorder(self, config: CameraConfig) -> None:
        """Start, reconfigure or stop the recorder to match `config.recording` (live)."""
        capture = self._capture
        if capture is None:
            return
        if config.recording.enabled:
            if self._recorder is None:
                self._recorder = Recorder(self.camera_id, config.recording, wall_clock=self._wall_clock)
            else:
                self._recorder.configure(config.recording)
            capture.set_packet_tap(self._recorder)
        elif self._recorder is not None:
            capture.set_packet_tap(None)
            recorder, self._recorder = self._recorder, None
            recorder.stop()

    def _trigger_recording(self, frame: Frame, result: AnalysisResult) -> None:
        recorder = self._recorder
        if recorder is None:
            return
        recording = self.config.recording
        if recording.mode is RecordingMode.MOTION_ONLY and result.motion:
            recorder.activity(frame.capture_time)
        elif recording.mode is RecordingMode.EVENTS_ONLY:
            for event in result.events:
                if event.end_time is None:
                    self._open_events.add(event.event_id)
                else:
                    self._open_events.discard(event.event_id)
            if self._open_events or result.events:
                recorder.activity(frame.capture_time)

    def _event_settings(self, config: CameraConfig) -> EventSettings:
        return EventSettings.of(config, pts_origin=self._run_origin)

    def _on_capture_state(self, state: CameraState, reason: str) -> None:
        self._meters.on_capture_state(state, reason)
        health = self._health
        if health is not None:
            health.on_state(state, reason)

    def _last_pts(self) -> float:
        capture = self._capture
        frame = capture.latest() if capture is not None else None
        return frame.pts if frame is not None else 0.0

    def _running(self) -> bool:
        capture, thread = self._capture, self._thread
        return (
            self._failure is None
            and capture is not None
            and capture.running
            and thread is not None
            and thread.is_alive()
        )

    def _fail_setup(self, exc: Exception) -> None:
        self._pipeline = None
        self._failure = f"analysis setup failed: {exc}"
        logger.error("camera %s: %s", self.camera_id, self._failure)

    # ---- analysis thread -------------------------------------------------------------

    def _analysis_loop(self, capture: CaptureLoop, stop: threading.Event) -> None:
        last_sequence = 0
        while not stop.is_set():
            # Frames come as the sampler marks them due, paced by the source's media
            # time; if analysis is slower, the newest due frame wins and the rest count
            # as skipped.
            frame = capture.wait_due(last_sequence, _FRAME_WAIT_S)
            health = self._health
            if health is not None:
                health.tick()
            if frame is None:
                if capture.state()[0] in TERMINAL_STATES:
                    stop.wait(_FRAME_WAIT_S)  # nothing more will come: do not spin
                continue
            last_sequence = frame.sequence
            pipeline = self._pipeline  # one pipeline for the whole frame, even during an update
            if pipeline is None:
                continue
            self._analyse(pipeline, frame)
            self._adapt_rate(capture, frame.pts)

    def _adapt_rate(self, capture: CaptureLoop, media_time: float) -> None:
        """Lower or raise the sampling rate when the analysis fell behind or kept up
        (graceful overload, `cluster.video.rate_control`); a no-op without min_fps."""
        rate = self._rate
        if not rate.adaptive:
            return
        with self._lock:
            finished = self._analysed + self._analysis_errors  # a failed frame is not a starved one
        was_degraded = rate.degraded
        changed = rate.observe(self._clock(), capture.stats().frames_due, finished, media_time)
        if changed is None or rate is not self._rate:
            return
        capture.retrieve_fps = changed
        # Entering and leaving are news; the steps between (every few seconds) are not.
        level = logging.INFO if rate.degraded != was_degraded else logging.DEBUG
        logger.log(
            level,
            "camera %s: analysis at %.2f fps (analysis.fps %.2f, min_fps %.2f)%s",
            self.camera_id,
            changed,
            rate.fps,
            rate.floor,
            ": its node is short of CPU" if rate.degraded else ": back at its full rate",
        )

    def _analyse(self, pipeline: AnalysisPipeline, frame: Frame) -> None:
        try:
            result = pipeline.process(frame)
        except Exception:  # a bad frame must not kill the camera
            self._analysis_errors += 1
            self._meters.count_analysis_error()
            logger.exception("camera %s: analysis failed on frame %d", self.camera_id, frame.sequence)
            return
        publish_time = self._wall_clock()
        self.ring.publish(
            DetectionBatch(
                camera_id=self.camera_id,
                sequence=0,
                frame_sequence=frame.sequence,
                capture_time=frame.capture_time,
                publish_time=publish_time,
                detections=result.detections,
                motion=result.motion,
                motion_ratio=result.motion_ratio,
            )
        )
        if result.events:
            self.events.publish(result.events)
        self._trigger_recording(frame, result)
        latency = max(0.0, publish_time - frame.capture_time)
        with self._lock:
            self._analysed += 1
            self._detector_runs += int(result.detector_ran)
            self._rate_out.tick()
            self._latency.add(latency)
            for name, seconds in result.stage_seconds.items():
                self._stage.setdefault(name, Ewma()).add(seconds)
        self._meters.observe_analysis(result.stage_seconds, result.detections, latency)

    # ---- reads (called from the actor's thread pool) ---------------------------------

    def state(self) -> tuple[CameraState, str]:
        if self._failure is not None:
            return CameraState.FAILED, self._failure
        if self._capture is None:
            return CameraState.STOPPED, "not started"
        return self._capture.state()

    def status(self) -> CameraStatus:
        state, reason = self.state()
        capture = self._capture.stats() if self._capture is not None else None
        pipeline = self._pipeline
        cpu, uss = self._usage.sample()
        with self._lock:
            analysed = self._analysed
            received = capture.frames_received if capture else 0
            stage_seconds = {name: ewma.get() for name, ewma in self._stage.items() if ewma.value is not None}
            if capture is not None:
                stage_seconds["decode"] = capture.decode_seconds
            return CameraStatus(
                camera_id=self.camera_id,
                state=state,
                reason=reason,
                node_id=self.node_id,
                pid=os.getpid(),
                mode=pipeline.mode if pipeline is not None else AnalysisMode.NONE,
                frames_received=received,
                frames_analysed=analysed,
                frames_skipped=max(0, received - analysed),
                detector_runs=self._detector_runs,
                reconnects=capture.reconnects if capture else 0,
                fps_in=capture.fps_in if capture else 0.0,
                fps_out=self._rate_out.rate(),
                last_frame_time=capture.last_frame_time if capture else None,
                last_sequence=self.ring.newest_sequence,
                stage_seconds=stage_seconds,
                capture_to_publish_seconds=self._latency.get(),
                cpu_percent=cpu,
                memory_uss_bytes=uss,
                metrics=self._meters.snapshot(),
                source_width=capture.width if capture else 0,
                source_height=capture.height if capture else 0,
                source_fps=(capture.source_fps or capture.fps_in) if capture else 0.0,
                recording=self.recording_status(),
                target_fps=self._rate.rate,
                degraded=self._rate.degraded,
            )

    def recording_status(self) -> RecordingStatus | None:
        """The recorder's state (None while recording is off)."""
        recorder = self._recorder
        return recorder.status() if recorder is not None else None

    def pull_detections(self, after_sequence: int, max_batches: int = 256, timeout_s: float = 0.0) -> DetectionPull:
        return self.ring.pull(after_sequence, max_batches, timeout_s)

    def pull_events(self, after_sequence: int, max_events: int = 256, timeout_s: float = 0.0) -> EventPull:
        return self.events.pull(after_sequence, max_events, timeout_s)

    def latest_jpeg(
        self, after_frame_sequence: int = 0, timeout_s: float = 1.0, max_width: int = 0, quality: int = 0
    ) -> JpegFrame | None:
        capture = self._capture
        if capture is None:
            return None
        capture.request_frame()
        frame = capture.wait_frame(after_frame_sequence, timeout_s)
        if frame is None:
            return None
        return self.jpegs.get(frame, max_width=max_width, quality=quality)
