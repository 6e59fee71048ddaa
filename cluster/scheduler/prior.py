"""The prior CPU cost of a camera actor, in cores, from its settings alone: what the
scheduler counts before any camera of its shape was measured (`cost.py` learns the rest).

The prior adds up what the actor does per second:

- decode: every source frame is decoded (H.264 frames depend on each other, so
  `grab()` decodes even the frames the analysis skips), cost ~ pixels * source fps,
  times the share its decode shortcut leaves (`source.skip_loop_filter`);
- per analysed frame: retrieve/convert, downscale, tracker, publish (a fixed cost);
- motion (MOG2) on the motion-width grey frame, cost ~ its pixels * analysis fps;
- detector: per run ~ input_size^2, at `max_fps` runs per second;
- a small fixed cost of an idle Python actor (Ray's worker threads, status calls).

Calibration of the prior (rough figures measured on the 2-core development machine,
OpenCV 4.14):

- decoding the 768x432 H.264 clip at 12.5 fps costs ~5-8% of a core -> 6.5% / 4.15 Mpx/s;
- MOG2 on a 320 px wide frame (320x180) at 5 fps costs ~1-2% -> 1.5% / 0.288 Mpx/s;
- Yolo-Fastest-1.1-xl with a 320x320 input takes ~20 ms per run (shared/README.md);
- an idle Ray actor costs about 0.5% of a core (issue 16's measurement);
- decoding without the loop filter (`skip_loop_filter: all`) takes 0.70 of the CPU
  (`bench.decode_options`: 1.43x the frames per CPU second);
- the per-frame cost is an estimate, not a measurement.

The detector is costed at its full `max_fps` budget although motion gating usually
runs it less often: a busy street has motion all day, and over-estimating only
wastes headroom until measurements correct it. Other detector models (ONNX
YOLOv5/v8) cost more than Yolo-Fastest; their measurements correct that too.

A prior is clamped to [MIN_CAMERA_COST, MAX_PRIOR_COST]: a guess alone must never
make a camera unplaceable on a small node (it would then never run, so never be
measured). Every estimate is floored at MIN_CAMERA_COST, which is at least the Ray
reservation every camera actor declares, so the scheduler never counts a camera
below what Ray holds for it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

from ..config import CameraConfig

# --- calibration points -------------------------------------------------------------------------
_REF_DECODE_CORES = 0.065  # 768x432 H.264 at 12.5 fps: 5-8% of a core
_REF_DECODE_MPIXELS_PER_S = 768 * 432 * 12.5 / 1e6  # 4.1472
_REF_MOTION_CORES = 0.015  # MOG2 on 320x180 at 5 fps: 1-2% of a core
_REF_MOTION_MPIXELS_PER_S = 320 * 180 * 5 / 1e6  # 0.288

# --- defaults -----------------------------------------------------------------------------------
DECODE_CORE_SECONDS_PER_MPIXEL = _REF_DECODE_CORES / _REF_DECODE_MPIXELS_PER_S  # ~0.0157
MOTION_CORE_SECONDS_PER_MPIXEL = _REF_MOTION_CORES / _REF_MOTION_MPIXELS_PER_S  # ~0.052
DETECTOR_CORE_SECONDS_PER_RUN_AT_320 = 0.020  # Yolo-Fastest-1.1-xl, 320x320, cv2.dnn
FRAME_OVERHEAD_CORE_SECONDS = 0.002  # estimate: retrieve + resize + tracker + publish
ACTOR_BASE_CORES = 0.005  # an idle Ray actor process (issue 16: about 0.5% of a core)
# Unknown source: a 720p stream at 15 fps, between the 640x360 sub-streams and the
# 1080p/25 main streams of common community cameras; erring high is the safe side.
DEFAULT_SOURCE_WIDTH = 1280
DEFAULT_SOURCE_HEIGHT = 720
DEFAULT_SOURCE_FPS = 15.0
DEFAULT_ASPECT = 9 / 16  # height / width when only the width is known

# Floor of every estimate, prior or measured: an idle camera actor measures about half
# of this; the rest is margin for Ray's own threads on a busy node. Must be at least
# the fixed Ray reservation of a camera actor (capacity.RAY_CPUS_PER_CAMERA).
MIN_CAMERA_COST = 0.01
MAX_PRIOR_COST = 2.0  # ceiling of a prior (not of a measurement)
# Share of the full decode each `source.skip_loop_filter` leaves. `noref` saves nothing
# measurable on the streams measured (none had B-frames): counted as the full decode.
DECODE_SHARE_BY_SKIP_LOOP_FILTER = {"none": 1.0, "noref": 1.0, "all": 0.70}


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What is known about a stream (from a probe or the actor's CaptureStats)."""

    width: int | None = None
    height: int | None = None
    fps: float | None = None

    @property
    def complete(self) -> bool:
        """Width, height and fps are all known (enough to tell a camera's shape)."""
        return _positive(self.width) and _positive(self.height) and _positive(self.fps)


@dataclass(frozen=True, slots=True)
class CameraShape:
    """What a camera's CPU cost depends on; cameras of one shape cost about the same.

    `source` is (width, height, fps) of the stream, None while unknown. The rest are
    the settings that change the work per second; thresholds, masks, zones and
    tracker options do not count (they cost next to nothing).
    """

    source: tuple[int, int, float] | None
    realtime: bool  # files: paced at their own fps (else decoded as fast as possible)
    decode_threads: int
    skip_loop_filter: str  # the decode shortcut (SourceConfig.skip_loop_filter)
    analysis_fps: float
    analysis_width: int
    motion_width: int | None  # None: motion disabled
    detector: tuple[str, int, float] | None  # model file name, input size, max runs per second

    @property
    def key(self) -> str:
        """A stable text form, for persisting and for logs."""
        return _shape_key(self)

    @property
    def settings_key(self) -> str:
        """The key of the same settings with the source size left unknown."""
        return _shape_key(replace(self, source=None)) if self.source is not None else _shape_key(self)


# The scheduler asks for every camera's key in every planning step (2,000 cameras: 2,000
# string formats per step); cameras share a few shapes, so the keys are remembered.
@functools.lru_cache(maxsize=4096)
def _shape_key(shape: CameraShape) -> str:
    src = "unknown" if shape.source is None else f"{shape.source[0]}x{shape.source[1]}@{shape.source[2]:g}"
    motion = "off" if shape.motion_width is None else str(shape.motion_width)
    detector = "none" if shape.detector is None else f"{shape.detector[0]}:{shape.detector[1]}@{shape.detector[2]:g}"
    # Only a shortcut in use is named: the keys of cameras without one (persisted costs) stay as they were.
    shortcut = "" if shape.skip_loop_filter == "none" else f" skip_loop_filter={shape.skip_loop_filter}"
    return (
        f"src={src} realtime={int(shape.realtime)} threads={shape.decode_threads}{shortcut} "
        f"fps={shape.analysis_fps:g} width={shape.analysis_width} motion={motion} detector={detector}"
    )


def shape_of(camera: CameraConfig, source: SourceInfo | None = None) -> CameraShape:
    analysis = camera.analysis
    known = source if source is not None and source.complete else None
    return CameraShape(
        source=None if known is None else (int(known.width), int(known.height), round(float(known.fps), 2)),  # type: ignore[arg-type]
        realtime=camera.source.realtime or not camera.source.is_file,
        decode_threads=camera.source.decode_threads,
        skip_loop_filter=camera.source.skip_loop_filter,
        analysis_fps=analysis.fps,
        analysis_width=analysis.width,
        motion_width=analysis.motion.width if analysis.motion.enabled else None,
        detector=None
        if analysis.detector is None
        else (analysis.detector.model.name, analysis.detector.input_size, analysis.detector.max_fps),
    )


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """The prior of one camera, by component, in cores."""

    decode: float
    frames: float
    motion: float
    detector: float
    base: float

    @property
    def raw_total(self) -> float:
        return self.decode + self.frames + self.motion + self.detector + self.base

    @property
    def total(self) -> float:
        """The prior used for placement: the raw total clamped to [MIN_CAMERA_COST, MAX_PRIOR_COST]."""
        return clamp_prior(self.raw_total)


def clamp_prior(value: float) -> float:
    return min(MAX_PRIOR_COST, max(MIN_CAMERA_COST, value))


def _positive(value: float | int | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def _source_geometry(source: SourceInfo | None) -> tuple[float, float, float]:
    """Width, height and fps of the source, with defaults for what is unknown."""
    source = source or SourceInfo()
    if _positive(source.width) and _positive(source.height):
        width, height = float(source.width), float(source.height)  # type: ignore[arg-type]
    elif _positive(source.width):
        width = float(source.width)  # type: ignore[arg-type]
        height = width * DEFAULT_ASPECT
    else:
        width, height = float(DEFAULT_SOURCE_WIDTH), float(DEFAULT_SOURCE_HEIGHT)
    fps = float(source.fps) if _positive(source.fps) else DEFAULT_SOURCE_FPS  # type: ignore[arg-type]
    return width, height, fps


def cost_breakdown(
    camera: CameraConfig, source: SourceInfo | None = None, *, analysis_fps: float | None = None
) -> CostBreakdown:
    """The prior CPU cost of `camera`, by component (see the module docstring), analysing
    at `analysis_fps` (default: its `analysis.fps`)."""
    src_w, src_h, src_fps = _source_geometry(source)
    analysis = camera.analysis
    # The analysis never runs faster than frames arrive.
    analysis_fps = min(analysis.fps if analysis_fps is None else analysis_fps, src_fps)
    analysed_w = min(src_w, float(analysis.width))
    aspect = src_h / src_w

    decode_share = DECODE_SHARE_BY_SKIP_LOOP_FILTER[camera.source.skip_loop_filter]
    decode = DECODE_CORE_SECONDS_PER_MPIXEL * src_w * src_h * src_fps / 1e6 * decode_share
    frames = FRAME_OVERHEAD_CORE_SECONDS * analysis_fps
    motion = 0.0
    if analysis.motion.enabled:
        motion_w = min(float(analysis.motion.width), analysed_w)
        motion = MOTION_CORE_SECONDS_PER_MPIXEL * motion_w * motion_w * aspect * analysis_fps / 1e6
    detector = 0.0
    if analysis.detector is not None:
        runs_per_s = min(analysis.detector.max_fps, analysis_fps)
        per_run = DETECTOR_CORE_SECONDS_PER_RUN_AT_320 * (analysis.detector.input_size / 320) ** 2
        detector = per_run * runs_per_s
    return CostBreakdown(decode=decode, frames=frames, motion=motion, detector=detector, base=ACTOR_BASE_CORES)


def estimate_cost(camera: CameraConfig, source: SourceInfo | None = None) -> float:
    """The prior CPU cost of `camera` in cores, within [MIN_CAMERA_COST, MAX_PRIOR_COST]."""
    return cost_breakdown(camera, source).total
