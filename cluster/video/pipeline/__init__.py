"""The analysis pipeline: plain Python over numpy frames (no Ray, no clock: time
is the frames' media time), driven by the camera actor for live sources and by
the file driver (`cluster.video.file_driver`) for files."""

from .detector import Detector, DnnDetector, ModelError, load_detector
from .motion import MotionDetector
from .pipeline import AnalysisPipeline, FrameContext, Stage
from .tracker import Track, Tracker

__all__ = [
    "AnalysisPipeline",
    "Detector",
    "DnnDetector",
    "FrameContext",
    "ModelError",
    "MotionDetector",
    "Stage",
    "Track",
    "Tracker",
    "load_detector",
]
