"""Tracker invariants over random detection streams (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.config import TrackerConfig
from cluster.domain import Box, Detection
from cluster.video.pipeline import Tracker

coordinate = st.floats(0.0, 0.8, allow_nan=False)
size = st.floats(0.02, 0.2, allow_nan=False)
detection = st.builds(
    lambda class_id, x, y, w, h: Detection(class_id, f"class{class_id}", 0.5, Box(x, y, w, h)),
    st.integers(0, 2),
    coordinate,
    coordinate,
    size,
    size,
)
frame = st.tuples(st.floats(0.0, 1.5, allow_nan=False), st.lists(detection, max_size=6))  # (time step, detections)
config = st.builds(
    TrackerConfig,
    method=st.sampled_from(["iou", "centroid"]),
    iou_threshold=st.floats(0.05, 0.9),
    max_distance=st.floats(0.01, 0.5),
    max_age_s=st.floats(0.1, 3.0),
    per_class=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(config=config, frames=st.lists(frame, max_size=25))
def test_ids_are_unique_per_frame_increasing_and_never_reused_after_expiry(
    config: TrackerConfig, frames: list[tuple[float, list[Detection]]]
) -> None:
    tracker = Tracker(config)
    last_seen: dict[int, float] = {}
    highest = 0
    now = 0.0
    for step, detections in frames:
        now += step
        out = tracker.update(detections, now)
        assert len(out) == len(detections), "every detection comes back"
        frame_ids = [d.track_id for d in out]
        assert all(isinstance(i, int) and i >= 1 for i in frame_ids), f"ids must be positive ints: {frame_ids}"
        assert len(set(frame_ids)) == len(frame_ids), f"ids repeated within a frame: {frame_ids}"
        for d_in, d_out in zip(detections, out, strict=True):
            assert (d_out.box, d_out.class_id) == (d_in.box, d_in.class_id), "detections come back unchanged"
        for track_id in frame_ids:
            if track_id in last_seen:
                age = now - last_seen[track_id]
                assert age <= config.max_age_s, f"id {track_id} reused {age:.3f}s after it expired"
            else:
                assert track_id == highest + 1, f"new id {track_id} after {highest}: ids must count up by one"
                highest = track_id
            last_seen[track_id] = now


@settings(max_examples=100, deadline=None)
@given(frames=st.lists(st.lists(detection, max_size=6), max_size=15))
def test_per_class_tracks_never_change_class(frames: list[list[Detection]]) -> None:
    tracker = Tracker(TrackerConfig(per_class=True))
    class_of: dict[int, int] = {}
    for index, detections in enumerate(frames):
        for d in tracker.update(detections, index * 0.1):
            assert class_of.setdefault(d.track_id, d.class_id) == d.class_id, f"track {d.track_id} changed class"
