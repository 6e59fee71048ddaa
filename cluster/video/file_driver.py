"""The file driver: one video file through the analysis, in the caller's thread.

    run = analyse_camera_file(camera)             # a camera's whole config: rules, masks, tamper
    for frame, result in run:
        result.detections, result.events
    run.frames_grabbed, run.frames_analysed

It does what the live camera does, minus threads and readers: open the file,
grab every frame, let a `FrameSampler` pick the frames due by their media time,
decode those through the camera's frame hook (`retrieve_frame`: privacy masks)
and run the pipeline on them, events included. Because the sampling, the
pipeline's budgets and the rules all follow `Frame.pts`, the same file gives the
same analysed frames, detections, track ids and events (same ids) at full speed
and at real time (`realtime=True` paces the source like a camera).

When the file ends (not a looping one), the pipeline's `finish()` ends every open
event (objects still in view count as gone at their last sighting) and those
revisions come with the last analysed frame's result; so the driver holds each
result until the next due frame, or the end, is reached. Batch reprocessing runs
this with `job_id` and `footage_start` (the wall-clock time the footage began,
which becomes the frames' `capture_time`, so events carry the footage's own
times and time-of-day windows apply to them); a looping file never ends, so stop
iterating when you have enough.

Part of a file (a batch segment): `start_pts` starts decoding at that time (a
keyframe's, to decode nothing twice) with the frames keeping the media time and
the sampling schedule a run from the beginning gives them, and `stop()`, called
while iterating, ends the run after the next analysed frame as if the file ended
there: its result carries the `finish()` revisions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from cluster.config import AnalysisConfig, CameraConfig, SourceConfig, redact_url
from cluster.domain import AnalysisResult, Frame

from .frame_hook import IDENTITY, FrameHook, frame_hook_for, retrieve_frame
from .opening import open_source
from .pipeline import AnalysisPipeline
from .sampler import FrameSampler
from .settings import EventSettings
from .sources import SourceError


class FileAnalysis:
    """One pass over a file; iterate it once. Errors of the file are `SourceError`
    (a truncated file raises after its readable frames were analysed, without
    ending open events), of the model `ModelError` (at construction)."""

    def __init__(
        self,
        source: SourceConfig,
        analysis: AnalysisConfig,
        *,
        camera_id: str = "file",
        frame_hook: FrameHook = IDENTITY,
        pipeline: AnalysisPipeline | None = None,
        events: EventSettings | None = None,
        footage_start: float | None = None,
        start_pts: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not source.is_file:
            shown_url = redact_url(source.url)
            raise ValueError(f"the file driver reads video files; {shown_url!r} is a {source.scheme} stream")
        self.source = source
        self.analysis = analysis
        self.frame_hook = frame_hook
        self.pipeline = pipeline if pipeline is not None else AnalysisPipeline(camera_id, analysis, events=events)
        self.footage_start = footage_start
        self.start_pts = start_pts
        self._stop_requested = False
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._started = False
        self.frames_grabbed = 0
        self.frames_analysed = 0

    def __iter__(self) -> Iterator[tuple[Frame, AnalysisResult]]:
        if self._started:
            raise RuntimeError(f"the analysis of {self.source.url} was already run; make a new one")
        self._started = True
        return self._run()

    def stop(self) -> None:
        """End the run at the next analysed frame, as if the file ended after it."""
        self._stop_requested = True

    def _run(self) -> Iterator[tuple[Frame, AnalysisResult]]:
        sampler = FrameSampler(self.analysis.fps)
        source = open_source(self.source, clock=self._clock, sleep=self._sleep, start_pts=self.start_pts)
        if self.start_pts:
            sampler.resume_at(source.timeline.pts)
        held: tuple[Frame, AnalysisResult] | None = None  # the newest result, until we know if it is the last
        try:
            while True:
                try:
                    grabbed = source.grab()
                except SourceError:
                    if held is not None:
                        yield held
                    raise
                if not grabbed:
                    break
                self.frames_grabbed += 1
                if not sampler.due(source.pts):
                    continue
                capture_time = self._wall_clock() if self.footage_start is None else self.footage_start + source.pts
                frame = retrieve_frame(source, self.frame_hook, sequence=self.frames_grabbed, capture_time=capture_time)
                if frame is None:
                    continue
                result = self.pipeline.process(frame)
                self.frames_analysed += 1
                if held is not None:
                    yield held
                held = (frame, result)
                if self._stop_requested:
                    break
            if held is not None:
                frame, result = held
                final = self.pipeline.finish()
                if final:
                    result = AnalysisResult(
                        detections=result.detections,
                        motion=result.motion,
                        motion_ratio=result.motion_ratio,
                        detector_ran=result.detector_ran,
                        stage_seconds=result.stage_seconds,
                        events=result.events + final,
                    )
                yield frame, result
        finally:
            source.release()


def analyse_file(
    source: SourceConfig,
    analysis: AnalysisConfig,
    *,
    realtime: bool = False,
    camera_id: str = "file",
    frame_hook: FrameHook = IDENTITY,
    pipeline: AnalysisPipeline | None = None,
    events: EventSettings | None = None,
    footage_start: float | None = None,
    start_pts: float = 0.0,
) -> FileAnalysis:
    """Analyse the file of `source` with `analysis` settings, as fast as it decodes
    or, with `realtime`, paced at the file's own frame rate."""
    return FileAnalysis(
        source.model_copy(update={"realtime": realtime}),
        analysis,
        camera_id=camera_id,
        frame_hook=frame_hook,
        pipeline=pipeline,
        events=events,
        footage_start=footage_start,
        start_pts=start_pts,
    )


def analyse_camera_file(
    camera: CameraConfig,
    *,
    realtime: bool = False,
    job_id: str | None = None,
    footage_start: float | None = None,
    start_pts: float = 0.0,
) -> FileAnalysis:
    """Analyse `camera`'s file source as the live camera would: its analysis, privacy
    masks (frame hook and detection filter), rules and tamper detection."""
    return analyse_file(
        camera.source,
        camera.analysis,
        realtime=realtime,
        camera_id=camera.id,
        frame_hook=frame_hook_for(camera),
        events=EventSettings.of(camera, job_id=job_id),
        footage_start=footage_start,
        start_pts=start_pts,
    )
