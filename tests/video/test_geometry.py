"""Shared geometry: polygons, masks, sides and crossings (examples and properties)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cluster.domain import Box
from cluster.video.geometry import Crossing, Line, Polygon, Side, anchor_point, polygons_mask, side_of

unit = st.floats(0.0, 1.0, allow_nan=False)
point = st.tuples(unit, unit)
inner = st.floats(0.05, 0.95, allow_nan=False)

SQUARE = Polygon(((0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)))
HORIZON = Line((0.0, 0.5), (1.0, 0.5))  # drawn left to right across the middle


@st.composite
def rectangles(draw: st.DrawFn) -> tuple[float, float, float, float]:
    x0, x1 = sorted((draw(inner), draw(inner)))
    y0, y1 = sorted((draw(inner), draw(inner)))
    assume(x1 - x0 > 0.05 and y1 - y0 > 0.05)
    return x0, y0, x1, y1


@st.composite
def star_polygons(draw: st.DrawFn) -> Polygon:
    """Simple polygons: vertices at increasing angles around a centre (star-shaped)."""
    cx, cy = draw(st.floats(0.3, 0.7)), draw(st.floats(0.3, 0.7))
    count = draw(st.integers(3, 9))
    angles = sorted(
        draw(st.lists(st.floats(0.0, 2 * math.pi, exclude_max=True), min_size=count, max_size=count, unique=True))
    )
    assume(all(b - a > 0.2 for a, b in itertools.pairwise(angles)) and angles[0] + 2 * math.pi - angles[-1] > 0.2)
    radii = draw(st.lists(st.floats(0.08, 0.28), min_size=count, max_size=count))
    return Polygon(tuple((cx + r * math.cos(a), cy + r * math.sin(a)) for a, r in zip(angles, radii, strict=True)))


def rectangle(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1)))


# ---- polygons ----------------------------------------------------------------------------


def test_a_polygon_needs_three_points_inside_the_unit_square() -> None:
    with pytest.raises(ValueError, match="at least 3 points"):
        Polygon(((0.0, 0.0), (1.0, 1.0)))
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        Polygon(((0.0, 0.0), (1.5, 0.0), (0.0, 1.0)))


def test_point_in_a_square() -> None:
    assert SQUARE.contains((0.5, 0.5)), "the centre is inside"
    assert not SQUARE.contains((0.1, 0.5)), "left of the square is outside"
    assert not SQUARE.contains((0.5, 0.9)), "below the square is outside"


def test_point_in_a_concave_polygon() -> None:
    u_shape = Polygon(((0.1, 0.1), (0.3, 0.1), (0.3, 0.7), (0.7, 0.7), (0.7, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)))
    assert not u_shape.contains((0.5, 0.4)), "the notch of the U is outside"
    assert u_shape.contains((0.2, 0.4)) and u_shape.contains((0.5, 0.8)), "the arms and the base are inside"


def test_mask_covers_the_polygon_in_pixels() -> None:
    mask = SQUARE.mask(40, 20)
    assert mask.shape == (20, 40) and mask.dtype == np.uint8
    assert mask[10, 20] == 255 and mask[2, 2] == 0, "inside 255, outside 0"
    assert set(np.unique(mask)) == {0, 255}


def test_mask_of_several_polygons_is_their_union() -> None:
    left, right = rectangle(0.0, 0.0, 0.3, 1.0), rectangle(0.7, 0.0, 1.0, 1.0)
    union = polygons_mask((left, right), 50, 10)
    assert (union == np.maximum(left.mask(50, 10), right.mask(50, 10))).all()


def test_mask_needs_a_positive_size() -> None:
    with pytest.raises(ValueError, match="positive size"):
        SQUARE.mask(0, 10)


@settings(max_examples=100, deadline=None)
@given(box=rectangles(), p=point)
def test_contains_agrees_with_bounds_for_rectangles(box: tuple[float, float, float, float], p: tuple) -> None:
    x0, y0, x1, y1 = box
    margin = 1e-9
    assume(min(abs(p[0] - x0), abs(p[0] - x1), abs(p[1] - y0), abs(p[1] - y1)) > margin)
    expected = x0 < p[0] < x1 and y0 < p[1] < y1
    assert rectangle(*box).contains(p) is expected, f"{p} in {box}"


@settings(max_examples=100, deadline=None)
@given(polygon=star_polygons(), p=point, shift=st.integers(0, 8), reverse=st.booleans())
def test_contains_does_not_depend_on_where_or_which_way_the_outline_starts(
    polygon: Polygon, p: tuple, shift: int, reverse: bool
) -> None:
    points = list(polygon.points)
    shift %= len(points)
    redrawn = points[shift:] + points[:shift]
    if reverse:
        redrawn.reverse()
    assert Polygon(tuple(redrawn)).contains(p) is polygon.contains(p), f"{p} against a redrawn outline"


@settings(max_examples=60, deadline=None)
@given(polygon=star_polygons(), p=st.tuples(st.floats(0.02, 0.98), st.floats(0.02, 0.98)))
def test_mask_agrees_with_contains_away_from_the_edges(polygon: Polygon, p: tuple) -> None:
    width = height = 200
    col, row = min(width - 1, int(p[0] * width)), min(height - 1, int(p[1] * height))
    centre = ((col + 0.5) / width, (row + 0.5) / height)
    assume(_distance_to_outline(centre, polygon) > 2.0 / width)  # a rasteriser rounds within a pixel or so
    assert bool(polygon.mask(width, height)[row, col] == 255) is polygon.contains(centre), f"pixel {col},{row}"


def _distance_to_outline(p: tuple[float, float], polygon: Polygon) -> float:
    best = math.inf
    points = polygon.points
    for (ax, ay), (bx, by) in zip(points, points[1:] + points[:1], strict=True):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(p[0] - (ax + t * dx), p[1] - (ay + t * dy)))
    return best


# ---- sides and crossings -----------------------------------------------------------------


def test_sides_as_seen_on_screen() -> None:
    assert HORIZON.side_of((0.5, 0.2)) is Side.LEFT, "above a left-to-right line is its left (y grows down)"
    assert HORIZON.side_of((0.5, 0.8)) is Side.RIGHT
    assert HORIZON.side_of((0.3, 0.5)) is Side.ON


def test_crossing_downwards_and_upwards() -> None:
    assert HORIZON.crossing((0.5, 0.2), (0.5, 0.8)) is Crossing.LEFT_TO_RIGHT
    assert HORIZON.crossing((0.5, 0.8), (0.5, 0.2)) is Crossing.RIGHT_TO_LEFT


def test_moving_along_one_side_or_past_the_end_is_no_crossing() -> None:
    short = Line((0.4, 0.5), (0.6, 0.5))
    assert short.crossing((0.1, 0.2), (0.9, 0.3)) is None, "stayed above the line"
    assert short.crossing((0.8, 0.2), (0.8, 0.8)) is None, "passed beside the segment, not through it"
    assert short.crossing((0.5, 0.2), (0.5, 0.5)) is None, "stopping on the line is not crossing it"


def test_a_line_needs_two_points() -> None:
    with pytest.raises(ValueError, match="two different points"):
        Line((0.5, 0.5), (0.5, 0.5))


@settings(max_examples=300, deadline=None)
@given(a=point, b=point, start=point, end=point)
def test_crossing_properties(a: tuple, b: tuple, start: tuple, end: tuple) -> None:
    assume(start != end)
    line, backwards = Line(start, end), Line(end, start)
    crossing = line.crossing(a, b)
    if crossing is None:
        assert line.crossing(b, a) is None, "no crossing one way means none the other way"
        return
    assert side_of(a, start, end) is not side_of(b, start, end), "a crossing changes sides"
    opposite = Crossing.RIGHT_TO_LEFT if crossing is Crossing.LEFT_TO_RIGHT else Crossing.LEFT_TO_RIGHT
    assert line.crossing(b, a) is opposite, "going back crosses the other way"
    assert backwards.crossing(a, b) is opposite, "the same move across the reversed line reads the other way"
    expected = Crossing.LEFT_TO_RIGHT if line.side_of(a) is Side.LEFT else Crossing.RIGHT_TO_LEFT
    assert crossing is expected, "the direction follows the side the move started on"


# ---- anchors and line offsets (the rules' geometry) --------------------------------------


def test_anchor_points_of_a_box() -> None:
    box = Box(0.2, 0.4, 0.2, 0.4)
    assert anchor_point(box, "bottom-center") == pytest.approx((0.3, 0.8)), "the feet"
    assert anchor_point(box, "center") == pytest.approx((0.3, 0.6))
    assert anchor_point(box, "top-center") == pytest.approx((0.3, 0.4))
    with pytest.raises(ValueError, match="unknown anchor"):
        anchor_point(box, "left")  # type: ignore[arg-type]


@settings(deadline=None)
@given(point, point, point)
def test_the_offset_sign_is_the_side(start, end, p) -> None:
    assume(math.dist(start, end) > 0.01)
    line = Line(start, end)
    offset, side = line.offset(p), line.side_of(p)
    if abs(offset) > 1e-9:
        assert (side is Side.LEFT) == (offset > 0), f"offset {offset} but side {side}"


@settings(deadline=None)
@given(point, point, point)
def test_the_offset_is_the_distance_to_the_line(start, end, p) -> None:
    assume(math.dist(start, end) > 0.01)
    line = Line(start, end)
    (x0, y0), (x1, y1) = start, end
    t = ((p[0] - x0) * (x1 - x0) + (p[1] - y0) * (y1 - y0)) / math.dist(start, end) ** 2
    foot = (x0 + t * (x1 - x0), y0 + t * (y1 - y0))
    assert abs(line.offset(p)) == pytest.approx(math.dist(p, foot), abs=1e-9), "perpendicular distance"
    assert Line(end, start).offset(p) == pytest.approx(-line.offset(p), abs=1e-12), "reversing flips the sign"


def test_simple_polygons_and_a_bow_tie() -> None:
    assert SQUARE.simple
    assert not Polygon(((0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0))).simple


@settings(deadline=None)
@given(st.integers(3, 9), st.floats(0.0, math.tau), st.data())
def test_star_shaped_polygons_are_simple(count: int, turn: float, data: st.DataObject) -> None:
    """Vertices at evenly spread angles around a centre, any radii: the centre sees every
    edge (each spans less than half a turn), so the polygon is simple."""
    radii = data.draw(st.lists(st.floats(0.05, 0.45), min_size=count, max_size=count))
    angles = [turn + k * math.tau / count for k in range(count)]
    polygon = Polygon.of((0.5 + r * math.cos(a), 0.5 + r * math.sin(a)) for a, r in zip(angles, radii, strict=True))
    assert polygon.simple, f"vertices in angular order make a simple polygon: {polygon.points}"
