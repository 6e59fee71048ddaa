"""Shared geometry on normalised frame coordinates (0..1 on both axes, y down).

Zones, masks and counting lines are all drawn in normalised coordinates, so they
do not depend on the analysis or display resolution. Here: polygons with a
point-in-polygon test and a rasterised pixel mask, the side of a directed line a
point is on, and whether (and which way) a moving point crossed a line segment.
The motion stage's and the privacy masks use `polygons_mask`; event zones use
`Polygon.contains` on a box's `anchor_point`, and counting lines `Line.offset`
(signed distance, for a dead band around the line) and `Line.crossing`.

Conventions. A point exactly on a polygon's edge may be reported either way
(the even-odd test decides it), as may a pixel whose centre is on the edge.
`side_of` uses the sign of the cross product in image coordinates (y down):
LEFT means "to the left of the line for someone walking along it as drawn on
screen". A crossing needs the two positions strictly on opposite sides and the
movement to cut the segment itself (touching an end point counts).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from cluster.domain import Box
from cluster.support.planar import self_intersection

Point = tuple[float, float]
Anchor = Literal["bottom-center", "center", "top-center"]


def anchor_point(box: Box, anchor: Anchor) -> Point:
    """The point of `box` that stands for the object: its feet (bottom-center), its
    middle, or its top."""
    x = box.x + box.w / 2.0
    if anchor == "bottom-center":
        return (x, box.y + box.h)
    if anchor == "center":
        return (x, box.y + box.h / 2.0)
    if anchor == "top-center":
        return (x, box.y)
    raise ValueError(f"unknown anchor {anchor!r}: expected bottom-center, center or top-center")


@dataclass(frozen=True, slots=True)
class Polygon:
    """A simple polygon in normalised coordinates, at least three points in 0..1."""

    points: tuple[Point, ...]

    def __post_init__(self) -> None:
        if len(self.points) < 3:
            raise ValueError(f"a polygon needs at least 3 points, got {len(self.points)}")
        for x, y in self.points:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"polygon point ({x}, {y}) is outside 0..1 (coordinates are normalised)")

    @classmethod
    def of(cls, points: Iterable[Sequence[float]]) -> Polygon:
        return cls(tuple((float(x), float(y)) for x, y in points))

    @property
    def simple(self) -> bool:
        """No two edges cross or touch except neighbours at their shared vertex (the
        check the config applies to zones and privacy masks)."""
        return self_intersection(self.points) is None

    def contains(self, point: Point) -> bool:
        """Even-odd rule: whether `point` lies inside."""
        x, y = point
        inside = False
        previous = self.points[-1]
        for current in self.points:
            (x0, y0), (x1, y1) = previous, current
            if (y0 > y) != (y1 > y):  # the edge spans the point's row
                x_at_y = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
                if x < x_at_y:
                    inside = not inside
            previous = current
        return inside

    def pixel_points(self, width: int, height: int) -> np.ndarray:
        """The vertices in pixels of a width x height image, rounded, as cv2 wants them."""
        scaled = np.array([[x * width, y * height] for x, y in self.points], dtype=np.float64)
        return np.round(scaled).astype(np.int32)

    def mask(self, width: int, height: int) -> np.ndarray:
        """An HxW uint8 image, 255 on the polygon's pixels, 0 elsewhere."""
        return polygons_mask((self,), width, height)


def polygons_mask(polygons: Iterable[Polygon], width: int, height: int) -> np.ndarray:
    """An HxW uint8 image, 255 on the pixels of any of `polygons`, 0 elsewhere."""
    if width < 1 or height < 1:
        raise ValueError(f"a mask needs a positive size, got {width}x{height}")
    mask = np.zeros((height, width), dtype=np.uint8)
    for polygon in polygons:
        cv2.fillPoly(mask, [polygon.pixel_points(width, height)], 255)
    return mask


class Side(enum.IntEnum):
    """Where a point is relative to a directed line (image coordinates, y down)."""

    RIGHT = -1
    ON = 0
    LEFT = 1


def side_of(point: Point, start: Point, end: Point) -> Side:
    """Which side of the directed line start -> end `point` is on.

    Computed from the line's lower end point (by x, then y) whichever way it is
    drawn, so reversing a line flips the side exactly, rounding included.
    """
    flip = end < start
    origin, far = (end, start) if flip else (start, end)
    cross = (far[0] - origin[0]) * (point[1] - origin[1]) - (far[1] - origin[1]) * (point[0] - origin[0])
    if flip:
        cross = -cross
    # y grows downwards, so a positive cross product is on the right as seen on screen.
    if cross > 0:
        return Side.RIGHT
    if cross < 0:
        return Side.LEFT
    return Side.ON


class Crossing(enum.Enum):
    """Which way a movement crossed a directed line."""

    LEFT_TO_RIGHT = "left-to-right"
    RIGHT_TO_LEFT = "right-to-left"


@dataclass(frozen=True, slots=True)
class Line:
    """A directed counting line (segment) in normalised coordinates."""

    start: Point
    end: Point

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError(f"a line needs two different points, got {self.start} twice")

    def side_of(self, point: Point) -> Side:
        return side_of(point, self.start, self.end)

    @property
    def length(self) -> float:
        return math.dist(self.start, self.end)

    def offset(self, point: Point) -> float:
        """Signed distance from `point` to the line through start and end, in
        normalised units: positive on the LEFT (as `side_of`), negative on the RIGHT."""
        (x0, y0), (x1, y1) = self.start, self.end
        cross = (x1 - x0) * (point[1] - y0) - (y1 - y0) * (point[0] - x0)
        return -cross / self.length  # y grows downwards: a positive cross product is on the right

    def crossing(self, before: Point, after: Point) -> Crossing | None:
        """How the movement before -> after crossed this segment, or None if it did not."""
        side_before, side_after = self.side_of(before), self.side_of(after)
        if Side.ON in (side_before, side_after) or side_before is side_after:
            return None
        # The movement changes sides of the line; it crossed the segment if the
        # segment's ends are not both on one side of the movement.
        if side_of(self.start, before, after) is side_of(self.end, before, after) is not Side.ON:
            return None
        return Crossing.LEFT_TO_RIGHT if side_before is Side.LEFT else Crossing.RIGHT_TO_LEFT
