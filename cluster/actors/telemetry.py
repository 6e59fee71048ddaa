"""What a camera actor records for Prometheus: cumulative histograms and counters.

Smoothed averages (the `stage_seconds` of `CameraStatus`) cannot be turned into
Prometheus histograms, so the camera worker also keeps fixed-bucket cumulative
counts, cheap enough to update on every frame (a bisect and two additions), and
ships a frozen copy in `CameraStatus.metrics`. The front door's collector turns
them into `_bucket`/`_sum`/`_count` series; Prometheus computes rates and
quantiles across scrapes. Counts restart at zero with the actor, which
Prometheus treats as a counter reset.

Plain Python that imports only `cluster.domain` (where the frozen snapshots it
produces are defined, since they cross process boundaries in `CameraStatus`).
"""

from __future__ import annotations

import bisect
import collections
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from ..domain.telemetry import CameraMetricsSnapshot, HistogramSnapshot

# Bucket upper bounds in seconds; +Inf is implicit. Per-stage times run from a
# fraction of a millisecond (motion on a small frame) to a few hundred ms (a
# detector on a busy core).
STAGE_BUCKETS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Capture to publish: a live camera should stay well under a second.
LATENCY_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# Why a camera went to RECONNECTING (the prefix of the capture loop's reason),
# a fixed set so the label stays bounded.
RECONNECT_REASONS: tuple[str, ...] = ("unreachable", "stalled", "stream_error")
# More distinct detection classes than this (a model has 80) are counted as "other".
MAX_CLASSES = 256
OTHER_CLASS = "other"
DECODE_STAGE = "decode"


class CumulativeHistogram:
    """Fixed buckets, counts and sum. Not thread-safe on its own (CameraMeters locks)."""

    def __init__(self, bounds: Iterable[float]):
        self.bounds = tuple(sorted(bounds))
        if not self.bounds:
            raise ValueError("a histogram needs at least one bucket bound")
        self._counts = [0] * (len(self.bounds) + 1)
        self._total = 0.0

    def observe(self, value: float) -> None:
        # bisect_left: a value equal to a bound belongs to that bucket (le = "<=").
        self._counts[bisect.bisect_left(self.bounds, value)] += 1
        self._total += value

    def snapshot(self) -> HistogramSnapshot:
        return HistogramSnapshot(self.bounds, tuple(self._counts), self._total)


class _Detection(Protocol):
    @property
    def class_name(self) -> str: ...


def reconnect_reason(reason: str) -> str:
    """The bounded label for a capture loop's RECONNECTING reason text."""
    for prefix in ("unreachable", "stalled"):
        if reason.startswith(prefix):
            return prefix
    return "stream_error"


class CameraMeters:
    """The cumulative meters of one camera worker. Thread-safe: the capture thread
    records decodes and reconnects, the analysis thread frames, Ray's call pool
    takes snapshots."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self._clock = clock
        self._lock = threading.Lock()
        self._stages: dict[str, CumulativeHistogram] = {}
        self._latency = CumulativeHistogram(LATENCY_BUCKETS)
        self._detections: collections.Counter[str] = collections.Counter()
        self._reconnects = dict.fromkeys(RECONNECT_REASONS, 0)  # all present, so the series exist at 0
        self._analysis_errors = 0

    def observe_analysis(
        self, stage_seconds: Mapping[str, float], detections: Iterable[_Detection], capture_to_publish_s: float
    ) -> None:
        """One analysed and published frame: its stage times, detections and latency."""
        with self._lock:
            for stage, seconds in stage_seconds.items():
                self._stage(stage).observe(seconds)
            self._latency.observe(capture_to_publish_s)
            for detection in detections:
                name = detection.class_name
                if name not in self._detections and len(self._detections) >= MAX_CLASSES:
                    name = OTHER_CLASS
                self._detections[name] += 1

    def observe_decode(self, seconds: float) -> None:
        with self._lock:
            self._stage(DECODE_STAGE).observe(seconds)

    def count_analysis_error(self) -> None:
        with self._lock:
            self._analysis_errors += 1

    def on_capture_state(self, state: Any, reason: str) -> None:
        """`CaptureLoop(on_state_change=...)`: counts entries into RECONNECTING by reason."""
        if state == "reconnecting":  # CameraState is a str enum
            with self._lock:
                self._reconnects[reconnect_reason(reason)] += 1

    def timed_opener(self, opener: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a source opener (`sources.open_source`) so every `retrieve()` (the
        decode to BGR) of the sources it opens is timed into the `decode` stage."""

        def open_timed(config: Any, **kwargs: Any) -> TimedRetrieveSource:
            return TimedRetrieveSource(opener(config, **kwargs), self.observe_decode, self._clock)

        return open_timed

    def snapshot(self) -> CameraMetricsSnapshot:
        with self._lock:
            return CameraMetricsSnapshot(
                stage_seconds={name: h.snapshot() for name, h in self._stages.items()},
                capture_to_publish_seconds=self._latency.snapshot(),
                detections_by_class=dict(self._detections),
                reconnects_by_reason=dict(self._reconnects),
                analysis_errors=self._analysis_errors,
            )

    def _stage(self, name: str) -> CumulativeHistogram:
        histogram = self._stages.get(name)
        if histogram is None:
            histogram = self._stages[name] = CumulativeHistogram(STAGE_BUCKETS)
        return histogram


class TimedRetrieveSource:
    """A video source whose `retrieve()` reports its wall time; everything else
    is the wrapped source's."""

    def __init__(self, source: Any, record: Callable[[float], None], clock: Callable[[], float]):
        self._source = source
        self._record = record
        self._clock = clock

    def retrieve(self) -> Any:
        start = self._clock()
        try:
            return self._source.retrieve()
        finally:
            self._record(max(0.0, self._clock() - start))

    def __getattr__(self, name: str) -> Any:
        if name == "_source":  # not set yet: do not recurse
            raise AttributeError(name)
        return getattr(self._source, name)
