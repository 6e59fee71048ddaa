"""One camera's analysis: downscale -> motion -> detector -> privacy -> tracker ->
rules -> tamper, as stages.

Time in here is media time: the detector's rate budget, the tracker's ages and
the rules' dwell times follow `Frame.pts`, never a clock, so a file analysed at
20x real time gives the same detections, track ids and events as the same file
played live.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import cv2
import numpy as np

from cluster.config.analysis import AnalysisConfig, DetectorConfig
from cluster.config.camera import MOTION_CLASS
from cluster.domain import AnalysisMode, AnalysisResult, Detection, Event, Frame

from ..emitter import EventEmitter, Thumbnailer
from ..geometry import Polygon
from ..privacy import MaskCoverage
from ..rules import RuleEngine
from ..sampler import RateSchedule
from ..settings import EventSettings
from ..tamper import TamperDetector
from .context import FrameContext, Stage
from .detector import Detector, load_detector
from .event_stages import PrivacyStage, RulesStage, TamperStage
from .motion import MotionDetector
from .tracker import Tracker

__all__ = ["MOTION_CLASS", "AnalysisPipeline", "FrameContext", "Stage"]


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

    The budget is a `RateSchedule` over the frames' media time: `max_fps` runs per
    second of footage on average, no burst after an idle stretch.
    """

    name = "detector"

    def __init__(self, detector: Detector, schedule: RateSchedule, gate_on_motion: bool) -> None:
        self.detector = detector
        self.schedule = schedule
        self.gate_on_motion = gate_on_motion
        self.runs = 0

    @property
    def interval(self) -> float:
        return self.schedule.interval

    def run(self, context: FrameContext) -> bool:
        if self.gate_on_motion and not context.motion:
            return False
        if not self.schedule.due(context.timestamp):
            return False
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
    """Analyses one camera's frames; plain Python, no Ray, no clock.

    Detections are reported only on frames where the detector ran; other frames
    carry an empty tuple and `detector_ran=False` (motion is still reported). A
    consumer that wants "what is there now" keeps the newest batch with
    detector_ran=True; re-sending stale boxes on every frame would make them look
    fresh.

    `detector` replaces the one `config.detector` would load (for a shared or
    custom detector); its rate limit is `config.detector.max_fps` when that is set,
    otherwise every analysed frame. A detector that fails to load raises
    `ModelError` here, at construction. `extra_stages` run after the tracker, in
    order.

    `events` (from the camera's configuration) adds the event side: a privacy
    stage before the tracker (detections mostly inside the privacy masks are
    dropped), and after everything else the rules and the tamper stages; the
    frame's event revisions come back in `AnalysisResult.events`, and `finish()`
    ends what is still open when the footage ends. Rules need the tracker, and
    their classes must be ones the detections can have (ValueError otherwise).

    `previous` is the pipeline this one replaces after a settings change (a live
    update). What did not change is carried over instead of rebuilt: the loaded
    detector (unless its model settings changed), the detector's budget schedule
    (unless `max_fps` changed), the motion background (unless width, history or
    var_threshold changed: `MotionDetector.continued`), the tracker with its live
    tracks (unless its settings or the detector changed; a new tracker still
    continues the old one's ids), the state of unchanged rules and the tamper
    detector's learnt view (see `event_stages.py`) and, when none are given, the
    extra stages. The
    carried-over parts are only referenced here, never read, so the new pipeline
    can be built while `previous` is still analysing; the caller swaps them
    between two frames, and the two must never process frames at the same time.
    """

    def __init__(
        self,
        camera_id: str,
        config: AnalysisConfig,
        detector: Detector | None = None,
        extra_stages: Sequence[Stage] | None = None,
        *,
        events: EventSettings | None = None,
        previous: AnalysisPipeline | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.config = config
        detector = self._detector(config, detector, previous)
        self.detector = detector
        stages: list[Stage] = [ResizeStage(config.width)]
        self.motion: MotionDetector | None = None
        if config.motion.enabled:
            previous_motion = previous.motion if previous is not None else None
            self.motion = (
                previous_motion.continued(config.motion)
                if previous_motion is not None
                else MotionDetector(config.motion)
            )
            stages.append(MotionStage(self.motion))
        self._detector_stage: DetectorStage | None = None
        produces_detections = True
        if detector is not None:
            max_fps = config.detector.max_fps if config.detector is not None else None
            gate = config.motion.enabled and config.motion.gate_detector
            self._detector_stage = DetectorStage(detector, self._schedule(max_fps, previous), gate)
            stages.append(self._detector_stage)
        elif self.motion is not None and config.motion.report_regions:
            stages.append(MotionRegionsStage(self.motion, config.motion.region_min_area))
        else:
            produces_detections = False
        self.events = events
        if events is not None and events.privacy.masks and produces_detections:
            stages.append(PrivacyStage(MaskCoverage([Polygon.of(mask) for mask in events.privacy.masks])))
        self.tracker: Tracker | None = None
        if config.tracker.enabled and produces_detections:
            self.tracker = self._tracker(config, previous)
            stages.append(TrackerStage(self.tracker))
        if extra_stages is None:
            extra_stages = previous.extra_stages if previous is not None else ()
        self.extra_stages: tuple[Stage, ...] = tuple(extra_stages)
        stages.extend(self.extra_stages)
        self.emitter: EventEmitter | None = None
        self._rules_stage: RulesStage | None = None
        self._tamper_stage: TamperStage | None = None
        if events is not None:
            self.emitter = EventEmitter(
                camera_id,
                thumbnails=Thumbnailer(events.thumbnail_width, events.thumbnail_quality),
                pts_origin=events.pts_origin,
                job_id=events.job_id,
            )
            self._rules_stage = self._rules(events, self.emitter, previous)
            self._tamper_stage = self._tamper(events, self.emitter, previous)
            stages.extend((self._rules_stage, self._tamper_stage))
        self.stages: tuple[Stage, ...] = tuple(stages)

    def _rules(self, events: EventSettings, emitter: EventEmitter, previous: AnalysisPipeline | None) -> RulesStage:
        if not events.rules.empty:
            if self.tracker is None:
                raise ValueError("rules follow tracked objects: the camera needs detections and analysis.tracker")
            self._check_rule_classes(events)
        before = previous._rules_stage if previous is not None else None
        return RulesStage(RuleEngine(events.rules, events.timezone), emitter, self.tracker, previous=before)

    @staticmethod
    def _tamper(events: EventSettings, emitter: EventEmitter, previous: AnalysisPipeline | None) -> TamperStage:
        masks = [Polygon.of(mask) for mask in events.privacy.masks]
        detector = TamperDetector(events.tamper, masks) if events.tamper.enabled else None
        before = previous._tamper_stage if previous is not None else None
        return TamperStage(detector, emitter, previous=before)

    def _check_rule_classes(self, events: EventSettings) -> None:
        """The classes the rules filter on must be ones the detections can carry."""
        if self.detector is None:
            known: tuple[str, ...] = (MOTION_CLASS,)
        elif self.config.detector is not None and self.config.detector.classes is not None:
            known = tuple(self.config.detector.classes)
        else:
            known = tuple(self.detector.class_names)
        rules = [("zones", i, zone.filters) for i, zone in enumerate(events.rules.zones)]
        rules += [("lines", i, line.filters) for i, line in enumerate(events.rules.lines)]
        for kind, index, rule_filter in rules:
            unknown = [name for name in rule_filter.classes or () if name not in known]
            if unknown:
                shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
                raise ValueError(
                    f"rules.{kind}.{index}.filters.classes: unknown class {unknown[0]!r}; "
                    f"the detections of this camera have {len(known)} classes ({shown})"
                )

    @staticmethod
    def _detector(config: AnalysisConfig, given: Detector | None, previous: AnalysisPipeline | None) -> Detector | None:
        if given is not None:
            return given
        if config.detector is None:
            return None
        if (
            previous is not None
            and previous.detector is not None
            and previous.config.detector is not None
            and _model_settings(previous.config.detector) == _model_settings(config.detector)
        ):
            return previous.detector
        return load_detector(config.detector)

    @staticmethod
    def _schedule(max_fps: float | None, previous: AnalysisPipeline | None) -> RateSchedule:
        stage = previous._detector_stage if previous is not None else None
        if stage is not None and stage.schedule.fps == max_fps:
            return stage.schedule
        return RateSchedule(max_fps)

    def _tracker(self, config: AnalysisConfig, previous: AnalysisPipeline | None) -> Tracker:
        old = previous.tracker if previous is not None else None
        if old is None:
            return Tracker(config.tracker)
        assert previous is not None
        # Tracks describe what made the detections: the same detector, or for
        # motion-only cameras the same motion settings.
        same_source = previous.detector is self.detector and (
            self.detector is not None or previous.config.motion == config.motion
        )
        if same_source and previous.config.tracker == config.tracker:
            return old
        return Tracker(config.tracker, ids=old.ids)

    @property
    def mode(self) -> AnalysisMode:
        return AnalysisMode.MOTION_ONLY if self.detector is None else AnalysisMode.DETECTOR

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
        context = FrameContext(frame=frame, image=image, timestamp=frame.pts)
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
            events=self.emitter.drain() if self.emitter is not None else (),
        )

    def finish(self) -> tuple[Event, ...]:
        """The footage is over (end of a file, or the camera stops): every tracked object
        counts as gone and every open event ends. Returns those last revisions; the
        pipeline must not process frames afterwards."""
        if self.emitter is None or self._rules_stage is None or self._tamper_stage is None:
            return ()
        self._rules_stage.finish()
        self._tamper_stage.finish()
        return self.emitter.drain()


def _model_settings(config: DetectorConfig) -> dict[str, object]:
    """What a loaded detector depends on: everything but its run budget."""
    return config.model_dump(exclude={"max_fps"})
