"""Drives a `RuleEngine` over made-up tracked detections, frame by frame, as the
pipeline would, and collects the event revisions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from cluster.config import RulesConfig
from cluster.domain import Box, Detection, Event, EventType, Frame
from cluster.video.emitter import EventEmitter, Thumbnailer
from cluster.video.rules import RuleEngine

EPOCH = 1_767_203_600.0  # 2025-12-31 17:53:20 UTC (00:53:20 in Hà Nội): the frames' wall clock
IMAGE = np.full((36, 64, 3), 90, np.uint8)


def feet_at(x: float, y: float, *, track: int = 1, cls: str = "person", confidence: float = 0.8) -> Detection:
    """A 0.1 x 0.2 box whose bottom-centre (its feet) is at (x, y)."""
    return Detection(0, cls, confidence, Box(x - 0.05, y - 0.2, 0.1, 0.2), track_id=track)


class Scene:
    def __init__(self, rules: RulesConfig | dict, *, timezone: str = "UTC", fps: float = 5.0, epoch: float = EPOCH):
        config = rules if isinstance(rules, RulesConfig) else RulesConfig.model_validate(rules)
        self.engine = RuleEngine(config, timezone)
        self.emitter = EventEmitter("cam", thumbnails=Thumbnailer(32, 70))
        self.fps = fps
        self.epoch = epoch
        self.pts = 0.0
        self.sequence = 0
        self.events: list[Event] = []

    def frame(self, detections: Sequence[Detection], live: Iterable[int] | None = None) -> tuple[Event, ...]:
        """One analysed frame 1/fps after the previous one; `live` defaults to the tracks seen."""
        self.sequence += 1
        frame = Frame(self.sequence, self.epoch + self.pts, IMAGE, pts=self.pts)
        live_ids = {d.track_id for d in detections if d.track_id is not None} if live is None else set(live)
        self.engine.process(frame, detections, live_ids, self.emitter)
        self.pts = round(self.pts + 1.0 / self.fps, 6)
        new = self.emitter.drain()
        self.events.extend(new)
        return new

    def frames(self, count: int, detections: Sequence[Detection] = (), live: Iterable[int] | None = None) -> None:
        for _ in range(count):
            self.frame(detections, live)

    def finish(self) -> tuple[Event, ...]:
        self.engine.finish(self.emitter)
        new = self.emitter.drain()
        self.events.extend(new)
        return new

    def of(self, type: EventType) -> list[Event]:
        return [event for event in self.events if event.type is type]
