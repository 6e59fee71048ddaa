"""The recording state machine on the shared clip's real packets: segments on keyframes
with exact wall-clock times, gaps when the stream goes away, the trigger modes' pre- and
post-roll, and a disk that runs out of space."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import pytest

from cluster.domain import RecordingState
from cluster.recordings.chain import EntryKind, read_chain, verify_chain
from cluster.recordings.index import live_segments, timeline

from .footage import T0, play, record_clip, recording_session

KEYFRAMES_S = (0.0, 4.8, 9.6, 14.4, 19.2, 24.0, 28.8)  # of the car clip (ffprobe)
CLIP_END_S = 30.16  # its last frame ends here
FRAME_S = 0.08  # 12.5 fps


def _first_packet_and_duration(path: Path) -> tuple[bool, float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        first = packets[0]
        last_pts = max(p.pts for p in packets)
        return bool(first.is_keyframe), float((last_pts - first.pts) * stream.time_base) + FRAME_S


def test_segments_start_on_keyframes_at_exact_wall_clock_times(tmp_path: Path, car_clip: Path) -> None:
    record_clip(tmp_path, "cam-1", car_clip, start=T0, segment_s=4.0)
    segments = live_segments(read_chain(tmp_path / "cam-1"))
    starts = [round(s.start - T0, 3) for s in segments]
    assert starts == list(KEYFRAMES_S), f"each segment starts at a keyframe's wall time, got {starts}"
    for before, after in itertools.pairwise(segments):
        assert after.start == pytest.approx(before.end, abs=1e-6), "consecutive segments meet exactly"
    assert segments[-1].end - T0 == pytest.approx(CLIP_END_S, abs=1e-3), "the last ends with the last frame"
    for segment in segments:
        keyframe, duration = _first_packet_and_duration(tmp_path / "cam-1" / segment.file)
        assert keyframe, f"{segment.file} starts with a keyframe"
        assert duration == pytest.approx(segment.end - segment.start, abs=FRAME_S), (
            f"{segment.file}: its own duration {duration:.3f} s is its wall-clock length "
            f"{segment.end - segment.start:.3f} s"
        )


def test_a_stream_that_goes_away_leaves_a_gap_with_its_reason(tmp_path: Path, car_clip: Path) -> None:
    session = recording_session(tmp_path, "cam-1", start=T0)
    play(session, car_clip, start=T0)
    assert session.status().state is RecordingState.INTERRUPTED, "no stream: interrupted, not failed"
    play(session, car_clip, start=T0 + 60.0)
    session.close(T0 + 90.0)
    info = timeline(tmp_path / "cam-1", "cam-1", T0, T0 + 120.0)
    assert len(info.gaps) == 1, f"one gap, got {info.gaps}"
    gap = info.gaps[0]
    assert (gap.start - T0, gap.end - T0) == pytest.approx((CLIP_END_S, 60.0), abs=1e-3), (
        f"from the last frame to the stream's return, got {gap.start - T0:.3f}..{gap.end - T0:.3f}"
    )
    assert gap.reason.startswith("camera stream down"), f"the reason says why: {gap.reason!r}"
    bounds = [round(x - T0, 3) for r in info.ranges for x in (r.start, r.end)]
    assert bounds == [0.0, CLIP_END_S, 60.0, 60.0 + CLIP_END_S], f"two recorded ranges around the gap: {bounds}"


def test_motion_only_keeps_pre_roll_from_a_keyframe_and_post_roll(tmp_path: Path, car_clip: Path) -> None:
    record_clip(
        tmp_path,
        "cam-1",
        car_clip,
        start=T0,
        mode="motion-only",
        segment_s=60.0,
        pre_roll_s=5.0,
        post_roll_s=3.0,
        activity=((12.0, 13.0),),
    )
    segments = live_segments(read_chain(tmp_path / "cam-1"))
    assert len(segments) == 1, f"one burst of motion, one segment: {[(s.start - T0, s.end - T0) for s in segments]}"
    segment = segments[0]
    assert segment.start - T0 == pytest.approx(4.8), "starts at the keyframe before the 5 s of pre-roll (12 - 5 = 7)"
    assert 16.0 <= segment.end - T0 <= 16.0 + 2 * FRAME_S, (
        f"ends 3 s after the motion (13 s), got {segment.end - T0:.2f}"
    )
    assert segment.fields["mode"] == "motion-only", "the mode is on the chain (retention by mode)"


def test_a_full_disk_stops_recording_loudly_and_it_resumes_by_itself(tmp_path: Path, car_clip: Path) -> None:
    free = {"bytes": 1 << 40}
    session = recording_session(
        tmp_path, "cam-1", start=T0, min_free_bytes=10 << 20, retry_s=1.0, disk_free=lambda _p: free["bytes"]
    )
    states = []

    def disk(now_s: float) -> None:
        free["bytes"] = 1 << 20 if 10.0 <= now_s < 20.0 else 1 << 40  # full from 10 s to 20 s
        states.append((now_s, session.status().state, session.status().reason))

    last = play(session, car_clip, start=T0, on_packet=disk)
    session.close(last)
    failed = [(t, reason) for t, state, reason in states if state is RecordingState.FAILED]
    assert failed and 10.0 <= failed[0][0] < 11.5, f"recording stops within a second of the disk filling: {failed[:1]}"
    assert "disk full" in failed[0][1] and "MiB free" in failed[0][1], f"and says why: {failed[0][1]!r}"
    assert any(t > 20.0 and state is RecordingState.RECORDING for t, state, _ in states), "it resumes by itself"
    camera_dir = tmp_path / "cam-1"
    gaps = [e for e in read_chain(camera_dir) if e.kind is EntryKind.GAP]
    assert len(gaps) == 1 and "disk full" in gaps[0].fields["reason"], f"the lost time is a gap: {gaps}"
    assert 9.0 <= gaps[0].start - T0 <= 11.0 and 20.0 <= gaps[0].end - T0 <= 26.0, (
        f"from when the disk filled to the first keyframe after it took writes again: "
        f"{gaps[0].start - T0:.2f}..{gaps[0].end - T0:.2f}"
    )
    assert verify_chain(camera_dir, "cam-1").ok, "nothing already recorded is damaged"
    assert session.status().packets_dropped > 0, "the packets not written are counted"
