"""Every metric Mắt Thần exports: name, type, help, labels and buckets, in one place.

Conventions (https://prometheus.io/docs/practices/naming/): one `matthan_`
prefix, base units (seconds, bytes, cores, ratios 0..1), counters end in
`_total`, durations are `_seconds` histograms, static labels go in `_info`
series (value 1) to be joined on. Labels carry bounded values only: camera and
node ids, stage, state, class, reason, kind, method, code, phase, outcome and
batch-job ids of running jobs (see `ALLOWED_LABELS`); never track, client,
session, peer or token identities (`FORBIDDEN_LABELS`).

The collector builds families from these (`MetricDef.family`), the push-style
recorders create prometheus_client metrics from them (`MetricDef.create`), and
the tests check the exposition against this table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)

from ..actors.telemetry import LATENCY_BUCKETS, STAGE_BUCKETS

PREFIX = "matthan_"

# Unary RPCs of the front door: from sub-millisecond lookups to snapshots that wait for a frame.
RPC_BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STORE_BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SEGMENT_BUCKETS: tuple[float, ...] = (1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0)
REFRESH_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# Label names that may appear on a matthan_ series, and what bounds their values.
ALLOWED_LABELS: dict[str, str] = {
    "camera": "configured camera ids",
    "node": "Ray node ids",
    "address": "node IP addresses (one per node)",
    "name": "the camera's configured display name (one per camera)",
    "mode": "motion-only, detector or none",
    "stage": "pipeline stage names fixed in code (decode, resize, motion, detector, tracker, regions)",
    "state": "CameraState values plus unobserved and disabled; RecordingState values on recording series",
    "class": "detector class names (at most 256 per camera; the model's classes)",
    "reason": "fixed reason codes (reconnect, drop, close, move, unplaced, event store drop and retention reasons)",
    "kind": "subscription kinds: frames, detections",
    "method": "gRPC methods of the service definition (unknown ones are 'unknown')",
    "code": "gRPC status code names",
    "phase": "scheduler camera phases",
    "outcome": "batch job outcomes: succeeded, failed, cancelled",
    "batch_job": "ids of running batch jobs only (at most max_jobs_shown)",
    "operation": "event store operations fixed in code (write, query, ...)",
    "type": "event types fixed in code (cluster.domain.EventType values)",
    "source": "what the metrics refresher reads: cameras, cluster, scheduler",
    "version": "the installed matthan version",
}
# Identities whose number grows without bound: never labels.
FORBIDDEN_LABELS: frozenset[str] = frozenset(
    {
        "track",
        "track_id",
        "client",
        "client_id",
        "session",
        "session_id",
        "peer",
        "token",
        "user",
        "subscriber",
        "subscription",
        "request_id",
        "frame",
        "sequence",
    }
)


class Kind(str, enum.Enum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class MetricDef:
    """One metric family. `name` is the family name as it appears in the
    exposition: counters end in `_total`, info metrics in `_info`."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()

    def family(self) -> Metric:
        """An empty metric family for a custom collector to fill."""
        labels = list(self.labels)
        if self.kind is Kind.COUNTER:
            return CounterMetricFamily(self.name, self.help, labels=labels)
        if self.kind is Kind.GAUGE:
            return GaugeMetricFamily(self.name, self.help, labels=labels)
        if self.kind is Kind.HISTOGRAM:
            return HistogramMetricFamily(self.name, self.help, labels=labels)
        return InfoMetricFamily(self.name.removesuffix("_info"), self.help, labels=labels)

    def create(self, registry: CollectorRegistry):
        """A prometheus_client metric registered in `registry` (push-style recorders)."""
        if self.kind is Kind.COUNTER:
            return Counter(self.name, self.help, self.labels, registry=registry)
        if self.kind is Kind.GAUGE:
            return Gauge(self.name, self.help, self.labels, registry=registry)
        if self.kind is Kind.HISTOGRAM:
            return Histogram(self.name, self.help, self.labels, registry=registry, buckets=self.buckets)
        # An Info's labels are the keys passed to .info(), not label names to .labels() by.
        return Info(self.name.removesuffix("_info"), self.help, registry=registry)


def _c(name: str, help: str, *labels: str) -> MetricDef:
    return MetricDef(PREFIX + name, Kind.COUNTER, help, labels)


def _g(name: str, help: str, *labels: str) -> MetricDef:
    return MetricDef(PREFIX + name, Kind.GAUGE, help, labels)


def _h(name: str, help: str, buckets: tuple[float, ...], *labels: str) -> MetricDef:
    return MetricDef(PREFIX + name, Kind.HISTOGRAM, help, labels, buckets)


def _i(name: str, help: str, *labels: str) -> MetricDef:
    return MetricDef(PREFIX + name, Kind.INFO, help, labels)


# ---- cameras (collector, from CameraStatus) ------------------------------------------

CAMERA_INFO = _i(
    "camera_info",
    "A configured camera: its node (empty while not running), mode and name.",
    "camera",
    "node",
    "mode",
    "name",
)
CAMERA_ENABLED = _g("camera_enabled", "1 if the camera is enabled in the desired state, else 0.", "camera")
CAMERA_UP = _g("camera_up", "1 if the camera is live (frames arriving), else 0.", "camera")
CAMERA_STATE = _g("camera_state", "1 for the camera's current state, 0 for the others.", "camera", "state")
CAMERA_FRAMES_RECEIVED = _c("camera_frames_received_total", "Frames grabbed from the source.", "camera")
CAMERA_FRAMES_ANALYSED = _c("camera_frames_analysed_total", "Frames analysed and published.", "camera")
CAMERA_FRAMES_SKIPPED = _c(
    "camera_frames_skipped_total", "Frames received but not analysed (analysis runs at analysis.fps).", "camera"
)
CAMERA_DETECTOR_RUNS = _c("camera_detector_runs_total", "Detector inferences run.", "camera")
CAMERA_DETECTIONS = _c("camera_detections_total", "Detections published, by class.", "camera", "class")
CAMERA_RECONNECTS = _c(
    "camera_reconnects_total",
    "Times the source went to reconnecting, by reason (unreachable, stalled, stream_error).",
    "camera",
    "reason",
)
CAMERA_ANALYSIS_ERRORS = _c("camera_analysis_errors_total", "Frames whose analysis raised an error.", "camera")
CAMERA_SOURCE_FPS = _g("camera_source_fps", "Frames per second arriving from the source (smoothed).", "camera")
CAMERA_ANALYSIS_FPS = _g("camera_analysis_fps", "Frames per second analysed (smoothed).", "camera")
CAMERA_ANALYSIS_TARGET_FPS = _g(
    "camera_analysis_target_fps",
    "Frames per second the camera should analyse: min(its rate, source fps); its rate is "
    "analysis.fps, or lower while degraded.",
    "camera",
)
CAMERA_ANALYSIS_DEGRADED = _g(
    "camera_analysis_degraded",
    "1 while the camera analyses below analysis.fps because its node is short of CPU (analysis.min_fps), else 0.",
    "camera",
)
CAMERA_FRAME_AGE = _g(
    "camera_frame_age_seconds",
    "Seconds since the newest frame was grabbed, as of the last refresh plus the time since.",
    "camera",
)
CAMERA_CPU = _g("camera_cpu_cores", "CPU used by the camera actor's process, in cores.", "camera")
CAMERA_MEMORY = _g("camera_memory_uss_bytes", "Unique memory (USS) of the camera actor's process.", "camera")
CAMERA_STAGE_DURATION = _h(
    "camera_stage_duration_seconds",
    "Wall time of one frame in each stage: decode (to BGR) and the analysis stages.",
    STAGE_BUCKETS,
    "camera",
    "stage",
)
CAMERA_CAPTURE_TO_PUBLISH = _h(
    "camera_capture_to_publish_seconds",
    "From grabbing a frame to publishing its detections.",
    LATENCY_BUCKETS,
    "camera",
)

# ---- cluster and nodes (collector, from ClusterStatus) ---------------------------------

CLUSTER_CAMERAS_CONFIGURED = _g("cluster_cameras_configured", "Cameras in the desired state.")
CLUSTER_CAMERAS_LIVE = _g("cluster_cameras_live", "Cameras that are live.")
CLUSTER_CAMERAS_UNPLACED = _g("cluster_cameras_unplaced", "Enabled cameras no node has room for.")
NODE_INFO = _i("node_info", "A Ray node and its address (join Ray's own metrics on it).", "node", "address")
NODE_UP = _g("node_up", "1 if the Ray node is alive, else 0.", "node")
NODE_CPUS = _g("node_cpus", "CPUs the Ray node offers.", "node")
NODE_CAMERAS = _g("node_cameras", "Cameras running on the node.", "node")
NODE_LOAD = _g("node_load_cores", "Estimated cores used by the node's cameras (scheduler's cost model).", "node")
NODE_DRAINING = _g("node_draining", "1 if the node takes no new cameras (drained or being released).", "node")

# ---- scheduler (collector, from SchedulerSnapshot) -------------------------------------

SCHEDULER_MOVES = _c("scheduler_moves_total", "Cameras moved between nodes, by reason.", "reason")
SCHEDULER_RECOVERIES = _c("scheduler_recoveries_total", "Camera actors recreated after they died or stopped answering.")
SCHEDULER_UNPLACED = _g(
    "scheduler_unplaced_cameras", "Cameras without a node, by reason (too_big, no_capacity).", "reason"
)
SCHEDULER_CAMERAS = _g("scheduler_cameras", "Desired cameras by scheduler phase.", "phase")
SCHEDULER_REQUESTED_BUNDLES = _g(
    "scheduler_requested_bundles", "Resource bundles the scheduler asks the autoscaler for (0: no demand)."
)
NODE_USABLE = _g("node_usable_cores", "Cores of the node cameras may use (CPUs minus headroom).", "node")
NODE_CPU_RESERVED = _g(
    "node_cpu_reserved_cores",
    "Cores the scheduler reserves for the node's cameras: their estimated costs, what admission counts.",
    "node",
)
NODE_CPU_MEASURED = _g(
    "node_cpu_measured_cores", "Cores the node's camera actors last measured of themselves, summed.", "node"
)
SCHEDULER_UNPLACED_DEMAND = _g(
    "scheduler_unplaced_demand_cores",
    "Estimated cores of the cameras without a node, by reason (too_big, no_capacity).",
    "reason",
)

# ---- the refresher itself ---------------------------------------------------------------

REFRESH_ERRORS = _c("metrics_refresh_errors_total", "Failed reads of the cluster state for metrics.", "source")
REFRESH_DURATION = _h(
    "metrics_refresh_duration_seconds", "Time to read the cluster state for metrics.", REFRESH_BUCKETS
)
SNAPSHOT_AGE = _g("metrics_snapshot_age_seconds", "Age of the cluster state served, by what was read.", "source")
BUILD_INFO = _i("build_info", "The running matthan version.", "version")

# ---- front door (GatewayMetrics, MetricsInterceptor) -----------------------------------

GATEWAY_SUBSCRIBERS = _g("gateway_subscribers", "Open stream subscriptions, by camera and kind.", "camera", "kind")
GATEWAY_SUBSCRIPTIONS_CLOSED = _c(
    "gateway_subscriptions_closed_total",
    "Subscriptions ended, by kind and reason (slow_consumer, camera_removed, ...).",
    "kind",
    "reason",
)
GATEWAY_DELIVERED = _c("gateway_messages_delivered_total", "Messages sent to subscribers.", "camera", "kind")
GATEWAY_DROPPED = _c(
    "gateway_messages_dropped_total", "Messages not delivered to a subscriber, by reason.", "camera", "kind", "reason"
)
GATEWAY_RPCS_HANDLED = _c("gateway_rpcs_handled_total", "RPCs finished, by method and status code.", "method", "code")
GATEWAY_RPCS_IN_FLIGHT = _g("gateway_rpcs_in_flight", "RPCs in progress (open streams included).", "method")
GATEWAY_RPC_DURATION = _h("gateway_rpc_duration_seconds", "Duration of unary RPCs.", RPC_BUCKETS, "method")

# ---- batch jobs (BatchJobMetrics) ------------------------------------------------------

BATCH_FRAMES = _c("batch_frames_processed_total", "Frames processed by batch jobs.")
BATCH_JOBS_RUNNING = _g("batch_jobs_running", "Batch jobs running.")
BATCH_JOBS_FINISHED = _c("batch_jobs_finished_total", "Batch jobs finished, by outcome.", "outcome")
BATCH_JOB_PROGRESS = _g(
    "batch_job_progress_ratio", "Share of its frames a running batch job has processed.", "batch_job"
)
BATCH_JOB_FRAMES = _g("batch_job_frames_processed", "Frames a running batch job has processed.", "batch_job")
BATCH_JOBS = _g("batch_jobs", "Batch jobs the job manager keeps, by state.", "state")
BATCH_JOB_SPEED = _g(
    "batch_job_speed_ratio",
    "Seconds of footage a running batch job processes per second of wall time (a multiple of real time).",
    "batch_job",
)
BATCH_BACKLOG = _g("batch_backlog_segments", "Segments of queued and running batch jobs not started yet.")
BATCH_FOOTAGE = _c("batch_footage_seconds_total", "Seconds of footage processed by batch jobs (finished segments).")
BATCH_SEGMENT_DURATION = _h(
    "batch_segment_duration_seconds", "Wall time of a batch segment, warm-up included.", SEGMENT_BUCKETS
)

# ---- event store (EventStoreMetrics) ---------------------------------------------------

EVENTS = _c("events_total", "Events stored, by camera and class.", "camera", "class")
EVENT_STORE_ERRORS = _c("event_store_errors_total", "Failed event store operations.", "operation")
EVENT_STORE_WRITE_DURATION = _h("event_store_write_duration_seconds", "Duration of event store writes.", STORE_BUCKETS)
EVENTS_BY_TYPE = _c(
    "events_by_type_total",
    "Events stored, by camera and type (camera health events too, which have no class).",
    "camera",
    "type",
)
EVENT_STORE_BATCHES = _c("event_store_batches_total", "Batches committed to the event store.")
EVENT_STORE_BATCH_EVENTS = _c(
    "event_store_batch_events_total",
    "Events in committed batches (new, updates and ignored replays); divided by batches, the mean batch size.",
)
EVENT_STORE_BUFFERED = _g(
    "event_store_buffered_events", "Events waiting to be written: the bounded buffer while the writer is slow or down."
)
EVENT_STORE_DROPPED = _c(
    "event_store_dropped_events_total",
    "Events never written, by reason (buffer_full: the buffer was full; shutdown: still "
    "buffered when the writer's producer stopped).",
    "reason",
)
EVENT_STORE_RETENTION_DELETED = _c(
    "event_store_retention_deleted_total",
    "Events deleted by retention, by reason (age, size); their thumbnails too.",
    "reason",
)
EVENT_STORE_SIZE = _g("event_store_size_bytes", "Database pages in use: events, indexes and thumbnails.")
EVENT_STORE_LOST_REVISIONS = _c(
    "event_store_lost_revisions_total",
    "Event revisions a camera's ring no longer held when the writer came to pull them (the writer was down or "
    "behind longer than the ring covers, or the camera actor died before they were pulled).",
    "camera",
)
EVENT_STORE_CAMERAS_FOLLOWED = _g(
    "event_store_cameras_followed", "Cameras whose event rings the event store's writer follows."
)

# ---- recordings (collector, from CameraStatus.recording; RecordingMetrics) -------------

RECORDING_STATE = _g(
    "camera_recording_state",
    "1 for the camera recorder's current state (waiting, recording, interrupted, failed), 0 for the others; "
    "no series while recording is off.",
    "camera",
    "state",
)
RECORDING_BYTES = _c("camera_recording_written_bytes_total", "Bytes of finished segments written.", "camera")
RECORDING_SEGMENTS = _c("camera_recording_segments_total", "Segments finished and put on the chain.", "camera")
RECORDING_PACKETS_DROPPED = _c(
    "camera_recording_packets_dropped_total",
    "Packets not recorded: the disk was too slow for the hand-off, or failing.",
    "camera",
)
RECORDING_GAPS = _c("camera_recording_gaps_total", "Gaps recorded on the chain (stream down, disk).", "camera")
RECORDING_RETENTION_DELETED = _c(
    "camera_recording_retention_deleted_total", "Segments deleted by retention (age or budget).", "camera"
)
RECORDING_DISK_USED = _g("camera_recording_disk_used_bytes", "Bytes of the camera's live segments.", "camera")
RECORDING_BUDGET = _g("camera_recording_budget_bytes", "The camera's disk budget (0: none).", "camera")
RECORDING_DISK_FREE = _g(
    "camera_recording_disk_free_bytes", "Free bytes on the filesystem of the camera's recordings.", "camera"
)
RECORDINGS_VERIFICATIONS = _c("recordings_verifications_total", "Hash chain verifications run.", "camera")
RECORDINGS_VERIFICATION_FAILURES = _c(
    "recordings_verification_failures_total",
    "Hash chain verifications that found a changed, removed or inserted segment or entry.",
    "camera",
)
RECORDINGS_EXPORTS = _c("recordings_exports_total", "Clips exported (masked and unmasked).", "camera")
RECORDINGS_UNMASKED_EXPORTS = _c(
    "recordings_unmasked_exports_total", "Clips exported without the privacy masks (admin, audited).", "camera"
)
RECORDINGS_EXPORTED_SECONDS = _c("recordings_exported_seconds_total", "Seconds of footage exported.", "camera")

ALL: tuple[MetricDef, ...] = tuple(v for v in list(globals().values()) if isinstance(v, MetricDef))
BY_NAME: dict[str, MetricDef] = {d.name: d for d in ALL}
