"""One counting line: crossings per tracked object, with their direction.

Each object's anchor is placed on side A or side B of the line only when it is
at least `hysteresis` away from it; closer than that it is on neither side and
the object keeps the side it had. A crossing is a change of side whose path
(from the last point seen on the old side to the first point on the new one)
cuts the line's segment, so:

- a box straddling the line, its anchor jittering across it, never counts (it
  stays within the dead band, or flips back without ever leaving it);
- a track crosses once per pass, and a track that goes back crosses again;
- passing beside the segment (around its end) is no crossing.

A track's first position only sets its side. Tracks the tracker dropped are
forgotten. Time windows gate the crossings that make events.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cluster.config.rules import LineRule
from cluster.domain import Detection, Direction, EventType, Frame

from ..emitter import EventEmitter
from ..geometry import Line, Point, Side, anchor_point
from .filters import DetectionFilter


@dataclass(slots=True)
class _Position:
    side: Side  # LEFT or RIGHT, never ON
    point: Point  # the newest anchor seen on that side


class LineMonitor:
    """Applies one `LineRule` to a camera's tracked detections, frame by frame."""

    def __init__(self, config: LineRule, timezone: zoneinfo.ZoneInfo) -> None:
        self.config = config
        self.line = Line(config.start, config.end)
        self.filter = DetectionFilter(config.filters, timezone)
        self.a_side = Side.LEFT if config.a_side == "left" else Side.RIGHT
        self.directions = frozenset(Direction(name) for name in config.directions)
        self._positions: dict[int, _Position] = {}

    @property
    def name(self) -> str:
        return self.config.name

    def process(
        self, frame: Frame, detections: Sequence[Detection], live_tracks: Collection[int], emitter: EventEmitter
    ) -> None:
        for detection in detections:
            if detection.track_id is None or not self.filter.accepts(detection):
                continue
            point = anchor_point(detection.box, self.config.anchor)
            offset = self.line.offset(point)
            if abs(offset) < self.config.hysteresis or offset == 0.0:
                continue  # in the dead band: on neither side
            side = Side.LEFT if offset > 0 else Side.RIGHT
            position = self._positions.get(detection.track_id)
            if position is None:
                self._positions[detection.track_id] = _Position(side, point)
                continue
            if side is not position.side and self.line.crossing(position.point, point) is not None:
                self._crossed(detection, position.side, frame, emitter)
            position.side, position.point = side, point
        for track_id in [track for track in self._positions if track not in live_tracks]:
            del self._positions[track_id]

    def _crossed(self, detection: Detection, from_side: Side, frame: Frame, emitter: EventEmitter) -> None:
        direction = Direction.A_TO_B if from_side is self.a_side else Direction.B_TO_A
        if direction not in self.directions or not self.filter.open_at(frame.capture_time):
            return
        emitter.start(
            EventType.LINE_CROSSING,
            self.config.severity,
            self.name,
            start_pts=frame.pts,
            start_time=frame.capture_time,
            instant=True,
            thumbnail_of=frame,
            class_name=detection.class_name,
            track_id=detection.track_id,
            direction=direction,
            peak_confidence=detection.confidence,
            peak_box=detection.box,
        )

    def finish(self, emitter: EventEmitter) -> None:
        """Crossings are instants: nothing is left open."""
        self._positions.clear()

    def close(self, emitter: EventEmitter) -> None:
        self._positions.clear()
