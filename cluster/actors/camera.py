"""One camera end to end, as plain Python: capture loop → analysis → ring + JPEG.

`CameraActor` (camera_actor.py) is a thin Ray wrapper around `CameraWorker`, so
everything here can be driven by tests without Ray.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from ..config import CameraConfig
from ..domain import CameraState, CameraStatus, DetectionBatch, DetectionPull, JpegFrame
from ..metrics.camera_side import CameraMeters
from .capture import CaptureLoop
from .jpeg import JpegCache
from .meters import Ewma, ProcessUsage, RateMeter
from .pipeline.detector import ModelError
from .pipeline.pipeline import AnalysisPipeline
from .ring import DetectionRing
from .sources import open_source

logger = logging.getLogger(__name__)

# How long the analysis thread waits for a frame before re-checking for stop.
_FRAME_WAIT_S = 0.5


class CameraWorker:
    """Runs one camera: a capture thread (inside CaptureLoop) and an analysis thread.

    The public methods only read shared state under short locks, so a Ray actor
    can serve them from its thread pool while decoding continues.
    """

    def __init__(
        self,
        config: CameraConfig,
        *,
        node_id: str = "",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        capture_factory: Callable[..., CaptureLoop] = CaptureLoop,
        pipeline_factory: Callable[..., AnalysisPipeline] = AnalysisPipeline,
    ):
        self.config = config
        self.camera_id = config.id
        self.node_id = node_id
        self._clock = clock
        self._wall_clock = wall_clock
        self._capture_factory = capture_factory
        self._pipeline_factory = pipeline_factory
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._capture: CaptureLoop | None = None
        self._pipeline: AnalysisPipeline | None = None
        self._failure: str | None = None  # a configuration failure that capture cannot fix
        self.ring = DetectionRing(config.id, config.output.ring_size)
        self.jpegs = JpegCache(config.id, config.output.jpeg_quality)
        self._usage = ProcessUsage(clock=clock)
        self._analysed = 0
        self._detector_runs = 0
        self._analysis_errors = 0
        self._rate_out = RateMeter(clock=clock)
        self._stage = {name: Ewma() for name in ("resize", "motion", "detector", "tracker")}
        self._latency = Ewma()
        self._meters = CameraMeters()  # cumulative histograms/counters for Prometheus

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Build the pipeline and start capturing. A model that cannot be loaded
        puts the camera in FAILED with the reason, instead of raising: the actor
        must stay up so its state can be read."""
        self._stop.clear()
        try:
            self._pipeline = self._pipeline_factory(self.camera_id, self.config.analysis, clock=self._clock)
        except (ModelError, ValueError, OSError) as exc:
            self._failure = f"analysis setup failed: {exc}"
            logger.error("camera %s: %s", self.camera_id, self._failure)
            self._usage.restart()
            return
        self._failure = None
        self._capture = self._capture_factory(
            self.camera_id,
            self.config.source,
            clock=self._clock,
            wall_clock=self._wall_clock,
            opener=self._meters.timed_opener(open_source),
            on_state_change=self._meters.on_capture_state,
        )
        # Decode only what is asked for: the analysis thread and JPEG readers request frames.
        self._capture.retrieve_fps = 0
        self._capture.start()
        self._thread = threading.Thread(target=self._analysis_loop, name=f"analysis-{self.camera_id}", daemon=True)
        self._thread.start()
        self._usage.restart()  # CPU readings describe the running camera, not its start-up

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._capture is not None:
            self._capture.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def update(self, config: CameraConfig) -> None:
        """Apply a new desired state. Only what changed is rebuilt; the ring (and so
        subscribers' sequence numbers) survives."""
        if config.id != self.camera_id:
            raise ValueError(f"cannot change camera id from {self.camera_id!r} to {config.id!r}")
        if config == self.config:
            return
        self.stop()
        self.config = config
        self.jpegs.default_quality = config.output.jpeg_quality
        self.start()

    # ---- analysis thread -------------------------------------------------------------

    def _analysis_loop(self) -> None:
        assert self._capture is not None and self._pipeline is not None
        capture, pipeline = self._capture, self._pipeline
        interval = 1.0 / self.config.analysis.fps
        next_due = self._clock()
        last_sequence = 0
        while not self._stop.is_set():
            delay = next_due - self._clock()
            if delay > 0 and self._stop.wait(delay):
                break
            capture.request_frame()
            frame = capture.wait_frame(last_sequence, _FRAME_WAIT_S)
            if frame is None:
                next_due = self._clock()
                continue
            last_sequence = frame.sequence
            try:
                result = pipeline.process(frame)
            except Exception:  # a bad frame must not kill the camera
                self._analysis_errors += 1
                self._meters.count_analysis_error()
                logger.exception("camera %s: analysis failed on frame %d", self.camera_id, frame.sequence)
                continue
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
            with self._lock:
                self._analysed += 1
                self._detector_runs += int(result.detector_ran)
                self._rate_out.tick()
                self._latency.add(max(0.0, publish_time - frame.capture_time))
                for name, seconds in result.stage_seconds.items():
                    self._stage.setdefault(name, Ewma()).add(seconds)
            self._meters.observe_analysis(
                result.stage_seconds, result.detections, max(0.0, publish_time - frame.capture_time)
            )
            # Keep the cadence, but never try to catch up with a burst after a stall.
            now = self._clock()
            next_due = max(next_due + interval, now - interval)

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
                mode=self._pipeline.mode if self._pipeline is not None else "none",
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
            )

    def pull_detections(self, after_sequence: int, max_batches: int = 256, timeout_s: float = 0.0) -> DetectionPull:
        return self.ring.pull(after_sequence, max_batches, timeout_s)

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
