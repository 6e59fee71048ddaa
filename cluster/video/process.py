"""Settings of a process that runs one camera's analysis, which OpenCV keeps per process.

OpenCV's thread pool is process-wide (`cv2.setNumThreads`), so it is set by the driver
that owns the process (the camera actor at start and on every update), not by the
pipeline, which may share a process with others (tests, the file driver). Batch
segment tasks size it from the CPU they reserve instead (`cluster/jobrunner/tasks.py`).
"""

from __future__ import annotations

import cv2

from cluster.config import AnalysisConfig


def use_opencv_threads(analysis: AnalysisConfig) -> int:
    """Size this process's OpenCV thread pool to `analysis.opencv_threads`; returns it."""
    cv2.setNumThreads(analysis.opencv_threads)
    return int(cv2.getNumThreads())
