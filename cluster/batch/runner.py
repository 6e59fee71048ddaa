"""One segment through the video core: the analysis a Ray task runs, in plain Python.

    result = run_segment(camera, segment, path, job_id="job-1", footage_start=t0)
    result.events       # the revisions of the events this segment owns, in order
    result.damaged      # stretches of its footage that could not be decoded

It is the file driver (`cluster/video/file_driver.py`, the live camera's code over
a file) started at the segment's `decode_from_s` and stopped once the segment's
footage is over and every event it owns has ended (`segments.py`: attribution),
or `max_tail_s` after its end, where the driver's `finish()` closes what is still
open. Frames keep the media time a run from the start of the file gives them, so
a rerun of a segment gives the same events with the same ids (the store keeps one
row each), and `footage_start + pts` is the wall-clock time of every frame.

Damage. A decode error (a truncated file, a corrupt stretch the decoder gives up
on) ends the run: what was analysed is kept and `[last good frame, segment end)`
is reported damaged; a jump in media time larger than `gap_s` between analysed
frames inside the segment (the decoder skipped unreadable packets) is reported as
a damaged range too. A segment that cannot be opened at all is one damaged range.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cluster.config import CameraConfig
from cluster.domain import Event
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
    """Where a running segment is: media time reached and frames analysed so far."""

    pts: float
    frames_grabbed: int
    frames_analysed: int


@dataclass(frozen=True, slots=True)
class SegmentResult:
    segment: Segment
    events: tuple[Event, ...]  # every revision of the owned events, in the order they were made
    frames_grabbed: int  # all frames decoded, warm-up and tail included
    frames_analysed: int
    owned_frames: int  # frames grabbed inside [start_s, end_s): the segment's share of the file
    last_pts: float  # media time of the last frame analysed
    wall_s: float
    damaged: tuple[DamagedRange, ...] = field(default=())
    worker: str = ""  # where it ran (the Ray node id), for the job record


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
    """Analyse `segment` of `path` with `camera`'s analysis and rules (see the module)."""
    started = clock()
    source = camera.source.model_copy(update={"url": str(path), "loop": False, "realtime": False})
    camera = camera.model_copy(update={"source": source})
    interval = 1.0 / camera.analysis.fps
    gap_s = gap_s if gap_s is not None else max(1.0, 5 * interval)
    run = analyse_camera_file(camera, job_id=job_id, footage_start=footage_start, start_pts=segment.decode_from_s)
    owned: list[Event] = []
    open_events: set[str] = set()
    damaged: list[DamagedRange] = []
    owned_frames = 0
    last_pts: float | None = None
    grabbed_before = 0
    stop_at = math.inf if segment.end_s is None else segment.end_s + max_tail_s
    reported = clock()
    try:
        for frame, result in run:
            pts = frame.pts
            if segment.owns(pts):  # the frames grabbed since the previous analysed one, with it
                owned_frames += run.frames_grabbed - grabbed_before
            grabbed_before = run.frames_grabbed
            if last_pts is not None and pts - last_pts > gap_s and _inside(segment, last_pts, pts):
                damaged.append(
                    DamagedRange(segment.file_index, last_pts, pts, f"no decodable frames for {pts - last_pts:.1f} s")
                )
            last_pts = pts
            for event in result.events:
                if not segment.owns(event.start_pts):
                    continue
                owned.append(event)
                if event.end_time is None:
                    open_events.add(event.event_id)
                else:
                    open_events.discard(event.event_id)
            past_end = segment.end_s is not None and pts >= segment.end_s
            if past_end and (not open_events or pts >= stop_at):
                run.stop()
            if progress is not None and clock() - reported >= PROGRESS_EVERY_S:
                reported = clock()
                progress(SegmentProgress(pts, run.frames_grabbed, run.frames_analysed))
    except SourceError as exc:
        begin = last_pts if last_pts is not None else segment.start_s
        if segment.end_s is None or begin < segment.end_s:
            damaged.append(DamagedRange(segment.file_index, max(begin, segment.start_s), segment.end_s, exc.message))
    return SegmentResult(
        segment=segment,
        events=tuple(owned),
        frames_grabbed=run.frames_grabbed,
        frames_analysed=run.frames_analysed,
        owned_frames=owned_frames,
        last_pts=last_pts if last_pts is not None else segment.start_s,
        wall_s=clock() - started,
        damaged=tuple(damaged),
    )


def _inside(segment: Segment, earlier: float, later: float) -> bool:
    """Whether a gap between two analysed frames lies (partly) in the segment's own range."""
    return later > segment.start_s and (segment.end_s is None or earlier < segment.end_s)
