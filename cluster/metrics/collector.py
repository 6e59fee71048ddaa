"""Renders the newest cluster snapshot as Prometheus metric families on each scrape.

Reads only the `SnapshotStore` (a lock and a reference copy), never Ray, so
scrapes are cheap and cannot hang on a busy actor. A reading older than
`stale_after_s` is left out: its series go stale in Prometheus instead of
showing frozen values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from ..control import CameraView, ClusterStatus
from ..domain import CameraState, HistogramSnapshot, RecordingState, RecordingStatus
from . import definitions as d
from .batch import BATCH_DEFS
from .events import EVENT_STORE_DEFS, EventStoreSnapshot
from .scheduler import SchedulerSnapshot
from .snapshot import SOURCES, ClusterSnapshot, Reading, SnapshotStore

logger = logging.getLogger(__name__)

UNOBSERVED = "unobserved"  # enabled, but no status (actor starting, moving or dead)
DISABLED = "disabled"
STATES: tuple[str, ...] = (*(s.value for s in CameraState), UNOBSERVED, DISABLED)

CAMERA_DEFS = (
    d.CAMERA_INFO,
    d.CAMERA_ENABLED,
    d.CAMERA_UP,
    d.CAMERA_STATE,
    d.CAMERA_FRAMES_RECEIVED,
    d.CAMERA_FRAMES_ANALYSED,
    d.CAMERA_FRAMES_SKIPPED,
    d.CAMERA_DETECTOR_RUNS,
    d.CAMERA_DETECTIONS,
    d.CAMERA_RECONNECTS,
    d.CAMERA_ANALYSIS_ERRORS,
    d.CAMERA_SOURCE_FPS,
    d.CAMERA_ANALYSIS_FPS,
    d.CAMERA_ANALYSIS_TARGET_FPS,
    d.CAMERA_ANALYSIS_DEGRADED,
    d.CAMERA_FRAME_AGE,
    d.CAMERA_CPU,
    d.CAMERA_MEMORY,
    d.CAMERA_STAGE_DURATION,
    d.CAMERA_CAPTURE_TO_PUBLISH,
    # recordings
    d.RECORDING_STATE,
    d.RECORDING_BYTES,
    d.RECORDING_SEGMENTS,
    d.RECORDING_PACKETS_DROPPED,
    d.RECORDING_GAPS,
    d.RECORDING_RETENTION_DELETED,
    d.RECORDING_DISK_USED,
    d.RECORDING_BUDGET,
    d.RECORDING_DISK_FREE,
)
CLUSTER_DEFS = (
    d.CLUSTER_CAMERAS_CONFIGURED,
    d.CLUSTER_CAMERAS_LIVE,
    d.CLUSTER_CAMERAS_UNPLACED,
    d.NODE_INFO,
    d.NODE_UP,
    d.NODE_CPUS,
    d.NODE_CAMERAS,
    d.NODE_LOAD,
    d.NODE_DRAINING,
)
SCHEDULER_DEFS = (
    d.SCHEDULER_MOVES,
    d.SCHEDULER_RECOVERIES,
    d.SCHEDULER_UNPLACED,
    d.SCHEDULER_CAMERAS,
    d.SCHEDULER_REQUESTED_BUNDLES,
    d.NODE_USABLE,
    d.NODE_CPU_RESERVED,
    d.NODE_CPU_MEASURED,
    d.SCHEDULER_UNPLACED_DEMAND,
)
COLLECTED = (*CAMERA_DEFS, *CLUSTER_DEFS, *SCHEDULER_DEFS, *EVENT_STORE_DEFS, *BATCH_DEFS, d.SNAPSHOT_AGE)
# The families of one scrape by definition. Any: prometheus_client's metric families
# differ in add_metric's signature (a histogram takes buckets), and `Metric` has none.
Families = dict[d.MetricDef, Any]


class ClusterCollector(Collector):
    def __init__(
        self, store: SnapshotStore, *, wall_clock: Callable[[], float] = time.time, stale_after_s: float = 30.0
    ):
        self._store = store
        self._wall_clock = wall_clock
        self._stale_after_s = stale_after_s

    def describe(self) -> Iterable[Metric]:
        return [definition.family() for definition in COLLECTED]

    def collect(self) -> Iterator[Metric]:
        snapshot = self._store.get()
        now = self._wall_clock()
        families = {definition: definition.family() for definition in COLLECTED}
        cameras, cluster, scheduler, events = (
            self._fresh(r, now) for r in (snapshot.cameras, snapshot.cluster, snapshot.scheduler, snapshot.events)
        )
        if cameras is not None:
            for view in cameras:
                _add_camera_guarded(families, view, now)
        if cluster is not None:
            _add_cluster(families, cluster)
        if scheduler is not None:
            _add_scheduler(families, scheduler)
        if events is not None:
            _add_event_store(families, events)
        batch = self._fresh(snapshot.batch, now)
        if batch is not None:
            _add_samples(families, BATCH_DEFS, batch.samples)
        _add_ages(families[d.SNAPSHOT_AGE], snapshot, now)
        yield from families.values()

    def _fresh(self, reading: Reading | None, now: float):
        if reading is None or now - reading.taken_at > self._stale_after_s:
            return None
        return reading.value


def _add_camera_guarded(f: Families, view: CameraView, now: float) -> None:
    try:
        _add_camera(f, view, now)
    except Exception:  # one odd status must not fail the whole scrape
        logger.exception("metrics: cannot render camera %s", view.config.id)


def _add_camera(f: Families, view: CameraView, now: float) -> None:
    camera, status = view.config.id, view.status
    node = view.node_id or (status.node_id if status else "") or ""
    f[d.CAMERA_INFO].add_metric([camera, node, status.mode if status else "", view.config.name], {})
    f[d.CAMERA_ENABLED].add_metric([camera], 1.0 if view.config.enabled else 0.0)
    state = status.state.value if status is not None else UNOBSERVED if view.config.enabled else DISABLED
    f[d.CAMERA_UP].add_metric([camera], 1.0 if state == CameraState.LIVE.value else 0.0)
    for name in STATES:
        f[d.CAMERA_STATE].add_metric([camera, name], 1.0 if name == state else 0.0)
    if status is None:
        return
    f[d.CAMERA_FRAMES_RECEIVED].add_metric([camera], status.frames_received)
    f[d.CAMERA_FRAMES_ANALYSED].add_metric([camera], status.frames_analysed)
    f[d.CAMERA_FRAMES_SKIPPED].add_metric([camera], status.frames_skipped)
    f[d.CAMERA_DETECTOR_RUNS].add_metric([camera], status.detector_runs)
    f[d.CAMERA_SOURCE_FPS].add_metric([camera], status.fps_in)
    f[d.CAMERA_ANALYSIS_FPS].add_metric([camera], status.fps_out)
    rate = status.target_fps or view.config.analysis.fps  # 0 from an actor that does not report it
    f[d.CAMERA_ANALYSIS_TARGET_FPS].add_metric([camera], min(rate, status.fps_in))
    f[d.CAMERA_ANALYSIS_DEGRADED].add_metric([camera], 1.0 if status.degraded else 0.0)
    if status.last_frame_time is not None:
        f[d.CAMERA_FRAME_AGE].add_metric([camera], max(0.0, now - status.last_frame_time))
    f[d.CAMERA_CPU].add_metric([camera], status.cpu_percent / 100.0)
    f[d.CAMERA_MEMORY].add_metric([camera], status.memory_uss_bytes)
    if status.recording is not None:
        _add_recording(f, camera, status.recording)
    meters = status.metrics
    if meters is None:  # an actor from before cumulative meters, or a fake
        return
    for stage, histogram in sorted(meters.stage_seconds.items()):
        _add_histogram(f[d.CAMERA_STAGE_DURATION], [camera, stage], histogram)
    if meters.capture_to_publish_seconds is not None:
        _add_histogram(f[d.CAMERA_CAPTURE_TO_PUBLISH], [camera], meters.capture_to_publish_seconds)
    for class_name, count in sorted(meters.detections_by_class.items()):
        f[d.CAMERA_DETECTIONS].add_metric([camera, class_name], count)
    for reason, count in sorted(meters.reconnects_by_reason.items()):
        f[d.CAMERA_RECONNECTS].add_metric([camera, reason], count)
    f[d.CAMERA_ANALYSIS_ERRORS].add_metric([camera], meters.analysis_errors)


def _add_recording(f: Families, camera: str, recording: RecordingStatus) -> None:
    for state in RecordingState:
        if state is not RecordingState.OFF:
            f[d.RECORDING_STATE].add_metric([camera, state.value], 1.0 if state is recording.state else 0.0)
    f[d.RECORDING_BYTES].add_metric([camera], recording.bytes_written)
    f[d.RECORDING_SEGMENTS].add_metric([camera], recording.segments_written)
    f[d.RECORDING_PACKETS_DROPPED].add_metric([camera], recording.packets_dropped)
    f[d.RECORDING_GAPS].add_metric([camera], recording.gaps_recorded)
    f[d.RECORDING_RETENTION_DELETED].add_metric([camera], recording.retention_deleted)
    f[d.RECORDING_DISK_USED].add_metric([camera], recording.disk_used_bytes)
    f[d.RECORDING_BUDGET].add_metric([camera], recording.budget_bytes)
    f[d.RECORDING_DISK_FREE].add_metric([camera], recording.disk_free_bytes)


def _add_histogram(family: HistogramMetricFamily, labels: list[str], histogram: HistogramSnapshot) -> None:
    buckets = [(floatToGoString(bound), count) for bound, count in histogram.cumulative()]
    family.add_metric(labels, buckets=buckets, sum_value=histogram.total)


def _add_cluster(f: Families, cluster: ClusterStatus) -> None:
    f[d.CLUSTER_CAMERAS_CONFIGURED].add_metric([], cluster.cameras_configured)
    f[d.CLUSTER_CAMERAS_LIVE].add_metric([], cluster.cameras_live)
    f[d.CLUSTER_CAMERAS_UNPLACED].add_metric([], len(cluster.unplaced))
    for node in cluster.nodes:
        f[d.NODE_INFO].add_metric([node.node_id, node.address], {})
        f[d.NODE_UP].add_metric([node.node_id], 1.0 if node.alive else 0.0)
        f[d.NODE_CPUS].add_metric([node.node_id], node.cpus)
        f[d.NODE_CAMERAS].add_metric([node.node_id], len(node.cameras))
        f[d.NODE_LOAD].add_metric([node.node_id], node.load)
        f[d.NODE_DRAINING].add_metric([node.node_id], 1.0 if node.draining else 0.0)


def _add_scheduler(f: Families, scheduler: SchedulerSnapshot) -> None:
    for reason, count in sorted(scheduler.moves_total.items()):
        f[d.SCHEDULER_MOVES].add_metric([reason], count)
    f[d.SCHEDULER_RECOVERIES].add_metric([], scheduler.recoveries_total)
    for reason, count in sorted(scheduler.unplaced_by_reason.items()):
        f[d.SCHEDULER_UNPLACED].add_metric([reason], count)
    for phase, count in sorted(scheduler.cameras_by_phase.items()):
        f[d.SCHEDULER_CAMERAS].add_metric([phase], count)
    f[d.SCHEDULER_REQUESTED_BUNDLES].add_metric([], scheduler.requested_bundles)
    for node, usable in sorted(scheduler.node_usable_cores.items()):
        f[d.NODE_USABLE].add_metric([node], usable)
    for node, cores in sorted(scheduler.node_reserved_cores.items()):
        f[d.NODE_CPU_RESERVED].add_metric([node], cores)
    for node, cores in sorted(scheduler.node_measured_cores.items()):
        f[d.NODE_CPU_MEASURED].add_metric([node], cores)
    for reason, cores in sorted(scheduler.unplaced_demand_cores.items()):
        f[d.SCHEDULER_UNPLACED_DEMAND].add_metric([reason], cores)


def _add_event_store(f: Families, events: EventStoreSnapshot) -> None:
    """The writer actor's own metrics, sample for sample (they are ours: checked by definition)."""
    for definition in EVENT_STORE_DEFS:
        family = f[definition]
        for sample in events.samples.get(definition.name, ()):
            family.add_sample(sample.name, dict(sample.labels), sample.value)


def _add_samples(f: Families, definitions: tuple[d.MetricDef, ...], samples) -> None:
    """Another actor's own metrics (the job manager's), sample for sample, checked by definition."""
    for definition in definitions:
        family = f[definition]
        for sample in samples.get(definition.name, ()):
            family.add_sample(sample.name, dict(sample.labels), sample.value)


def _add_ages(family: Any, snapshot: ClusterSnapshot, now: float) -> None:
    """Shown even when too old to render: it says how stale."""
    for source in SOURCES:
        reading: Reading | None = getattr(snapshot, source)
        if reading is not None:
            family.add_metric([source], max(0.0, now - reading.taken_at))
