"""The file driver: one video file through the analysis, in the caller's thread.

    run = analyse_file(SourceConfig(url="clip.mp4"), camera.analysis)
    for frame, result in run:
        ...
    run.frames_grabbed, run.frames_analysed

It does what the live camera does, minus threads and readers: open the file,
grab every frame, let a `FrameSampler` pick the frames due by their media time,
decode those through the camera's frame hook (`retrieve_frame`) and run the
pipeline on them. Because both the sampling and the pipeline's budgets follow
`Frame.pts`, the same file gives the same analysed frames, detections and track
ids at full speed and at real time (`realtime=True` paces the source like a
camera). Batch reprocessing runs this; a looping file never ends, so stop
iterating when you have enough.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from cluster.config import AnalysisConfig, SourceConfig
from cluster.domain import AnalysisResult, Frame

from .frame_hook import IDENTITY, FrameHook, retrieve_frame
from .pipeline import AnalysisPipeline
from .sampler import FrameSampler
from .sources import open_source


class FileAnalysis:
    """One pass over a file; iterate it once. Errors of the file are `SourceError`
    (a truncated file raises after its readable frames were analysed), of the
    model `ModelError` (at construction)."""

    def __init__(
        self,
        source: SourceConfig,
        analysis: AnalysisConfig,
        *,
        camera_id: str = "file",
        frame_hook: FrameHook = IDENTITY,
        pipeline: AnalysisPipeline | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not source.is_file:
            raise ValueError(f"the file driver reads video files; {source.url!r} is a {source.scheme} stream")
        self.source = source
        self.analysis = analysis
        self.frame_hook = frame_hook
        self.pipeline = pipeline if pipeline is not None else AnalysisPipeline(camera_id, analysis)
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

    def _run(self) -> Iterator[tuple[Frame, AnalysisResult]]:
        sampler = FrameSampler(self.analysis.fps)
        source = open_source(self.source, clock=self._clock, sleep=self._sleep)
        try:
            while source.grab():
                self.frames_grabbed += 1
                if not sampler.due(source.pts):
                    continue
                frame = retrieve_frame(
                    source, self.frame_hook, sequence=self.frames_grabbed, capture_time=self._wall_clock()
                )
                if frame is None:
                    continue
                result = self.pipeline.process(frame)
                self.frames_analysed += 1
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
) -> FileAnalysis:
    """Analyse the file of `source` with `analysis` settings, as fast as it decodes
    or, with `realtime`, paced at the file's own frame rate."""
    return FileAnalysis(
        source.model_copy(update={"realtime": realtime}),
        analysis,
        camera_id=camera_id,
        frame_hook=frame_hook,
        pipeline=pipeline,
    )
