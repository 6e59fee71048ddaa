"""Shapes drawn on a camera's view, in normalised coordinates (0..1 on both axes, y down),
and the checks every section that takes one applies."""

from __future__ import annotations

import math

from cluster.support.planar import cross, polygon_area, self_intersection

Point = tuple[float, float]

# A zone or mask smaller than this share of the frame is a typing mistake, not a shape.
MIN_POLYGON_AREA = 1e-6
# Two points of a counting line closer than this (a share of the frame) are the same point.
MIN_LINE_LENGTH = 0.01


def check_polygon(points: list[Point], *, simple: bool = False) -> list[Point]:
    """At least 3 points inside 0..1; with `simple`, also no crossing or touching edges
    and a non-zero area (zones and privacy masks must say unambiguously what is inside)."""
    if len(points) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(points)}")
    for x, y in points:
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"polygon point ({x}, {y}) is outside 0..1 (coordinates are normalised)")
    if simple:
        if _on_one_line(points):
            raise ValueError("the polygon has no area (its points are on one line)")
        crossing = self_intersection(points)
        if crossing is not None:
            i, j = crossing
            raise ValueError(
                f"the polygon intersects itself: edge {i} ({points[i]} -> {points[(i + 1) % len(points)]}) "
                f"meets edge {j} ({points[j]} -> {points[(j + 1) % len(points)]}); list the points in order around it"
            )
        if polygon_area(points) < MIN_POLYGON_AREA:
            raise ValueError(f"the polygon's area {polygon_area(points):.2g} is too small to be a zone or mask")
    return points


def _on_one_line(points: list[Point]) -> bool:
    origin = points[0]
    far = max(points, key=lambda p: math.dist(origin, p))
    return all(abs(cross(origin, far, p)) <= MIN_POLYGON_AREA for p in points)


def check_line(start: Point, end: Point) -> None:
    length = math.dist(start, end)
    if length < MIN_LINE_LENGTH:
        raise ValueError(
            f"the line from {start} to {end} has length {length:.4g}, below {MIN_LINE_LENGTH} of the frame: "
            "give two distinct points"
        )
