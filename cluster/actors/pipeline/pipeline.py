"""One camera's analysis: downscale -> motion -> detector -> tracker, as stages."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from cluster.config.analysis import AnalysisConfig
from cluster.domain import AnalysisResult, Detection, Frame

from .detector import Detector, load_detector
from .motion import MotionDetector
from .tracker import Tracker


@dataclass(slots=True)
class FrameContext:
    """What the stages know about the frame being analysed; each stage reads and
    fills in its part."""

    frame: Frame
    image: np.ndarray  # the (possibly downscaled) BGR image the stages work on
    timestamp: float  # from the pipeline's clock: drives rate limiting and track ages
    motion: bool = False
    motion_ratio: float = 0.0
    detections: tuple[Detection, ...] = ()
    detector_ran: bool = False
    fresh_detections: bool = False  # detections were (re)computed this frame: the tracker runs
    notes: dict[str, object] = field(default_factory=dict)  # for stages added later (e.g. rules)


class Stage(Protocol):
    """One step of the pipeline. `run` returns True when it did work this frame;
    only those stages get an entry (their wall time) in `stage_seconds`."""

    name: str

    def run(self, context: FrameContext) -> bool: ...


class ResizeStage:
    name = "resize"

    def __init__(self, width: int) -> None:
        self.width = width

    def run(self, context: FrameContext) -> bool:
        height, width = context.image.shape[:2]
        if width <= self.width:
            return False
        new_height = max(1, round(height * self.width / width))
        # INTER_LINEAR: INTER_AREA at non-integer ratios costs ~6x more (2 ms vs 0.36 ms for
        # 768x432 -> 640, measured) and the later stages resize or blur again anyway.
        context.image = cv2.resize(context.image, (self.width, new_height), interpolation=cv2.INTER_LINEAR)
        return True


class MotionStage:
    name = "motion"

    def __init__(self, motion: MotionDetector) -> None:
        self.motion = motion

    def run(self, context: FrameContext) -> bool:
        context.motion, context.motion_ratio = self.motion.update(context.image)
        return True


MOTION_CLASS = "motion"
MOTION_CLASS_ID = -1


class MotionRegionsStage:
    """Motion-only cameras: moving blobs become 'motion' detections, so the tracker
    and everything downstream (rules, subscribers) work without a model."""

    name = "regions"

    def __init__(self, motion: MotionDetector, min_area: float) -> None:
        self.motion = motion
        self.min_area = min_area

    def run(self, context: FrameContext) -> bool:
        if not context.motion:
            return False
        context.detections = tuple(
            Detection(MOTION_CLASS_ID, MOTION_CLASS, 1.0, box) for box in self.motion.regions(self.min_area)
        )
        context.fresh_detections = True
        return True


class DetectorStage:
    """Runs the detector when the frame moved (if gated) and the budget allows.

    The budget is a schedule, not a minimum gap: each run moves the next due time
    one interval on, so frames arriving slightly off the interval still reach
    `max_fps` on average; after an idle stretch at most half an interval is caught
    up, so there is no burst.
    """

    name = "detector"

    def __init__(self, detector: Detector, max_fps: float | None, gate_on_motion: bool) -> None:
        self.detector = detector
        self.interval = 1.0 / max_fps if max_fps else 0.0
        self.gate_on_motion = gate_on_motion
        self._next_due: float | None = None
        self.runs = 0

    def run(self, context: FrameContext) -> bool:
        if self.gate_on_motion and not context.motion:
            return False
        now = context.timestamp
        if self._next_due is not None and now < self._next_due:
            return False
        previous_due = now if self._next_due is None else self._next_due
        self._next_due = max(previous_due, now - self.interval / 2) + self.interval
        context.detections = self.detector.detect(context.image)
        context.detector_ran = True
        context.fresh_detections = True
        self.runs += 1
        return True


class TrackerStage:
    name = "tracker"

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def run(self, context: FrameContext) -> bool:
        if not context.fresh_detections:
            return False  # nothing new to associate; track ages follow the timestamps
        context.detections = self.tracker.update(context.detections, context.timestamp)
        return True


class AnalysisPipeline:
    """Analyses one camera's frames; plain Python, no Ray.

    Detections are reported only on frames where the detector ran; other frames
    carry an empty tuple and `detector_ran=False` (motion is still reported). A
    consumer that wants "what is there now" keeps the newest batch with
    detector_ran=True; re-sending stale boxes on every frame would make them look
    fresh.

    `detector` replaces the one `config.detector` would load (for a shared or
    custom detector); its rate limit is `config.detector.max_fps` when that is set,
    otherwise every analysed frame. A detector that fails to load raises
    `ModelError` here, at construction. `extra_stages` run after the tracker, in
    order (e.g. rules later on).
    """

    def __init__(
        self,
        camera_id: str,
        config: AnalysisConfig,
        clock: Callable[[], float] = time.monotonic,
        detector: Detector | None = None,
        extra_stages: Sequence[Stage] = (),
    ) -> None:
        self.camera_id = camera_id
        self.config = config
        self._clock = clock
        if detector is None and config.detector is not None:
            detector = load_detector(config.detector)
        self.detector = detector
        stages: list[Stage] = [ResizeStage(config.width)]
        motion = MotionDetector(config.motion) if config.motion.enabled else None
        if motion is not None:
            stages.append(MotionStage(motion))
        self._detector_stage: DetectorStage | None = None
        produces_detections = True
        if detector is not None:
            max_fps = config.detector.max_fps if config.detector is not None else None
            gate = config.motion.enabled and config.motion.gate_detector
            self._detector_stage = DetectorStage(detector, max_fps, gate)
            stages.append(self._detector_stage)
        elif motion is not None and config.motion.report_regions:
            stages.append(MotionRegionsStage(motion, config.motion.region_min_area))
        else:
            produces_detections = False
        if config.tracker.enabled and produces_detections:
            stages.append(TrackerStage(Tracker(config.tracker, clock)))
        stages.extend(extra_stages)
        self.stages: tuple[Stage, ...] = tuple(stages)

    @property
    def mode(self) -> str:
        return "motion-only" if self.detector is None else "detector"

    @property
    def detector_runs(self) -> int:
        return self._detector_stage.runs if self._detector_stage is not None else 0

    def describe(self) -> str:
        """One line for logs and status, e.g. 'motion-only: no detector configured'."""
        motion = self.config.motion
        if self.detector is None:
            regions = ", motion regions reported" if motion.enabled and motion.report_regions else ""
            return "motion-only: no detector configured" + (regions if motion.enabled else ", motion disabled")
        parts = [f"detector: {self.detector.describe()}"]
        stage = self._detector_stage
        assert stage is not None
        parts.append(f"max {1.0 / stage.interval:g} fps" if stage.interval else "every frame")
        parts.append("motion-gated" if stage.gate_on_motion else "not motion-gated")
        tracker = self.config.tracker
        parts.append(f"tracker {tracker.method}" if tracker.enabled else "no tracker")
        return ", ".join(parts)

    def process(self, frame: Frame) -> AnalysisResult:
        image = frame.image
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"camera {self.camera_id}: expected a BGR HxWx3 uint8 image, got {image.shape} {image.dtype}"
            )
        context = FrameContext(frame=frame, image=image, timestamp=self._clock())
        stage_seconds: dict[str, float] = {}
        for stage in self.stages:
            started = time.perf_counter()
            if stage.run(context):
                stage_seconds[stage.name] = time.perf_counter() - started
        return AnalysisResult(
            detections=context.detections,
            motion=context.motion,
            motion_ratio=context.motion_ratio,
            detector_ran=context.detector_ran,
            stage_seconds=stage_seconds,
        )
