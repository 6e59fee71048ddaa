"""The pipeline stages that turn analysis into events, and the one that keeps masked
areas out of it:

    ... detector | motion regions -> privacy -> tracker -> rules -> tamper

- `PrivacyStage` drops detections mostly inside the privacy masks, before they
  are tracked, published or made into events (the pixels are already hidden by
  the frame hook).
- `RulesStage` runs the camera's zones and lines (`cluster.video.rules`) on
  frames whose detections were computed.
- `TamperStage` samples analysed frames for tampering (`cluster.video.tamper`).

Both event stages emit through one `EventEmitter` per pipeline, whose revisions
the pipeline puts into the frame's `AnalysisResult.events`. On a live update the
new stages continue the old ones (`previous`): the hand-over happens in the new
stage's first `run`, when the old pipeline no longer runs, never while it is
being built.
"""

from __future__ import annotations

from ..emitter import EventEmitter
from ..privacy import MaskCoverage
from ..rules import RuleEngine
from ..tamper import TamperDetector
from .context import FrameContext
from .tracker import Tracker


class PrivacyStage:
    name = "privacy"

    def __init__(self, coverage: MaskCoverage) -> None:
        self.coverage = coverage

    def run(self, context: FrameContext) -> bool:
        if not context.detections:
            return False
        context.detections = self.coverage.visible(context.detections)
        return True


class RulesStage:
    """Runs on every analysed frame: on frames whose detections were computed the rules
    look at them; on the others they only learn which tracks the tracker no longer
    keeps (an object that left a motion-only camera's view makes no motion, and so no
    new detections, but its track still ages out)."""

    name = "rules"

    def __init__(
        self,
        engine: RuleEngine,
        emitter: EventEmitter,
        tracker: Tracker | None,
        previous: RulesStage | None = None,
    ) -> None:
        self.engine = engine
        self.emitter = emitter
        self.tracker = tracker
        self._previous = previous

    def run(self, context: FrameContext) -> bool:
        self._take_over()
        if not self.engine.monitors or self.tracker is None:
            return False
        detections = context.detections if context.fresh_detections else ()
        live = self.tracker.live_ids(context.timestamp)
        self.engine.process(context.frame, detections, live, self.emitter)
        return True

    def finish(self) -> None:
        self._take_over()
        self.engine.finish(self.emitter)

    def _take_over(self) -> None:
        if self._previous is not None:
            self.engine.take_over(self._previous.engine, self.emitter)
            self._previous = None


class TamperStage:
    """`detector` None: tamper detection is off (the stage still ends what a previous
    one had open)."""

    name = "tamper"

    def __init__(
        self, detector: TamperDetector | None, emitter: EventEmitter, previous: TamperStage | None = None
    ) -> None:
        self.detector = detector
        self.emitter = emitter
        self._previous = previous

    def run(self, context: FrameContext) -> bool:
        self._take_over()
        if self.detector is None:
            return False
        return self.detector.process(context.frame, context.image, self.emitter)

    def finish(self) -> None:
        self._take_over()
        if self.detector is not None:
            self.detector.finish(self.emitter)

    def _take_over(self) -> None:
        previous, self._previous = self._previous, None
        old = previous.detector if previous is not None else None
        if old is None:
            return
        if self.detector is not None and self.detector.continues(old):
            self.detector.take_over(old)
        else:
            old.finish(self.emitter)  # off, or new settings and so new learning: end what was open
