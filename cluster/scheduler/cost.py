"""CPU cost of a camera actor, in cores: a prior from its settings, refined by measurement.

The prior adds up what the actor does per second:

- decode: every source frame is decoded (H.264 frames depend on each other, so
  `grab()` decodes even the frames the analysis skips), cost ~ pixels * source fps;
- per analysed frame: retrieve/convert, downscale, tracker, publish (a fixed cost);
- motion (MOG2) on the motion-width grey frame, cost ~ its pixels * analysis fps;
- detector: per run ~ input_size^2, at `max_fps` runs per second;
- a small fixed cost of an idle Python actor (Ray's worker threads, status calls).

Calibration (rough figures measured on the 2-core development machine, OpenCV 4.14):

- decoding the 768x432 H.264 clip at 12.5 fps costs ~5-8% of a core -> 6.5% / 4.15 Mpx/s;
- MOG2 on a 320 px wide frame (320x180) at 5 fps costs ~1-2% -> 1.5% / 0.288 Mpx/s;
- Yolo-Fastest-1.1-xl with a 320x320 input takes ~20 ms per run (shared/README.md);
- the per-frame and per-actor costs are estimates, not measurements.

The detector is costed at its full `max_fps` budget although motion gating usually
runs it less often: a busy street has motion all day, and over-estimating only
wastes headroom until measurements correct it. Other detector models (ONNX
YOLOv5/v8) cost more than Yolo-Fastest; their measurements correct that too.

A prior is clamped to [MIN_CAMERA_COST, MAX_PRIOR_COST]: a guess alone must never
make a camera unplaceable on a small node (it would then never run, so never be
measured). Measurements are not capped, only floored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cluster.config import CameraConfig

from .model import CameraDemand

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
ACTOR_BASE_CORES = 0.01  # estimate: an idle Ray actor process
# Unknown source: a 720p stream at 15 fps, between the 640x360 sub-streams and the
# 1080p/25 main streams of common community cameras; erring high is the safe side.
DEFAULT_SOURCE_WIDTH = 1280
DEFAULT_SOURCE_HEIGHT = 720
DEFAULT_SOURCE_FPS = 15.0
DEFAULT_ASPECT = 9 / 16  # height / width when only the width is known

MIN_CAMERA_COST = 0.05  # floor of every estimate, prior or measured
MAX_PRIOR_COST = 2.0  # ceiling of a prior (not of a measurement)

# Smoothing of measurements: weight of a sample taken dt seconds after the
# previous one is 1 - exp(-dt / time constant), so irregular polling is fine
# and a step change is 63% absorbed after one time constant.
SMOOTHING_TIME_CONSTANT_S = 60.0
FIRST_SAMPLE_WEIGHT = 0.5  # the first measurement is blended half-and-half with the prior


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What is known about a stream (from a probe or the actor's CaptureStats)."""

    width: int | None = None
    height: int | None = None
    fps: float | None = None


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
        return min(MAX_PRIOR_COST, max(MIN_CAMERA_COST, self.raw_total))


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


def cost_breakdown(camera: CameraConfig, source: SourceInfo | None = None) -> CostBreakdown:
    """The prior CPU cost of `camera`, by component (see the module docstring)."""
    src_w, src_h, src_fps = _source_geometry(source)
    analysis = camera.analysis
    # The analysis never runs faster than frames arrive.
    analysis_fps = min(analysis.fps, src_fps)
    analysed_w = min(src_w, float(analysis.width))
    aspect = src_h / src_w

    decode = DECODE_CORE_SECONDS_PER_MPIXEL * src_w * src_h * src_fps / 1e6
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


@dataclass(slots=True)
class _Estimate:
    prior: float
    value: float  # smoothed, not yet floored
    last_sample_time: float | None = None


class CostModel:
    """Per-camera cost estimates: the prior from settings, smoothed towards measurements.

    `observe()` takes the actor's measured CPU use in cores (CameraStatus.cpu_percent / 100)
    and a timestamp from the caller's clock. Feed it only while the camera is LIVE: a
    connecting or reconnecting actor uses little CPU and would drag the estimate down.
    """

    def __init__(
        self,
        *,
        time_constant_s: float = SMOOTHING_TIME_CONSTANT_S,
        first_sample_weight: float = FIRST_SAMPLE_WEIGHT,
        floor: float = MIN_CAMERA_COST,
    ) -> None:
        if not (math.isfinite(time_constant_s) and time_constant_s > 0):
            raise ValueError(f"time_constant_s must be a positive number of seconds, got {time_constant_s}")
        if not (0.0 <= first_sample_weight <= 1.0):
            raise ValueError(f"first_sample_weight must be within 0..1, got {first_sample_weight}")
        if not (math.isfinite(floor) and floor >= 0):
            raise ValueError(f"floor must be a non-negative number of cores, got {floor}")
        self._tau = time_constant_s
        self._first_weight = first_sample_weight
        self._floor = floor
        self._estimates: dict[str, _Estimate] = {}

    def update_config(self, camera: CameraConfig, source: SourceInfo | None = None) -> float:
        """(Re)compute the prior of a camera from its settings; returns the new estimate.

        A changed prior (settings changed, or the source's real size became known)
        shifts the estimate by the same amount, so what measurements taught (this
        camera costs 0.03 more than predicted) is kept while the change shows at once.
        """
        return self.set_prior(camera.id, estimate_cost(camera, source))

    def set_prior(self, camera_id: str, prior: float) -> float:
        """Like `update_config` with a prior computed elsewhere, in cores."""
        if not (math.isfinite(prior) and prior >= 0):
            raise ValueError(f"prior cost of camera {camera_id!r} must be a non-negative number, got {prior}")
        est = self._estimates.get(camera_id)
        if est is None:
            self._estimates[camera_id] = _Estimate(prior=prior, value=prior)
        else:
            est.value += prior - est.prior
            est.prior = prior
        return self.cost(camera_id)

    def observe(self, camera_id: str, measured_cores: float, now: float) -> float:
        """Fold one measurement into the estimate; returns the new estimate.

        A sample not newer than the previous one (duplicate poll, clock stepped
        back) is ignored rather than double-counted.
        """
        est = self._require(camera_id)
        if not (math.isfinite(measured_cores) and measured_cores >= 0):
            raise ValueError(
                f"measured CPU of camera {camera_id!r} must be a non-negative number of cores, got {measured_cores}"
            )
        if not math.isfinite(now):
            raise ValueError(f"timestamp of the measurement of camera {camera_id!r} is not finite: {now}")
        if est.last_sample_time is None:
            weight = self._first_weight
        elif now <= est.last_sample_time:
            return self.cost(camera_id)
        else:
            weight = 1.0 - math.exp(-(now - est.last_sample_time) / self._tau)
        est.value += weight * (measured_cores - est.value)
        est.last_sample_time = now
        return self.cost(camera_id)

    def learned(self, camera_id: str) -> float | None:
        """The smoothed estimate if measurements shaped it (for persisting), else None."""
        est = self._require(camera_id)
        return est.value if est.last_sample_time is not None else None

    def restore(self, camera_id: str, value: float, now: float) -> float:
        """Take back a learned estimate persisted by a previous process (after
        `update_config`); `now` is this process's clock, so the next measurement is
        weighted by the time since the restore."""
        est = self._require(camera_id)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"restored cost of camera {camera_id!r} must be a non-negative number, got {value}")
        est.value = value
        est.last_sample_time = now
        return self.cost(camera_id)

    def cost(self, camera_id: str) -> float:
        """Current estimate in cores, never below the floor."""
        return max(self._floor, self._require(camera_id).value)

    def forget(self, camera_id: str) -> None:
        """Drop a removed camera (no error if unknown)."""
        self._estimates.pop(camera_id, None)

    def known(self) -> list[str]:
        return sorted(self._estimates)

    def demand(self, camera_ids: list[str] | None = None) -> list[CameraDemand]:
        """CameraDemand of the given cameras (default: all known), sorted by id."""
        ids = sorted(self._estimates) if camera_ids is None else sorted(camera_ids)
        return [CameraDemand(camera_id=cid, cost=self.cost(cid)) for cid in ids]

    def _require(self, camera_id: str) -> _Estimate:
        try:
            return self._estimates[camera_id]
        except KeyError:
            raise KeyError(f"camera {camera_id!r} has no cost estimate; call update_config() first") from None
