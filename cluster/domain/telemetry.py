"""Frozen copies of a camera actor's cumulative meters, shipped in
`CameraStatus.metrics` (the meters themselves live in `cluster.actors.telemetry`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class HistogramSnapshot:
    """Cumulative histogram: `counts[i]` observations fell in bucket i (not
    cumulative across buckets), the last one being above every bound (+Inf)."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    total: float  # sum of the observed values

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations <= bound) pairs, ending with (inf, count)."""
        pairs, running = [], 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=False):
            running += n
            pairs.append((bound, running))
        return pairs


@dataclass(frozen=True, slots=True)
class CameraMetricsSnapshot:
    """Cumulative counts of one camera actor since it started (`CameraStatus.metrics`)."""

    stage_seconds: dict[str, HistogramSnapshot] = field(default_factory=dict)  # decode + pipeline stages
    capture_to_publish_seconds: HistogramSnapshot | None = None
    detections_by_class: dict[str, int] = field(default_factory=dict)
    reconnects_by_reason: dict[str, int] = field(default_factory=dict)  # RECONNECT_REASONS
    analysis_errors: int = 0
