"""Segments through the video core: the analysis a Ray task runs, in plain Python.

    for result in run_chain(camera, segments, path, job_id="job-1", footage_start=t0, max_tail_s=120):
        result.events       # the revisions of the events this segment owns, in order
        result.damaged      # stretches of its footage that could not be decoded
    result = run_segment(camera, segment, path, ...)   # the chain of one

A chain is a run of consecutive segments of one file analysed in one pass: the
file driver (`cluster/video/file_driver.py`, the live camera's code over a file)
starts at the first segment's `decode_from_s`, so the chain pays one warm-up,
however many segments it holds. Each segment's result is yielded as soon as it is
complete: the footage is past its end by the analysis' settling time (`settle_s`:
the rules confirm some events later than they start, e.g. a zone leave when the
tracker drops an object, dated at its last sighting) and every event it owns
(`segments.py`: attribution) has ended, or `max_tail_s` after its end, where its
still-open events
are closed at the current frame (`EventEmitter.closing`, the revision the rules'
own end would make) while the run goes on for the next segments; revisions the
rules make later for an event of a finished segment are dropped. When every
segment is complete the run stops. Frames keep the media time a run from the start
of the file gives them, so a rerun of the same chain gives the same events with the
same ids, and `footage_start + pts` is the wall-clock time of every frame. A segment
run in another chain (after a crash) warms up elsewhere and so may make other track
ids: exactly-once across reruns is the job manager's commit point, not this.

Counting. A result's `frames_grabbed` and `frames_analysed` are the frames decoded
and analysed since the chain's previous result (the first one's include the
warm-up), so a chain's results add up to its whole work; `owned_frames` are the
frames inside the segment's own range, whichever chain decoded them.

Damage. A decode error (a truncated file, a corrupt stretch the decoder gives up
on) ends the decoder: what was analysed is kept, the segments already past their
end are complete (open events closed at the last frame), the one the error fell in
(or the next one to start) reports `[last good frame, segment end)` damaged, and
the rest of the chain starts again at its own keyframe, so the footage after the
damage is analysed. A jump in media time larger than `gap_s` between analysed
frames (the decoder skipped unreadable packets) is reported as a damaged range of
each segment it overlaps, clipped to the segment.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cluster.config import CameraConfig
from cluster.domain import Event
from cluster.video.emitter import EventEmitter
from cluster.video.file_driver import analyse_camera_file
from cluster.video.sources import SourceError

from .segments import Segment

# Progress is reported at most this often (seconds of wall time).
PROGRESS_EVERY_S = 0.5


@dataclass(frozen=True, slots=True)
class DamagedRange:
    """Footage of file `file_index` from `start_s` to `end_s` (None: to its end) that
    could not be analysed, and why."""

    file_index: int
    start_s: float
    end_s: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class SegmentProgress:
    """Where a running chain is: media time reached and frames analysed so far."""

    pts: float
    frames_grabbed: int
    frames_analysed: int


@dataclass(frozen=True, slots=True)
class SegmentResult:
    segment: Segment
    events: tuple[Event, ...]  # every revision of the owned events, in the order they were made
    frames_grabbed: int  # frames decoded since the chain's previous result (warm-up and tail included)
    frames_analysed: int
    owned_frames: int  # frames grabbed inside [start_s, end_s): the segment's share of the file
    last_pts: float  # media time of the last frame analysed
    wall_s: float
    damaged: tuple[DamagedRange, ...] = field(default=())
    worker: str = ""  # where it ran (the Ray node id), for the job record


SETTLE_FRAMES = 2  # analysed frames of margin on top of what the rules may backdate


def settle_s(camera: CameraConfig) -> float:
    """How long after a moment of footage the analysis may still emit an event that starts
    at it: a track is dropped `max_age_s` after its last sighting (its zone leave is dated
    there), a zone flips after `inertia` frames (dated at the first), a loitering event
    starts at the entry `loitering_s` earlier, a tamper incident `min_duration_s` earlier."""
    interval = 1.0 / camera.analysis.fps
    zones = camera.rules.zones
    tamper = camera.health.tamper
    return SETTLE_FRAMES * interval + max(
        camera.analysis.tracker.max_age_s,
        max((zone.inertia * interval for zone in zones), default=0.0),
        max((zone.loitering_s or 0.0 for zone in zones), default=0.0),
        tamper.min_duration_s if tamper.enabled else 0.0,
    )


def check_chain(segments: Sequence[Segment]) -> None:
    """Raise ValueError unless `segments` are consecutive segments of one file, in order."""
    if not segments:
        raise ValueError("a chain needs at least one segment")
    for before, after in itertools.pairwise(segments):
        if (
            after.file_index != before.file_index
            or after.index != before.index + 1
            or before.end_s is None
            or after.start_s != before.end_s
        ):
            raise ValueError(
                f"a chain holds consecutive segments of one file: {before.key} is not followed by {after.key}"
            )


class _Share:
    """What one segment of a chain has collected so far."""

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self.events: list[Event] = []
        self.open: dict[str, Event] = {}  # event id -> its newest revision, while it goes on
        self.damaged: list[DamagedRange] = []
        self.owned_frames = 0

    def take(self, event: Event) -> None:
        self.events.append(event)
        if event.end_time is None:
            self.open[event.event_id] = event
        else:
            self.open.pop(event.event_id, None)

    def close_open(self, emitter: EventEmitter | None, pts: float, wall_time: float) -> None:
        """End the events still open at a frame (`pts` of the frame, its wall-clock time)."""
        if emitter is None:
            return
        for event in list(self.open.values()):
            self.take(emitter.closing(event, end_pts=pts, end_time=wall_time))

    def damage(self, start_s: float, end_s: float | None, reason: str) -> None:
        segment = self.segment
        begin = max(start_s, segment.start_s)
        end = end_s if segment.end_s is None else (segment.end_s if end_s is None else min(end_s, segment.end_s))
        if end is None or begin < end:
            self.damaged.append(DamagedRange(segment.file_index, begin, end, reason))


def run_chain(
    camera: CameraConfig,
    segments: Sequence[Segment],
    path: Path,
    *,
    job_id: str,
    footage_start: float,
    max_tail_s: float,
    gap_s: float | None = None,
    progress: Callable[[SegmentProgress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[SegmentResult]:
    """Analyse the consecutive `segments` of `path` in one pass with `camera`'s analysis
    and rules, yielding each segment's result once it is complete (see the module)."""
    check_chain(segments)
    source = camera.source.model_copy(update={"url": str(path), "loop": False, "realtime": False})
    camera = camera.model_copy(update={"source": source})
    interval = 1.0 / camera.analysis.fps
    gap = gap_s if gap_s is not None else max(1.0, 5 * interval)
    settle = min(settle_s(camera), max_tail_s)
    remaining = list(segments)
    while remaining:
        remaining = yield from _one_pass(
            camera, remaining, path, job_id, footage_start, max_tail_s, settle, gap, progress, clock
        )


def _one_pass(
    camera: CameraConfig,
    segments: list[Segment],
    path: Path,
    job_id: str,
    footage_start: float,
    max_tail_s: float,
    settle_s: float,
    gap_s: float,
    progress: Callable[[SegmentProgress], None] | None,
    clock: Callable[[], float],
) -> Generator[SegmentResult, None, list[Segment]]:
    """One decoder over `segments` from the first one's `decode_from_s`; returns the
    segments left to start again after a decode error (none otherwise)."""
    started = clock()
    run = analyse_camera_file(camera, job_id=job_id, footage_start=footage_start, start_pts=segments[0].decode_from_s)
    shares = [_Share(s) for s in segments]
    grabbed_before = 0  # frames grabbed up to the previous analysed frame
    counted_grabbed = counted_analysed = 0  # frames given to results already yielded
    last_pts: float | None = None
    last_time = footage_start
    reported = clock()

    def complete(share: _Share) -> SegmentResult:
        nonlocal counted_grabbed, counted_analysed, started
        shares.remove(share)
        now = clock()
        result = SegmentResult(
            segment=share.segment,
            events=tuple(share.events),
            frames_grabbed=run.frames_grabbed - counted_grabbed,
            frames_analysed=run.frames_analysed - counted_analysed,
            owned_frames=share.owned_frames,
            last_pts=last_pts if last_pts is not None else share.segment.start_s,
            wall_s=now - started,
            damaged=tuple(share.damaged),
        )
        counted_grabbed, counted_analysed, started = run.frames_grabbed, run.frames_analysed, now
        return result

    try:
        for frame, result in run:
            pts = frame.pts
            for share in shares:
                if share.segment.owns(pts):  # the frames grabbed since the previous analysed one, with it
                    share.owned_frames += run.frames_grabbed - grabbed_before
                if last_pts is not None and pts - last_pts > gap_s and _inside(share.segment, last_pts, pts):
                    share.damage(last_pts, pts, f"no decodable frames for {pts - last_pts:.1f} s")
            grabbed_before = run.frames_grabbed
            last_pts, last_time = pts, frame.capture_time
            for event in result.events:
                owner = next((s for s in shares if s.segment.owns(event.start_pts)), None)
                if owner is not None:  # events of the warm-up, or of a segment already returned, are dropped
                    owner.take(event)
            for share in list(shares):
                end_s = share.segment.end_s
                if end_s is None or pts < end_s + settle_s:
                    continue
                if share.open and pts >= end_s + max_tail_s:
                    share.close_open(run.pipeline.emitter, pts, frame.capture_time)
                if not share.open:
                    yield complete(share)
            if not shares:
                run.stop()
            if progress is not None and clock() - reported >= PROGRESS_EVERY_S:
                reported = clock()
                progress(SegmentProgress(pts, run.frames_grabbed, run.frames_analysed))
    except SourceError as exc:
        # Past their end: complete. The one the error fell in (or the next to start): damaged
        # from the last good frame. The rest start again at their own keyframes.
        reached = last_pts if last_pts is not None else segments[0].start_s
        while shares and shares[0].segment.end_s is not None and shares[0].segment.end_s <= reached:
            shares[0].close_open(run.pipeline.emitter, reached, last_time)
            yield complete(shares[0])
        if shares:
            share = shares[0]
            share.close_open(run.pipeline.emitter, reached, last_time)
            share.damage(reached, None, exc.message)
            yield complete(share)
        return [s.segment for s in shares]
    for share in list(shares):  # the file ended: the driver's finish() closed what was open
        yield complete(share)
    return []


def run_segment(
    camera: CameraConfig,
    segment: Segment,
    path: Path,
    *,
    job_id: str,
    footage_start: float,
    max_tail_s: float,
    gap_s: float | None = None,
    progress: Callable[[SegmentProgress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SegmentResult:
    """Analyse `segment` of `path` alone: the chain of one (see the module)."""
    (result,) = run_chain(
        camera,
        [segment],
        path,
        job_id=job_id,
        footage_start=footage_start,
        max_tail_s=max_tail_s,
        gap_s=gap_s,
        progress=progress,
        clock=clock,
    )
    return result


def _inside(segment: Segment, earlier: float, later: float) -> bool:
    """Whether a gap between two analysed frames lies (partly) in the segment's own range."""
    return later > segment.start_s and (segment.end_s is None or earlier < segment.end_s)
