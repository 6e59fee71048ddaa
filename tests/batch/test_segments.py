"""plan_segments' guarantees (the module docstring), over generated keyframe layouts."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.batch.media import MediaIndex
from cluster.batch.segments import Segment, plan_segments


def index(duration: float, keyframes: list[float]) -> MediaIndex:
    return MediaIndex(
        Path("/f.mp4"), duration, 25.0, int(duration * 25), tuple(sorted({0.0, *keyframes})), 8, 8, "h264"
    )


layouts = st.floats(1.0, 4000.0).flatmap(
    lambda duration: st.tuples(st.just(duration), st.lists(st.floats(0.0, duration, allow_nan=False), max_size=300))
)


@settings(max_examples=300, deadline=None)
@given(layout=layouts, target=st.floats(1.0, 600.0), warmup=st.floats(0.0, 60.0))
def test_segments_partition_the_file_at_keyframes(layout, target, warmup) -> None:
    duration, keyframes = layout
    media = index(duration, keyframes)
    segments = plan_segments(media, file_index=2, target_s=target, warmup_s=warmup)

    assert segments[0].start_s == 0.0 and segments[0].decode_from_s == 0.0, "the first segment starts the file"
    assert segments[-1].end_s is None, "the last segment runs to the end of the file"
    for before, after in itertools.pairwise(segments):
        assert before.end_s == after.start_s, f"no gap, no overlap between {before} and {after}"
        assert after.start_s in media.keyframes, f"{after} starts at a keyframe"
        assert after.start_s - before.start_s >= target / 2, f"{before} is not shorter than half the target"
        assert after.decode_from_s in media.keyframes, f"{after} decodes from a keyframe"
        assert after.decode_from_s <= max(0.0, after.start_s - warmup) or after.decode_from_s == 0.0, (
            f"{after} decodes its warm-up of {warmup} s"
        )
    if len(segments) > 1:
        assert duration - segments[-1].start_s >= target / 2, f"the last of {segments} is a stub of a segment"
    assert [s.index for s in segments] == list(range(len(segments))), "numbered in order"
    assert all(s.file_index == 2 for s in segments), "segments name their file"


@settings(max_examples=200, deadline=None)
@given(layout=layouts, target=st.floats(1.0, 600.0), pts=st.floats(-1.0, 5000.0))
def test_every_event_time_is_owned_by_exactly_one_segment(layout, target, pts) -> None:
    duration, keyframes = layout
    segments = plan_segments(index(duration, keyframes), file_index=0, target_s=target, warmup_s=3.0)

    owners = [s.key for s in segments if s.owns(pts)]
    assert len(owners) == 1, f"an event at {pts} s is owned by {owners}, not exactly one of {segments}"


def test_a_file_just_longer_than_the_target_is_one_segment() -> None:
    """10 min 3 s of footage cut at 600 s would make a 3 s segment that decodes a whole warm-up."""
    segments = plan_segments(index(603.0, [k * 4.8 for k in range(126)]), file_index=0, target_s=600.0, warmup_s=60.0)

    assert segments == (Segment(0, 0, 0.0, None, 0.0),), f"no stub segment at the end: {segments}"


def test_a_file_without_keyframes_past_its_start_is_one_segment() -> None:
    segments = plan_segments(index(3600.0, [0.0]), file_index=0, target_s=60.0, warmup_s=10.0)

    assert segments == (Segment(0, 0, 0.0, None, 0.0),), "nowhere else to start decoding"
