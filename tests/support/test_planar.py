"""Plane geometry shared by config validation and the video core: segment intersection,
simple polygons, area (examples and properties)."""

from __future__ import annotations

import itertools
import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cluster.support.planar import polygon_area, segments_intersect, self_intersection

unit = st.floats(0.0, 1.0, allow_nan=False)
point = st.tuples(unit, unit)


def test_crossing_segments_intersect_and_parallel_ones_do_not() -> None:
    assert segments_intersect((0, 0), (1, 1), (0, 1), (1, 0)), "the diagonals of a square cross"
    assert not segments_intersect((0, 0), (1, 0), (0, 1), (1, 1)), "parallel segments never meet"
    assert segments_intersect((0, 0), (1, 0), (1, 0), (1, 1)), "touching at an end point counts"
    assert segments_intersect((0, 0), (2, 0), (1, 0), (3, 0)), "overlapping collinear segments meet"
    assert not segments_intersect((0, 0), (1, 0), (2, 0), (3, 0)), "collinear but apart"


@settings(deadline=None)
@given(point, point, point, point)
def test_intersection_is_symmetric(p1, p2, q1, q2) -> None:
    assert segments_intersect(p1, p2, q1, q2) == segments_intersect(q1, q2, p1, p2), "order of segments"
    assert segments_intersect(p1, p2, q1, q2) == segments_intersect(p2, p1, q2, q1), "direction of segments"


def test_a_bow_tie_intersects_itself_and_a_square_does_not() -> None:
    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    bow_tie = [(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)]
    assert self_intersection(square) is None
    assert self_intersection(bow_tie) == (0, 2), "edge 0 crosses edge 2"


def test_a_spike_folding_back_on_its_edge_is_not_simple() -> None:
    spike = [(0.0, 0.0), (1.0, 0.0), (0.5, 0.0), (0.5, 1.0)]
    assert self_intersection(spike) is not None, "edge 1 runs back over edge 0"


def test_a_vertex_touching_another_edge_is_not_simple() -> None:
    touching = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 0.0), (0.0, 1.0)]
    assert self_intersection(touching) is not None, "vertex 3 lies on edge 0"


@settings(deadline=None)
@given(st.integers(3, 12), st.floats(0.05, 0.45), st.floats(0.0, math.tau))
def test_convex_regular_polygons_are_simple_with_the_expected_area(sides: int, radius: float, turn: float) -> None:
    points = [
        (0.5 + radius * math.cos(turn + k * math.tau / sides), 0.5 + radius * math.sin(turn + k * math.tau / sides))
        for k in range(sides)
    ]
    assert self_intersection(points) is None, f"a regular {sides}-gon is simple"
    expected = 0.5 * sides * radius**2 * math.sin(math.tau / sides)
    assert math.isclose(polygon_area(points), expected, rel_tol=1e-9), "shoelace area of a regular polygon"


@settings(deadline=None)
@given(st.lists(point, min_size=4, max_size=4, unique=True))
def test_a_quadrilateral_is_simple_exactly_when_its_two_pairs_of_opposite_edges_do_not_meet(points) -> None:
    a, b, c, d = points
    assume(
        all(
            abs((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])) > 1e-6
            for p, q, r in itertools.combinations(points, 3)
        )
    )  # no three collinear
    opposite_meet = segments_intersect(a, b, c, d) or segments_intersect(b, c, d, a)
    assert (self_intersection(points) is None) == (not opposite_meet)
