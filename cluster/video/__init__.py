"""The video core: everything about frames that does not need Ray or threads.

- `sources.py`: opening files and streams with bounded waits; `grab()` every
  frame, `retrieve()` (decode to BGR) only the ones needed; media time `pts`.
- `media_time.py`: the rule that makes `Frame.pts` continuous across loops and
  reconnects.
- `sampler.py`: `FrameSampler`, which frames are analysed, by media time.
- `frame_hook.py`: the one place a per-camera transform (privacy masks) is
  applied between decode and every consumer.
- `pipeline/`: resize -> motion -> detector -> privacy -> tracker -> rules ->
  tamper, on media time.
- `privacy.py`: the privacy-mask hook and the filter of masked detections.
- `rules/`: zones and counting lines over tracked detections.
- `tamper.py`: black, uniform, defocused and moved views.
- `emitter.py`: events as revisions with stable ids, and their thumbnails.
- `settings.py`: what a camera's configuration asks of the event side.
- `geometry.py`: polygons, masks, lines and crossings in normalised coordinates.
- `file_driver.py`: a file through all of the above in the caller's thread.

Two drivers run the core: the camera actor (`cluster.actors`: a capture thread
and an analysis thread, for live sources) and the file driver (batch
reprocessing). Imports only `cluster.domain`, `cluster.config` and
`cluster.support` of the project.
"""

from .file_driver import FileAnalysis, analyse_camera_file, analyse_file
from .frame_hook import IDENTITY, FrameHook, compose, frame_hook_for, retrieve_frame
from .media_time import MediaTimeline
from .opening import open_source
from .sampler import FrameSampler, RateSchedule
from .settings import EventSettings
from .sources import SourceError, VideoSource

__all__ = [
    "IDENTITY",
    "EventSettings",
    "FileAnalysis",
    "FrameHook",
    "FrameSampler",
    "MediaTimeline",
    "RateSchedule",
    "SourceError",
    "VideoSource",
    "analyse_camera_file",
    "analyse_file",
    "compose",
    "frame_hook_for",
    "open_source",
    "retrieve_frame",
]
