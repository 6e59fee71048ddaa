"""CPU cost of a camera actor, in cores: what the scheduler's admission control counts.

Since issue 9 this estimate, not Ray, decides whether a camera fits a node: every
camera actor declares the same small fixed Ray reservation (`capacity.py`), and the
scheduler places cameras by the estimates below, which follow what cameras really
measure. Where an estimate comes from, best first (`CostBasis`):

1. MEASURED: the camera's own CPU, exponentially smoothed (time constant 60 s), once
   it has been live for `cost_warmup_s`. A running camera's reservation follows it
   without a restart of its actor.
2. SHAPE: what the measured cameras of its *shape* cost on average. A shape is what a
   camera's cost depends on: the source's resolution and fps, and the cost-relevant
   analysis settings (analysis fps and width, motion, detector model, input size and
   budget, decode threads, real-time pacing). A camera added next to 63 measured ones
   of the same shape is costed at what they measure before it ever runs.
3. SETTINGS: a camera whose source size is not known yet (a network camera that has
   not run; file sources are probed before they start) takes the most that any
   measured camera with the same analysis settings costs: the conservative side,
   since its stream may be bigger than theirs.
4. PRIOR: the prior from settings below, scaled by the calibration of the cluster's
   node kinds (measured / prior over the cameras measured on each kind, persisted:
   the prior's constants were measured on one development machine, and a node of
   another kind decodes faster or slower).

A changed camera (detector added, fps raised) is re-estimated at once: from its new
shape if that is known, else its own measurement shifted by the change of its prior.
Learning the source's real size changes its prior, never what it measured.

The prior itself (what a camera of given settings should cost before any measurement) is
in `prior.py`.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..config import CameraConfig
from .model import CameraDemand
from .prior import (
    DEFAULT_SOURCE_FPS,
    DEFAULT_SOURCE_HEIGHT,
    DEFAULT_SOURCE_WIDTH,
    MIN_CAMERA_COST,
    CameraShape,
    SourceInfo,
    clamp_prior,
    cost_breakdown,
    shape_of,
)

# Smoothing of measurements: weight of a sample taken dt seconds after the
# previous one is 1 - exp(-dt / time constant), so irregular polling is fine
# and a step change is 63% absorbed after one time constant.
SMOOTHING_TIME_CONSTANT_S = 60.0
FIRST_SAMPLE_WEIGHT = 0.5  # the first measurement is blended half-and-half with the estimate before it

# A node kind's calibration (measured / prior) is kept within these bounds: a wild
# ratio says the prior's model does not fit that camera, not that the node is 20x faster.
MIN_CALIBRATION = 0.1
MAX_CALIBRATION = 10.0


class CostBasis(str, enum.Enum):
    """Where a camera's estimate comes from (see the module docstring)."""

    MEASURED = "measured"  # its own measurements
    SHAPE = "shape"  # measured cameras of the same shape
    SETTINGS = "settings"  # measured cameras with the same settings (its source size unknown)
    PRIOR = "prior"  # the prior from its settings, times the node kinds' calibration


@dataclass(slots=True)
class _Estimate:
    raw_prior: float  # the prior's raw total for what is known of the source (not calibrated, not clamped)
    config: CameraConfig | None = None  # None when the prior was set directly (set_prior)
    shape: CameraShape | None = None
    value: float | None = None  # own smoothed estimate, not yet floored; None before its first measurement
    last_sample_time: float | None = None
    node_kind: str | None = None  # kind of the node its last measurement came from


class CostModel:
    """Per-camera cost estimates (see the module docstring for the order of bases).

    `observe()` takes the actor's measured CPU use in cores (CameraStatus.cpu_percent / 100),
    a timestamp from the caller's clock and the kind of node it runs on. Feed it only while
    the camera is LIVE: a connecting or reconnecting actor uses little CPU and would drag
    the estimate down. Call `refresh()` once per control-loop step after the measurements:
    it recomputes what shapes cost and the node kinds' calibration.
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
        self._sources: dict[str, SourceInfo] = {}  # source URL -> what is known of its stream
        self._shape_costs: dict[str, float] = {}  # shape key -> mean of its measured cameras (kept when they go)
        self._shape_members: dict[str, int] = {}  # shape key -> measured cameras behind the figure, last refresh
        self._settings_costs: dict[str, float] = {}  # settings key -> most any measured camera of them costs
        self._calibration: dict[str, float] = {}  # node kind -> measured / prior
        self._active_kinds: frozenset[str] = frozenset()

    # ---- cameras ---------------------------------------------------------------------------

    def update_config(self, camera: CameraConfig, source: SourceInfo | None = None) -> float:
        """(Re)compute the prior and shape of a camera from its settings; returns the new estimate.

        `source` defaults to what is known of the camera's source URL (`learn_source`).
        Changed settings re-estimate the camera at once: from its new shape when cameras
        of that shape were measured, else by shifting its own learnt estimate by the
        change of its prior (what measurements taught, "this camera costs 0.03 more than
        predicted", is kept while the change shows).
        """
        if source is not None and source.complete:
            self._sources[camera.source.url] = source
        info = self._sources.get(camera.source.url) if source is None else source
        shape = shape_of(camera, info)
        raw = cost_breakdown(camera, info).raw_total
        est = self._estimates.get(camera.id)
        if est is None:
            self._estimates[camera.id] = _Estimate(raw_prior=raw, config=camera, shape=shape)
            return self.cost(camera.id)
        settings_changed = est.shape is None or est.shape.settings_key != shape.settings_key
        if settings_changed and est.value is not None:
            if self._pooled(shape) is not None:
                est.value, est.last_sample_time = None, None  # start again from what its new shape costs
            else:
                est.value += self._scaled_prior(raw) - self._scaled_prior(est.raw_prior)
        est.raw_prior, est.config, est.shape = raw, camera, shape
        return self.cost(camera.id)

    def set_prior(self, camera_id: str, prior: float) -> float:
        """A prior computed elsewhere, in cores (no shape: the camera learns only from itself).
        A changed prior shifts a learnt estimate by the same amount."""
        if not (math.isfinite(prior) and prior >= 0):
            raise ValueError(f"prior cost of camera {camera_id!r} must be a non-negative number, got {prior}")
        est = self._estimates.get(camera_id)
        if est is None:
            self._estimates[camera_id] = _Estimate(raw_prior=prior)
        else:
            if est.value is not None:
                est.value += self._scaled_prior(prior) - self._scaled_prior(est.raw_prior)
            est.raw_prior, est.config, est.shape = prior, None, None
        return self.cost(camera_id)

    def observe(self, camera_id: str, measured_cores: float, now: float, node_kind: str | None = None) -> float:
        """Fold one measurement into the camera's own estimate; returns the new estimate.

        The first one is blended with the estimate before it (`first_sample_weight`). A
        sample not newer than the previous one (duplicate poll, clock stepped back) is
        ignored rather than double-counted.
        """
        est = self._require(camera_id)
        if not (math.isfinite(measured_cores) and measured_cores >= 0):
            raise ValueError(
                f"measured CPU of camera {camera_id!r} must be a non-negative number of cores, got {measured_cores}"
            )
        if not math.isfinite(now):
            raise ValueError(f"timestamp of the measurement of camera {camera_id!r} is not finite: {now}")
        if est.value is None or est.last_sample_time is None:
            before = self._unmeasured_cost(est)
            est.value = before + self._first_weight * (measured_cores - before)
        elif now <= est.last_sample_time:
            return self.cost(camera_id)
        else:
            weight = 1.0 - math.exp(-(now - est.last_sample_time) / self._tau)
            est.value += weight * (measured_cores - est.value)
        est.last_sample_time = now
        if node_kind is not None:
            est.node_kind = node_kind
        return self.cost(camera_id)

    def learned(self, camera_id: str) -> float | None:
        """The camera's own smoothed estimate if measurements shaped it (for persisting), else None."""
        return self._require(camera_id).value

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
        est = self._require(camera_id)
        return max(self._floor, est.value if est.value is not None else self._unmeasured_cost(est))

    def basis(self, camera_id: str) -> CostBasis:
        est = self._require(camera_id)
        if est.value is not None:
            return CostBasis.MEASURED
        if est.shape is not None and self._pooled(est.shape) is not None:
            return CostBasis.SHAPE if est.shape.source is not None else CostBasis.SETTINGS
        return CostBasis.PRIOR

    def describe(self, camera_id: str) -> str:
        """Where the estimate comes from, in words (for reasons and reports)."""
        est = self._require(camera_id)
        basis = self.basis(camera_id)
        if basis is CostBasis.MEASURED:
            return "its own measurements"
        if basis is CostBasis.SHAPE and est.shape is not None:
            return f"{self._shape_members.get(est.shape.key, 0) or 'earlier'} measured camera(s) of its shape"
        if basis is CostBasis.SETTINGS:
            return "the dearest measured camera with its settings (its source size is not known yet)"
        scale = self.prior_scale()
        calibrated = f", calibration x{scale:.2f}" if scale != 1.0 else ""
        if est.shape is None or est.shape.source is None:
            src = f"unknown source assumed {DEFAULT_SOURCE_WIDTH}x{DEFAULT_SOURCE_HEIGHT} at {DEFAULT_SOURCE_FPS:g} fps"
        else:
            w, h, fps = est.shape.source
            src = f"source {w}x{h} at {fps:g} fps"
        return f"the prior from its settings ({src}{calibrated})"

    def shape(self, camera_id: str) -> CameraShape | None:
        return self._require(camera_id).shape

    def checkpoint(self, camera_id: str) -> object:
        """A copy of the camera's estimate, for `rollback` when a change is rejected."""
        return replace(self._require(camera_id))

    def rollback(self, camera_id: str, checkpoint: object) -> None:
        """Put back what `checkpoint` copied (its own measurements included)."""
        if not isinstance(checkpoint, _Estimate):
            raise TypeError(f"not a checkpoint of a cost estimate: {checkpoint!r}")
        self._estimates[camera_id] = replace(checkpoint)

    def forget(self, camera_id: str) -> None:
        """Drop a removed camera (no error if unknown)."""
        self._estimates.pop(camera_id, None)

    def known(self) -> list[str]:
        return sorted(self._estimates)

    def demand(self, camera_ids: list[str] | None = None) -> list[CameraDemand]:
        """CameraDemand of the given cameras (default: all known), sorted by id."""
        ids = sorted(self._estimates) if camera_ids is None else sorted(camera_ids)
        return [CameraDemand(camera_id=cid, cost=self.cost(cid)) for cid in ids]

    # ---- sources ---------------------------------------------------------------------------

    def learn_source(self, url: str, source: SourceInfo) -> bool:
        """What a probe or a running actor says of a stream; returns True if it was news.
        The cameras of that URL get the prior (and shape) of the real stream; their own
        measurements stay as they are (they were of this stream all along)."""
        if not source.complete or self._sources.get(url) == source:
            return False
        self._sources[url] = source
        for est in self._estimates.values():
            if est.config is not None and est.config.source.url == url:
                est.raw_prior = cost_breakdown(est.config, source).raw_total
                est.shape = shape_of(est.config, source)
        return True

    def source_of(self, url: str) -> SourceInfo | None:
        return self._sources.get(url)

    # ---- shapes and calibration -----------------------------------------------------------

    def refresh(self, active_kinds: Iterable[str] | None = None) -> None:
        """Recompute what each shape costs (mean of its measured cameras), the most any
        measured camera of given settings costs, and each node kind's calibration (median
        of measured / prior over the measured cameras whose source size is known). Shapes
        and kinds whose cameras are all gone keep their last figures. `active_kinds` are
        the kinds of the alive nodes: the prior is scaled for them."""
        exact: dict[str, list[float]] = {}
        settings: dict[str, list[float]] = {}
        ratios: dict[str, list[float]] = {}
        for est in self._estimates.values():
            if est.value is None or est.shape is None:
                continue
            value = max(self._floor, est.value)
            settings.setdefault(est.shape.settings_key, []).append(value)
            if est.shape.source is not None:
                exact.setdefault(est.shape.key, []).append(value)
                if est.node_kind is not None and est.raw_prior > 0:
                    ratios.setdefault(est.node_kind, []).append(value / est.raw_prior)
        for key, values in exact.items():
            self._shape_costs[key] = math.fsum(values) / len(values)
        self._shape_members = {key: len(values) for key, values in exact.items()}
        for key, values in settings.items():
            self._settings_costs[key] = max(values)
        for kind, values in ratios.items():
            self._calibration[kind] = min(MAX_CALIBRATION, max(MIN_CALIBRATION, statistics.median(values)))
        if active_kinds is not None:
            self._active_kinds = frozenset(active_kinds)

    def prior_scale(self) -> float:
        """The calibration applied to priors: the highest of the alive node kinds that have
        one (a camera may land on the slowest), 1.0 when none has."""
        known = [self._calibration[k] for k in self._active_kinds if k in self._calibration]
        return max(known) if known else 1.0

    def calibration(self, node_kind: str) -> float | None:
        return self._calibration.get(node_kind)

    def calibrate(self, node_kind: str, factor: float) -> None:
        """Set a node kind's calibration (a stored one, or an operator's)."""
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"calibration of node kind {node_kind!r} must be a positive number, got {factor}")
        self._calibration[node_kind] = min(MAX_CALIBRATION, max(MIN_CALIBRATION, factor))

    def shape_cost(self, shape: CameraShape) -> float | None:
        """What cameras of this shape are known to cost, if any were measured."""
        return self._pooled(shape)

    def learnt(self) -> LearntCosts:
        """Everything learnt beyond single cameras, for persisting."""
        return LearntCosts(
            shapes=dict(sorted(self._shape_costs.items())),
            settings=dict(sorted(self._settings_costs.items())),
            calibration=dict(sorted(self._calibration.items())),
            sources={
                url: (int(s.width), int(s.height), float(s.fps))  # type: ignore[arg-type]
                for url, s in sorted(self._sources.items())
            },
        )

    def restore_learnt(self, learnt: LearntCosts) -> None:
        """Take back what `learnt()` gave a previous process (before its cameras' configs)."""
        for key, value in learnt.shapes.items():
            if math.isfinite(value) and value >= 0:
                self._shape_costs[key] = value
        for key, value in learnt.settings.items():
            if math.isfinite(value) and value >= 0:
                self._settings_costs[key] = value
        for kind, factor in learnt.calibration.items():
            if math.isfinite(factor) and factor > 0:
                self.calibrate(kind, factor)
        for url, (width, height, fps) in learnt.sources.items():
            self.learn_source(url, SourceInfo(width, height, fps))

    # ---- internals -------------------------------------------------------------------------

    def _pooled(self, shape: CameraShape) -> float | None:
        if shape.source is not None:
            return self._shape_costs.get(shape.key)
        return self._settings_costs.get(shape.settings_key)

    def _scaled_prior(self, raw: float) -> float:
        return clamp_prior(raw * self.prior_scale())

    def _unmeasured_cost(self, est: _Estimate) -> float:
        pooled = self._pooled(est.shape) if est.shape is not None else None
        return pooled if pooled is not None else self._scaled_prior(est.raw_prior)

    def _require(self, camera_id: str) -> _Estimate:
        try:
            return self._estimates[camera_id]
        except KeyError:
            raise KeyError(f"camera {camera_id!r} has no cost estimate; call update_config() first") from None


@dataclass(frozen=True)
class LearntCosts:
    """What the cost model learnt beyond single cameras: shape and settings costs (cores),
    node kinds' calibration (measured / prior) and the known sources (width, height, fps)."""

    shapes: dict[str, float]
    settings: dict[str, float]
    calibration: dict[str, float]
    sources: dict[str, tuple[int, int, float]]
