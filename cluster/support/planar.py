"""Plane geometry on plain (x, y) pairs, shared by config validation and the video core.

Kept here, in the leaf helpers, because `cluster.config` must reject a
self-intersecting zone before anything runs and `cluster.video.geometry` must
agree with it exactly; neither may import the other's layer.
"""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, float]

# Cross products smaller than this are collinear: normalised coordinates come
# from people and YAML, so anything closer than this is the same line.
COLLINEAR_EPSILON = 1e-12


def cross(origin: Point, a: Point, b: Point) -> float:
    """z of (a - origin) x (b - origin): > 0 when origin -> a -> b turns counter-clockwise
    in a y-up frame (clockwise on screen, where y grows downwards)."""
    return (a[0] - origin[0]) * (b[1] - origin[1]) - (a[1] - origin[1]) * (b[0] - origin[0])


def _orientation(origin: Point, a: Point, b: Point) -> int:
    value = cross(origin, a, b)
    if abs(value) <= COLLINEAR_EPSILON:
        return 0
    return 1 if value > 0 else -1


def _on_segment(p: Point, q: Point, r: Point) -> bool:
    """Whether r, collinear with p-q, lies within the segment's bounding box."""
    return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(p[1], q[1])


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Whether the closed segments p1-p2 and q1-q2 share at least one point."""
    o1, o2 = _orientation(p1, p2, q1), _orientation(p1, p2, q2)
    o3, o4 = _orientation(q1, q2, p1), _orientation(q1, q2, p2)
    if o1 != o2 and o3 != o4 and 0 not in (o1, o2, o3, o4):
        return True
    return (
        (o1 == 0 and _on_segment(p1, p2, q1))
        or (o2 == 0 and _on_segment(p1, p2, q2))
        or (o3 == 0 and _on_segment(q1, q2, p1))
        or (o4 == 0 and _on_segment(q1, q2, p2))
    )


def self_intersection(points: Sequence[Point]) -> tuple[int, int] | None:
    """The first pair of edges (i, j) of the closed polygon `points` that touch or
    cross although they are not neighbours, or None for a simple polygon. Edge i
    runs from points[i] to points[i + 1] (the last one back to points[0]).

    Two neighbouring edges may only share their common vertex: one that folds
    back onto the other (a spike) counts as an intersection too.
    """
    count = len(points)
    edges = [(points[i], points[(i + 1) % count]) for i in range(count)]
    for i in range(count):
        for j in range(i + 1, count):
            (a1, a2), (b1, b2) = edges[i], edges[j]
            neighbours = j == i + 1 or (i == 0 and j == count - 1)
            if neighbours:
                # They share a vertex; they intersect further only if collinear and overlapping.
                shared, far_a, far_b = (a2, a1, b2) if j == i + 1 else (a1, a2, b1)
                if _orientation(shared, far_a, far_b) == 0 and _dot(shared, far_a, far_b) > 0:
                    return (i, j)
                continue
            if segments_intersect(a1, a2, b1, b2):
                return (i, j)
    return None


def _dot(origin: Point, a: Point, b: Point) -> float:
    return (a[0] - origin[0]) * (b[0] - origin[0]) + (a[1] - origin[1]) * (b[1] - origin[1])


def polygon_area(points: Sequence[Point]) -> float:
    """Absolute area of the closed polygon (shoelace formula)."""
    total = 0.0
    for i, (x0, y0) in enumerate(points):
        x1, y1 = points[(i + 1) % len(points)]
        total += x0 * y1 - x1 * y0
    return abs(total) / 2.0
