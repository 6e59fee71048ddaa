"""Events: what the rules engine makes of detections and of a camera's health.

An event has a start and, once it is over, an end; between the two its producer
sends updates (dwell growing, a better peak, the end) as new *revisions* of the
same event, with the same `event_id`. `event_id()` is a pure function of what
identifies the event (camera, rule, track, start frame time, type and batch job),
so a retry, a replay of the same footage or a restart of the producer gives the
same id again, and the store keeps one row per event whatever happens.

Fields that identify an event (`camera_id`, `type`, `rule`, `track_id`, `job_id`,
`start_time`, `start_pts`) are fixed by its first revision; the others may change
from one revision to the next.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from dataclasses import dataclass, field

from .detections import Box

EVENT_ID_LENGTH = 32  # hex characters of sha256: 128 bits, no collisions in practice


class EventType(str, enum.Enum):
    ZONE_ENTER = "zone_enter"  # an object came into a zone (after the zone's inertia)
    ZONE_LEAVE = "zone_leave"  # an object left a zone; `dwell_s` is how long it stayed
    LOITERING = "loitering"  # an object stayed in a zone longer than the rule allows
    OCCUPANCY = "occupancy"  # more objects in a zone than the rule allows; `count` is the peak
    LINE_CROSSING = "line_crossing"  # a track crossed a line; `direction` says which way
    STREAM_LOST = "stream_lost"  # the camera's stream is gone (ends when it is back)
    STREAM_STALLED = "stream_stalled"  # connected but no frames arrive
    TAMPER_BLACK = "tamper_black"  # the view went black
    TAMPER_UNIFORM = "tamper_uniform"  # the view is one uniform colour (covered, sprayed)
    TAMPER_DEFOCUS = "tamper_defocus"  # the view lost its sharpness
    TAMPER_MOVED = "tamper_moved"  # the scene no longer matches the camera's reference view


class Severity(str, enum.Enum):
    ALERT = "alert"  # someone in the duty room should look now
    INFO = "info"  # recorded and searchable, nobody is paged


class Direction(str, enum.Enum):
    A_TO_B = "a_to_b"  # from the line's A side to its B side
    B_TO_A = "b_to_a"


def event_id(  # noqa: PLR0917 - the identity is these six values, in this order
    camera_id: str,
    rule: str,
    track_id: int | None,
    start_pts: float,
    type: EventType | str,
    job_id: str | None = None,
) -> str:
    """The stable id of an event: the same arguments always give the same id, any
    difference in one of them gives another. sha256 of a canonical JSON encoding
    (no separator ambiguity between fields), first 32 hex characters."""
    event_type = EventType(type).value
    pts = float(start_pts) + 0.0  # 3 and 3.0 are one time; -0.0 is 0.0
    if not math.isfinite(pts):
        raise ValueError(f"start_pts must be a finite number, got {start_pts!r}")
    canonical = json.dumps([camera_id, rule, track_id, repr(pts), event_type, job_id], separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:EVENT_ID_LENGTH]


@dataclass(frozen=True, slots=True)
class Event:
    """One event, as of one revision.

    - `event_id`: `event_id(camera_id, rule, track_id, start_pts, type, job_id)`; use `Event.new`.
    - `camera_id`: the camera it happened on.
    - `type`, `severity`: what happened and how urgent it is (clients filter on severity).
    - `rule`: name of the zone, line or health rule that made it.
    - `start_time`, `end_time`: wall clock, epoch seconds; `end_time` is None while it goes on.
    - `start_pts`, `end_pts`: media time of the first and last frame (`Frame.pts`), seconds.
    - `class_name`: the object's class; None for camera health events.
    - `track_id`: the tracker's id of the object; None for health and occupancy events.
    - `direction`: which way a line was crossed; None for other types.
    - `dwell_s`: seconds the object has been in the zone (zone_leave, loitering).
    - `count`: objects in the zone (occupancy): the peak so far.
    - `peak_confidence`, `peak_box`: the best detection of the object during the event.
    - `job_id`: the batch reprocessing job that found it; None for live events.
    - `revision`: 0 for the start, one more for each update; a store keeps the highest.
    - `thumbnail`: JPEG of the frame at the peak (privacy masks applied), or None. An
      update without one keeps the thumbnail stored for an earlier revision.
    """

    event_id: str
    camera_id: str
    type: EventType
    severity: Severity
    rule: str
    start_time: float
    start_pts: float
    end_time: float | None = None
    end_pts: float | None = None
    class_name: str | None = None
    track_id: int | None = None
    direction: Direction | None = None
    dwell_s: float | None = None
    count: int | None = None
    peak_confidence: float | None = None
    peak_box: Box | None = None
    job_id: str | None = None
    revision: int = 0
    thumbnail: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _coerce_enum(self, "type", EventType)
        _coerce_enum(self, "severity", Severity)
        if self.direction is not None:
            _coerce_enum(self, "direction", Direction)
        for name in ("event_id", "camera_id", "rule"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"Event.{name} must be a non-empty string, got {value!r}")
        for name in ("start_time", "start_pts", "end_time", "end_pts", "dwell_s", "peak_confidence"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ValueError(f"Event.{name} must be a finite number, got {value!r}")
        if self.end_time is not None and self.end_time < self.start_time:
            raise ValueError(f"Event.end_time ({self.end_time}) is before start_time ({self.start_time})")
        if self.dwell_s is not None and self.dwell_s < 0:
            raise ValueError(f"Event.dwell_s must be >= 0, got {self.dwell_s}")
        if self.peak_confidence is not None and not 0.0 <= self.peak_confidence <= 1.0:
            raise ValueError(f"Event.peak_confidence must be within 0..1, got {self.peak_confidence}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"Event.count must be >= 0, got {self.count}")
        if not isinstance(self.revision, int) or self.revision < 0:
            raise ValueError(f"Event.revision must be an integer >= 0, got {self.revision!r}")
        if self.thumbnail is not None and not isinstance(self.thumbnail, bytes):
            raise ValueError(f"Event.thumbnail must be JPEG bytes or None, got {type(self.thumbnail).__name__}")

    @classmethod
    def new(
        cls,
        camera_id: str,
        type: EventType | str,
        severity: Severity | str,
        rule: str,
        *,
        start_time: float,
        start_pts: float,
        **fields,
    ) -> Event:
        """An event with its id computed from the identifying fields (revision 0 unless given)."""
        identity = event_id(camera_id, rule, fields.get("track_id"), start_pts, type, fields.get("job_id"))
        return cls(identity, camera_id, EventType(type), Severity(severity), rule, start_time, start_pts, **fields)

    @property
    def ongoing(self) -> bool:
        return self.end_time is None


def _coerce_enum(event: Event, name: str, enum_type: type[enum.Enum]) -> None:
    value = getattr(event, name)
    if isinstance(value, enum_type):
        return
    try:
        object.__setattr__(event, name, enum_type(value))
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum_type)
        raise ValueError(f"Event.{name} {value!r} is not one of: {allowed}") from None
