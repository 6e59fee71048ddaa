"""Counting lines on made-up tracks: direction, one count per pass, the dead band, and
paths that pass beside the segment."""

from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cluster.domain import Direction, EventType

from .scene import Scene, feet_at

ACROSS = {"name": "road", "start": (0.1, 0.5), "end": (0.9, 0.5)}  # left to right: side A is above


def line(**fields) -> dict:
    return {"lines": [ACROSS | fields]}


def walk(scene: Scene, track: int, points: list[tuple[float, float]]) -> None:
    for x, y in points:
        scene.frame([feet_at(x, y, track=track)])


def crossings(scene: Scene) -> list[tuple[int | None, Direction | None]]:
    return [(e.track_id, e.direction) for e in scene.of(EventType.LINE_CROSSING)]


def test_walking_down_across_a_line_drawn_left_to_right_is_a_to_b() -> None:
    scene = Scene(line())
    walk(scene, 1, [(0.5, 0.3), (0.5, 0.4), (0.5, 0.6), (0.5, 0.7)])
    walk(scene, 2, [(0.4, 0.8), (0.4, 0.6), (0.4, 0.4)])
    assert crossings(scene) == [(1, Direction.A_TO_B), (2, Direction.B_TO_A)]
    (first, _) = scene.of(EventType.LINE_CROSSING)
    assert first.start_pts == first.end_pts == 0.4, "an instant, at the first frame past the line"
    assert first.class_name == "person" and first.thumbnail is not None and first.revision == 0


def test_a_side_right_swaps_the_directions() -> None:
    scene = Scene(line(a_side="right"))
    walk(scene, 1, [(0.5, 0.3), (0.5, 0.7)])
    assert crossings(scene) == [(1, Direction.B_TO_A)]


def test_only_the_directions_asked_for_make_events() -> None:
    scene = Scene(line(directions=["b_to_a"]))
    walk(scene, 1, [(0.5, 0.3), (0.5, 0.7), (0.5, 0.3)])
    assert crossings(scene) == [(1, Direction.B_TO_A)], "down is not counted, back up is"


def test_a_box_straddling_the_line_is_not_counted_again_and_again() -> None:
    scene = Scene(line(hysteresis=0.02))
    walk(scene, 1, [(0.5, 0.3)] + [(0.5, 0.49), (0.5, 0.51)] * 10 + [(0.5, 0.7)])
    assert crossings(scene) == [(1, Direction.A_TO_B)], "jitter within the dead band is on neither side"


def test_going_back_and_forth_counts_each_pass() -> None:
    scene = Scene(line())
    walk(scene, 1, [(0.5, 0.3), (0.5, 0.7), (0.5, 0.3), (0.5, 0.7)])
    assert crossings(scene) == [(1, Direction.A_TO_B), (1, Direction.B_TO_A), (1, Direction.A_TO_B)]


def test_passing_beside_the_segment_is_no_crossing() -> None:
    scene = Scene(line())
    walk(scene, 1, [(0.95, 0.3), (0.95, 0.7)])  # right of the segment's end at x = 0.9
    assert crossings(scene) == []


def test_a_track_first_seen_on_one_side_only_sets_its_side() -> None:
    scene = Scene(line())
    walk(scene, 1, [(0.5, 0.7), (0.5, 0.8)])
    assert crossings(scene) == []


def test_a_dropped_track_is_forgotten() -> None:
    scene = Scene(line())
    walk(scene, 1, [(0.5, 0.3)])
    scene.frame([], live=[])  # the tracker dropped track 1
    walk(scene, 1, [(0.5, 0.7)])  # a (hypothetical) reused id starts afresh
    assert crossings(scene) == []


def test_filters_apply_to_lines() -> None:
    scene = Scene(line(filters={"classes": ["motorbike"]}))
    scene.frame([feet_at(0.5, 0.3, track=1, cls="car"), feet_at(0.3, 0.3, track=2, cls="motorbike")])
    scene.frame([feet_at(0.5, 0.7, track=1, cls="car"), feet_at(0.3, 0.7, track=2, cls="motorbike")])
    assert crossings(scene) == [(2, Direction.A_TO_B)]


@settings(deadline=None)  # a whole scene per example: no per-example deadline on a loaded machine
@given(st.lists(st.floats(0.05, 0.95), min_size=2, max_size=40))
def test_crossings_alternate_and_match_the_net_change_of_side(ys: list[float]) -> None:
    """Whatever path a track takes across the line, its crossings alternate in direction,
    and there is one more A->B than B->A exactly when it ends up on B having started on A."""
    assume(all(abs(abs(y - 0.5) - 0.02) > 1e-9 for y in ys))  # not exactly on the dead band's edge
    scene = Scene(line(hysteresis=0.02))
    walk(scene, 1, [(0.5, y) for y in ys])
    directions = [d for _, d in crossings(scene)]
    assert all(a is not b for a, b in itertools.pairwise(directions)), f"{directions}"
    sides = ["A" if y < 0.5 else "B" for y in ys if abs(y - 0.5) >= 0.02]
    if sides:
        changes = sum(1 for a, b in itertools.pairwise(sides) if a != b)
        assert len(directions) == changes, f"one crossing per change of side: {sides} -> {directions}"
