"""One zone rule: who is in the zone, and the enter, leave, loitering and occupancy events.

Per tracked object the zone keeps a presence: confirmed in or out, and how many
analysed frames in a row contradicted that (`inertia` of them flip it, so box
jitter at the edge never makes a pair of false enter/leave events). Only frames
where the detections were computed count, and only detections passing the
rule's filter: a frame where the object is missed or filtered out leaves its
presence as it was.

    out --inertia frames in--> in (ZONE_ENTER at the first of those frames)
    in --inertia frames out--> out (ZONE_LEAVE at the first frame out, dwell_s)
    in, tracker dropped the object --> out (ZONE_LEAVE at its last sighting)

Dwell is from the first to the last frame the object was seen inside. While it
stays, dwell over `loitering_s` opens one LOITERING event for that stay (its
start is the entry), updated every `update_interval_s` of footage with the
dwell and the best detection so far, at once with a new thumbnail when the
object is seen clearly better than in the event's picture, and ended when the
object leaves. OCCUPANCY opens when more than
`occupancy_max` objects are in, is updated with each new peak, and ends when
they are no more than that. Time windows only gate the start of events: an
event going on when a window closes still gets its updates and its end, and a
leave is reported only for an entry that was.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cluster.config.rules import ZoneRule
from cluster.domain import Box, Detection, Event, EventType, Frame

from ..emitter import EventEmitter
from ..geometry import Polygon, anchor_point
from .filters import DetectionFilter

# A loitering object seen this much more confidently than in its event's picture gets
# an update with a new picture at once (smaller gains wait for the next update, unpictured).
BETTER_PICTURE = 0.1


@dataclass(slots=True)
class _Presence:
    """One tracked object relative to one zone."""

    class_name: str
    inside: bool = False
    streak: int = 0  # analysed frames in a row that contradicted `inside`
    streak_pts: float = 0.0  # the first of them
    streak_time: float = 0.0
    enter_pts: float = 0.0
    enter_time: float = 0.0
    last_in_pts: float = 0.0
    last_in_time: float = 0.0
    entry_reported: bool = False
    peak_confidence: float = 0.0
    peak_box: Box | None = None
    loitering: Event | None = None
    loitering_sent_pts: float = 0.0
    loitering_thumbnail_confidence: float = 0.0
    loitered: bool = False  # this stay already had its loitering event

    @property
    def dwell(self) -> float:
        return max(0.0, self.last_in_pts - self.enter_pts)


class ZoneMonitor:
    """Applies one `ZoneRule` to a camera's tracked detections, frame by frame."""

    def __init__(self, config: ZoneRule, timezone: zoneinfo.ZoneInfo, update_interval_s: float) -> None:
        self.config = config
        self.update_interval_s = update_interval_s
        self.polygon = Polygon.of(config.polygon)
        self.filter = DetectionFilter(config.filters, timezone)
        self._presences: dict[int, _Presence] = {}
        self._occupancy: Event | None = None
        self._last_pts = 0.0
        self._last_time = 0.0

    @property
    def name(self) -> str:
        return self.config.name

    def occupants(self) -> int:
        return sum(presence.inside for presence in self._presences.values())

    def process(
        self, frame: Frame, detections: Sequence[Detection], live_tracks: Collection[int], emitter: EventEmitter
    ) -> None:
        """One analysed frame whose detections were computed (and tracked)."""
        self._last_pts, self._last_time = frame.pts, frame.capture_time
        for detection in detections:
            if detection.track_id is None or not self.filter.accepts(detection):
                continue
            presence = self._presences.get(detection.track_id)
            if presence is None:
                presence = self._presences[detection.track_id] = _Presence(detection.class_name)
            presence.class_name = detection.class_name
            inside = self.polygon.contains(anchor_point(detection.box, self.config.anchor))
            self._observe(detection, presence, inside, frame, emitter)
        for track_id in [track for track in self._presences if track not in live_tracks]:
            self._gone(track_id, emitter)
        self._check_occupancy(frame, emitter)

    def finish(self, emitter: EventEmitter) -> None:
        """The footage ended: every object counts as gone at its last sighting."""
        for track_id in list(self._presences):
            self._gone(track_id, emitter)
        self._end_occupancy(self._last_pts, self._last_time, emitter)

    def close(self, emitter: EventEmitter) -> None:
        """The rule was removed or changed: end its open events (no more enter/leave)."""
        for presence in self._presences.values():
            if presence.loitering is not None:
                self._end_loitering(presence, presence.last_in_pts, presence.last_in_time, emitter)
        self._presences.clear()
        self._end_occupancy(self._last_pts, self._last_time, emitter)

    # ---- one object --------------------------------------------------------------

    def _observe(
        self, detection: Detection, presence: _Presence, inside: bool, frame: Frame, emitter: EventEmitter
    ) -> None:
        if inside == presence.inside:
            presence.streak = 0
        else:
            if presence.streak == 0:
                presence.streak_pts, presence.streak_time = frame.pts, frame.capture_time
            presence.streak += 1
            if presence.streak >= self.config.inertia:
                if inside:
                    self._enter(detection, presence, frame, emitter)
                else:
                    self._leave(detection, presence, frame, emitter)
        if presence.inside and inside:
            presence.last_in_pts, presence.last_in_time = frame.pts, frame.capture_time
            if detection.confidence >= presence.peak_confidence:
                presence.peak_confidence, presence.peak_box = detection.confidence, detection.box
            self._check_loitering(detection, presence, frame, emitter)

    def _enter(self, detection: Detection, presence: _Presence, frame: Frame, emitter: EventEmitter) -> None:
        presence.inside, presence.streak = True, 0
        presence.enter_pts, presence.enter_time = presence.streak_pts, presence.streak_time
        presence.peak_confidence, presence.peak_box = 0.0, None
        presence.loitered = False
        presence.entry_reported = self.config.report_enter_leave and self.filter.open_at(presence.enter_time)
        if presence.entry_reported:
            emitter.start(
                EventType.ZONE_ENTER,
                self.config.severity,
                self.name,
                start_pts=presence.enter_pts,
                start_time=presence.enter_time,
                instant=True,
                thumbnail_of=frame,
                class_name=detection.class_name,
                track_id=detection.track_id,
                peak_confidence=detection.confidence,
                peak_box=detection.box,
            )

    def _leave(self, detection: Detection, presence: _Presence, frame: Frame, emitter: EventEmitter) -> None:
        presence.inside, presence.streak = False, 0
        self._report_leave(
            detection.track_id, presence, presence.streak_pts, presence.streak_time, emitter, thumbnail_of=frame
        )

    def _gone(self, track_id: int, emitter: EventEmitter) -> None:
        presence = self._presences.pop(track_id)
        if presence.inside:
            self._report_leave(track_id, presence, presence.last_in_pts, presence.last_in_time, emitter)

    def _report_leave(
        self,
        track_id: int | None,
        presence: _Presence,
        pts: float,
        wall_time: float,
        emitter: EventEmitter,
        *,
        thumbnail_of: Frame | None = None,
    ) -> None:
        if presence.loitering is not None:
            self._end_loitering(presence, presence.last_in_pts, presence.last_in_time, emitter)
        if presence.entry_reported:
            emitter.start(
                EventType.ZONE_LEAVE,
                self.config.severity,
                self.name,
                start_pts=pts,
                start_time=wall_time,
                instant=True,
                thumbnail_of=thumbnail_of,
                class_name=presence.class_name,
                track_id=track_id,
                dwell_s=presence.dwell,
                peak_confidence=presence.peak_confidence if presence.peak_box is not None else None,
                peak_box=presence.peak_box,
            )
        presence.entry_reported = False

    # ---- loitering ---------------------------------------------------------------

    def _check_loitering(self, detection: Detection, presence: _Presence, frame: Frame, emitter: EventEmitter) -> None:
        limit = self.config.loitering_s
        if limit is None:
            return
        if presence.loitering is None:
            if presence.loitered or presence.dwell < limit or not self.filter.open_at(frame.capture_time):
                return
            presence.loitered = True
            presence.loitering = emitter.start(
                EventType.LOITERING,
                self.config.severity,
                self.name,
                start_pts=presence.enter_pts,
                start_time=presence.enter_time,
                thumbnail_of=frame,
                class_name=presence.class_name,
                track_id=detection.track_id,
                dwell_s=presence.dwell,
                peak_confidence=presence.peak_confidence,
                peak_box=presence.peak_box,
            )
            presence.loitering_sent_pts = frame.pts
            presence.loitering_thumbnail_confidence = presence.peak_confidence
            return
        better_picture = (
            presence.peak_box is detection.box
            and presence.peak_confidence >= presence.loitering_thumbnail_confidence + BETTER_PICTURE
        )
        if not better_picture and frame.pts - presence.loitering_sent_pts < self.update_interval_s:
            return
        presence.loitering = emitter.update(
            presence.loitering,
            thumbnail_of=frame if better_picture else None,
            dwell_s=presence.dwell,
            peak_confidence=presence.peak_confidence,
            peak_box=presence.peak_box,
        )
        if better_picture:
            presence.loitering_thumbnail_confidence = presence.peak_confidence
        presence.loitering_sent_pts = frame.pts

    def _end_loitering(self, presence: _Presence, pts: float, wall_time: float, emitter: EventEmitter) -> None:
        assert presence.loitering is not None
        emitter.end(
            presence.loitering,
            end_pts=pts,
            end_time=wall_time,
            dwell_s=presence.dwell,
            peak_confidence=presence.peak_confidence,
            peak_box=presence.peak_box,
        )
        presence.loitering = None

    # ---- occupancy ---------------------------------------------------------------

    def _check_occupancy(self, frame: Frame, emitter: EventEmitter) -> None:
        limit = self.config.occupancy_max
        if limit is None:
            return
        count = self.occupants()
        if self._occupancy is None:
            if count > limit and self.filter.open_at(frame.capture_time):
                self._occupancy = emitter.start(
                    EventType.OCCUPANCY,
                    self.config.severity,
                    self.name,
                    start_pts=frame.pts,
                    start_time=frame.capture_time,
                    thumbnail_of=frame,
                    class_name=self.filter.single_class,
                    count=count,
                )
        elif count <= limit:
            self._end_occupancy(frame.pts, frame.capture_time, emitter)
        elif count > (self._occupancy.count or 0):
            self._occupancy = emitter.update(self._occupancy, thumbnail_of=frame, count=count)

    def _end_occupancy(self, pts: float, wall_time: float, emitter: EventEmitter) -> None:
        if self._occupancy is not None:
            emitter.end(self._occupancy, end_pts=pts, end_time=wall_time)
            self._occupancy = None
