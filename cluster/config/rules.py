"""Per-camera event rules: zones (enter, leave, loitering, occupancy) and counting lines.

Shapes are in normalised coordinates (0..1 on both axes, y down), like motion
masks. Every rule has a name (unique on its camera: events carry it), filters
that pick the detections it looks at, and a severity clients filter on.
Durations are seconds of footage (media time), so a file reprocessed at 20x
gives the same events as the live camera.
"""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import StrictModel, invalid_at
from .shapes import Point, check_line, check_polygon

Anchor = Literal["bottom-center", "center", "top-center"]
SeverityName = Literal["alert", "info"]
DayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DirectionName = Literal["a_to_b", "b_to_a"]
# Rule names the camera's own health events use; zones and lines may not take them.
HEALTH_RULE_NAMES = ("stream", "tamper")


def _both_directions() -> list[DirectionName]:
    return ["a_to_b", "b_to_a"]


class TimeWindow(StrictModel):
    """A daily stretch of the camera's local time (its `timezone`) when a rule may start events.

    `end` before `start` runs over midnight (22:00 -> 06:00); `days` are the days a
    window starts on (a Friday 22:00 -> 06:00 window includes Saturday 03:00).
    """

    start: datetime.time = Field(..., description="Local time the window opens, e.g. '22:00'.")
    end: datetime.time = Field(..., description="Local time it closes (exclusive); before `start`: the next day.")
    days: list[DayName] = Field(
        default_factory=list, max_length=7, description="Days it opens on ('mon'..'sun'); empty: every day."
    )

    @model_validator(mode="after")
    def _not_empty(self) -> TimeWindow:
        if self.start == self.end:
            raise ValueError(
                f"start and end are both {self.start.isoformat('minutes')}: the window would be empty "
                "(leave out `windows` for a rule that is always on)"
            )
        if len(set(self.days)) != len(self.days):
            raise ValueError(f"days lists a day twice: {self.days}")
        return self


class RuleFilter(StrictModel):
    """Which detections a rule looks at. A detection failing the filter is not seen by
    the rule on that frame (neither inside nor outside)."""

    classes: list[str] | None = Field(
        None,
        min_length=1,
        description="Class names the rule counts (detector classes, or 'motion' without a detector); None: all.",
    )
    min_confidence: float = Field(0.0, ge=0.0, le=1.0, description="Lowest detection confidence counted.")
    min_area: float = Field(0.0, ge=0.0, le=1.0, description="Smallest box counted, as a share of the frame's area.")
    max_area: float = Field(1.0, gt=0.0, le=1.0, description="Largest box counted, as a share of the frame's area.")
    windows: list[TimeWindow] = Field(
        default_factory=list,
        max_length=32,
        description="Local times when the rule may start events; empty: always. Events already going on end normally.",
    )

    @model_validator(mode="after")
    def _area_bounds(self) -> RuleFilter:
        if self.min_area > self.max_area:
            raise ValueError(f"min_area ({self.min_area}) is above max_area ({self.max_area})")
        return self


class ZoneRule(StrictModel):
    """A polygon; objects whose anchor point is inside it are in the zone."""

    name: str = Field(..., min_length=1, max_length=64, description="Unique on the camera; events carry it.")
    polygon: list[Point] = Field(
        ..., description="At least 3 normalised points in order around the zone, edges not crossing."
    )
    anchor: Anchor = Field("bottom-center", description="The point of a box that counts: bottom-center is the feet.")
    inertia: int = Field(
        3,
        ge=1,
        le=100,
        description="Analysed frames in a row an object must be seen in (or out) before it counts as entered (left).",
    )
    report_enter_leave: bool = Field(True, description="Make an event when an object enters and when it leaves.")
    loitering_s: float | None = Field(
        None,
        gt=0.0,
        le=86_400.0,
        description="An object staying longer than this (s of footage) makes a loitering event; None: never.",
    )
    occupancy_max: int | None = Field(
        None, ge=0, le=10_000, description="More objects than this in the zone make an occupancy event; None: never."
    )
    filters: RuleFilter = Field(default_factory=RuleFilter, description="Which detections the zone counts.")
    severity: SeverityName = Field("info", description="'alert' (someone should look now) or 'info'.")

    @field_validator("polygon")
    @classmethod
    def _simple_polygon(cls, polygon: list[Point]) -> list[Point]:
        return check_polygon(polygon, simple=True)


class LineRule(StrictModel):
    """A counting line (a segment). Its A side is on the left of start -> end as seen on
    screen (y down) unless `a_side` says right: a line drawn left to right has A above it,
    so A->B is a downward crossing."""

    name: str = Field(..., min_length=1, max_length=64, description="Unique on the camera; events carry it.")
    start: Point = Field(..., description="First end point, normalised (x, y).")
    end: Point = Field(..., description="Second end point, normalised (x, y).")
    a_side: Literal["left", "right"] = Field(
        "left", description="Which side of start -> end (as seen on screen) is side A."
    )
    directions: list[DirectionName] = Field(
        default_factory=_both_directions,
        min_length=1,
        max_length=2,
        description="Crossing directions that make events.",
    )
    anchor: Anchor = Field("bottom-center", description="The point of a box whose path is followed.")
    hysteresis: float = Field(
        0.02,
        ge=0.0,
        le=0.25,
        description="An anchor this close to the line (share of the frame) is on neither side: jitter never counts.",
    )
    filters: RuleFilter = Field(default_factory=RuleFilter, description="Which detections the line counts.")
    severity: SeverityName = Field("info", description="'alert' (someone should look now) or 'info'.")

    @field_validator("start", "end")
    @classmethod
    def _inside_frame(cls, point: Point) -> Point:
        x, y = point
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"point ({x}, {y}) is outside 0..1 (coordinates are normalised)")
        return point

    @model_validator(mode="after")
    def _has_length(self) -> LineRule:
        check_line(self.start, self.end)
        if len(set(self.directions)) != len(self.directions):
            raise ValueError(f"directions lists a direction twice: {self.directions}")
        return self


class RulesConfig(StrictModel):
    """The event rules of one camera, applied live (an update never reconnects the source)."""

    zones: list[ZoneRule] = Field(default_factory=list, max_length=64, description="Zones.")
    lines: list[LineRule] = Field(default_factory=list, max_length=64, description="Counting lines.")
    update_interval_s: float = Field(
        10.0,
        ge=0.5,
        le=3600.0,
        description="An ongoing event (loitering, occupancy) is re-sent at most this often (s of footage).",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> RulesConfig:
        seen: set[str] = set()
        named = [("zones", i, zone.name) for i, zone in enumerate(self.zones)]
        named += [("lines", i, line.name) for i, line in enumerate(self.lines)]
        for kind, index, name in named:
            if name in HEALTH_RULE_NAMES:
                message = f"rule name {name!r} is reserved for the camera's health events"
                raise invalid_at(RulesConfig, (kind, index, "name"), message, name)
            if name in seen:
                message = f"duplicate rule name {name!r} (zone and line names share one namespace)"
                raise invalid_at(RulesConfig, (kind, index, "name"), message, name)
            seen.add(name)
        return self

    @property
    def empty(self) -> bool:
        return not self.zones and not self.lines
