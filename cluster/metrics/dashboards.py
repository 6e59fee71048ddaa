"""The Grafana dashboards provisioned from monitoring/grafana/dashboards/.

The JSON files are generated from here so that queries, units and layout stay
consistent; a test fails when they are out of date. Regenerate with

    python -m cluster.metrics.dashboards monitoring/grafana/dashboards
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .event_dashboard import events_dashboard
from .grafana import Layout, bar_gauge, dashboard, heatmap, query_variable, stat, timeseries

C = 'camera=~"$camera"'
N = 'node=~"$node"'
RI = "$__rate_interval"

NODE_VAR = query_variable("node", "Node", "label_values(matthan_node_info, node)")
CAMERAS_VAR = query_variable("camera", "Camera", 'label_values(matthan_camera_info{node=~"$node"}, camera)')
ONE_CAMERA_VAR = query_variable(
    "camera", "Camera", 'label_values(matthan_camera_info{node=~"$node"}, camera)', multi=False, include_all=False
)
RED_ABOVE_ZERO = [(None, "green"), (1, "red")]


def _rate(metric: str, selector: str = C) -> str:
    return f"rate({metric}{{{selector}}}[{RI}])"


def _quantile(q: float, metric: str, by: str = "le", selector: str = C) -> str:
    return f"histogram_quantile({q}, sum by ({by}) ({_rate(metric + '_bucket', selector)}))"


def cluster_overview() -> dict[str, Any]:
    lay = Layout()
    lay.row("Cameras")
    lay.add(
        stat(
            "Cameras live", "Selected cameras whose frames are arriving.", [(f"sum(matthan_camera_up{{{C}}})", "live")]
        ),
        4,
        4,
    )
    lay.add(
        stat(
            "Cameras enabled",
            "Selected cameras that should be running.",
            [(f"sum(matthan_camera_enabled{{{C}}})", "enabled")],
        ),
        4,
        4,
    )
    lay.add(
        stat(
            "Enabled but not live",
            "Cameras that should run but are connecting, stalled, failed or "
            "without an actor. See the per-camera dashboard for the reason.",
            [(f"sum(matthan_camera_enabled{{{C}}}) - sum(matthan_camera_up{{{C}}})", "not live")],
            thresholds=RED_ABOVE_ZERO,
        ),
        4,
        4,
    )
    lay.add(
        stat(
            "Unplaced cameras",
            "Enabled cameras no node has room for: add nodes or lower their settings.",
            [("max(matthan_cluster_cameras_unplaced)", "unplaced")],
            thresholds=RED_ABOVE_ZERO,
        ),
        4,
        4,
    )
    lay.add(stat("Nodes alive", "Ray nodes that are up.", [(f"sum(matthan_node_up{{{N}}})", "alive")]), 4, 4)
    lay.add(
        stat(
            "Oldest frame",
            "Age of the newest frame of the most behind selected camera.",
            [(f"max(matthan_camera_frame_age_seconds{{{C}}})", "age")],
            unit="s",
            thresholds=[(None, "green"), (10, "orange"), (60, "red")],
        ),
        4,
        4,
    )
    lay.add(
        timeseries(
            "Cameras live vs configured",
            "Whole cluster: configured in the desired state, and live.",
            [("max(matthan_cluster_cameras_configured)", "configured"), ("max(matthan_cluster_cameras_live)", "live")],
        )
    )
    lay.add(
        timeseries(
            "Cameras by state",
            "Selected cameras by state (unobserved: enabled, no status answer).",
            [(f"sum by (state) (matthan_camera_state{{{C}}})", "{{state}}")],
            stack=True,
        )
    )

    lay.row("Throughput")
    lay.add(
        timeseries(
            "Frames per second",
            "Selected cameras: grabbed from the sources, analysed, and skipped "
            "(analysis runs at analysis.fps; the rest is skipped by design).",
            [
                (f"sum({_rate('matthan_camera_frames_received_total')})", "received"),
                (f"sum({_rate('matthan_camera_frames_analysed_total')})", "analysed"),
                (f"sum({_rate('matthan_camera_frames_skipped_total')})", "skipped"),
            ],
        )
    )
    lay.add(
        timeseries(
            "Analysis keeping up",
            "Analysed frames per second over the rate each camera should "
            "analyse (min of analysis.fps and the source rate); below 100% the camera falls behind.",
            [
                (
                    f"sum by (camera) ({_rate('matthan_camera_frames_analysed_total')}) / sum by (camera) "
                    f"(matthan_camera_analysis_target_fps{{{C}}} > 0)",
                    "{{camera}}",
                )
            ],
            unit="percentunit",
        )
    )
    lay.add(
        timeseries(
            "Detections per second by class",
            "Published detections of the selected cameras.",
            [(f"sum by (class) ({_rate('matthan_camera_detections_total')})", "{{class}}")],
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Detector runs per second",
            "Inferences per camera (motion-gated, within max_fps).",
            [(f"sum by (camera) ({_rate('matthan_camera_detector_runs_total')})", "{{camera}}")],
        )
    )

    lay.row("Latency")
    lay.add(
        timeseries(
            "Capture-to-publish latency",
            "From grabbing a frame to publishing its detections, quantiles over the selected cameras.",
            [(_quantile(q, "matthan_camera_capture_to_publish_seconds"), f"p{int(q * 100)}") for q in (0.5, 0.9, 0.99)],
            unit="s",
        )
    )
    lay.add(
        timeseries(
            "Stage duration p90",
            "Per frame, by stage: decode (to BGR), resize, motion, detector, tracker, regions.",
            [(_quantile(0.9, "matthan_camera_stage_duration_seconds", "stage, le"), "{{stage}}")],
            unit="s",
        )
    )
    lay.add(
        timeseries(
            "Where the time goes",
            "Seconds per second spent in each stage over the selected cameras (about the cores each stage keeps busy).",
            [(f"sum by (stage) ({_rate('matthan_camera_stage_duration_seconds_sum')})", "{{stage}}")],
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Frame age, 10 oldest cameras",
            "Seconds since each camera's newest frame.",
            [(f"topk(10, matthan_camera_frame_age_seconds{{{C}}})", "{{camera}}")],
            unit="s",
        )
    )

    lay.row("Nodes and capacity")
    lay.add(
        timeseries(
            "Cameras per node",
            "Cameras running on each node.",
            [(f"matthan_node_cameras{{{N}}}", "{{node}}")],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Node utilisation",
            "Reserved CPU (the cameras' estimated costs) over the cores cameras may use; near 100% everywhere "
            "means it is time to add nodes.",
            [(f"matthan_node_load_cores{{{N}}} / on(node) matthan_node_usable_cores{{{N}}}", "{{node}}")],
            unit="percentunit",
        ),
        8,
    )
    lay.add(
        timeseries(
            "Reserved and measured CPU",
            "Per node: what the scheduler reserves for its cameras (their estimated costs: what admission counts), "
            "what they measure, and the usable cores. Reserved follows measured within minutes; a camera waits for "
            "room only when reserved is near usable.",
            [
                (f"matthan_node_cpu_reserved_cores{{{N}}}", "{{node}} reserved"),
                (f"matthan_node_cpu_measured_cores{{{N}}}", "{{node}} measured"),
                (f"matthan_node_usable_cores{{{N}}}", "{{node}} usable"),
            ],
        ),
        8,
    )
    lay.add(
        timeseries(
            "Measured camera CPU by node",
            "CPU used by camera actor processes, per node (cores).",
            [
                (
                    f"sum by (node) (matthan_camera_cpu_cores{{{C}}} * on(camera) group_left(node) "
                    f"matthan_camera_info{{{N}}})",
                    "{{node}}",
                )
            ],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Camera memory by node",
            "Unique memory (USS) of camera actor processes, per node.",
            [
                (
                    f"sum by (node) (matthan_camera_memory_uss_bytes{{{C}}} * on(camera) group_left(node) "
                    f"matthan_camera_info{{{N}}})",
                    "{{node}}",
                )
            ],
            unit="bytes",
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Nodes alive and draining",
            "Draining nodes take no new cameras.",
            [(f"sum(matthan_node_up{{{N}}})", "alive"), (f"sum(matthan_node_draining{{{N}}})", "draining")],
        ),
        8,
    )

    lay.row("Scheduler")
    lay.add(
        timeseries(
            "Camera moves by reason",
            "Cameras moved between nodes (balancing, draining, ...).",
            [(f"sum by (reason) (increase(matthan_scheduler_moves_total[{RI}]))", "{{reason}}")],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Actor recoveries",
            "Camera actors recreated after they died or stopped answering.",
            [(f"sum(increase(matthan_scheduler_recoveries_total[{RI}]))", "recoveries")],
        ),
        8,
    )
    lay.add(
        timeseries(
            "Cameras by phase, unplaced, autoscaler demand",
            "Scheduler phases; unplaced cameras by reason; resource bundles asked of the autoscaler.",
            [
                ("sum by (phase) (matthan_scheduler_cameras)", "{{phase}}"),
                ("sum by (reason) (matthan_scheduler_unplaced_cameras)", "unplaced: {{reason}}"),
                ("max(matthan_scheduler_requested_bundles)", "bundles requested"),
            ],
        ),
        8,
    )

    lay.row("Events")
    lay.add(
        timeseries(
            "Events per second by class",
            "Events written to the event store.",
            [(f"sum by (class) ({_rate('matthan_events_total')})", "{{class}}")],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Event store errors per second",
            "Failed event store operations.",
            [(f"sum by (operation) (rate(matthan_event_store_errors_total[{RI}]))", "{{operation}}")],
        ),
        8,
    )
    lay.add(
        timeseries(
            "Event store write latency",
            "Duration of event store writes.",
            [
                (_quantile(q, "matthan_event_store_write_duration_seconds", selector=""), f"p{int(q * 100)}")
                for q in (0.5, 0.99)
            ],
            unit="s",
        ),
        8,
    )

    # ---- recordings
    lay.row("Recordings")
    lay.add(
        timeseries(
            "Cameras by recording state",
            "Cameras whose recorder is waiting, recording, interrupted (stream down) or failed (cannot write).",
            [(f"sum by (state) (matthan_camera_recording_state{{{C}}})", "{{state}}")],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Recording bytes written per second",
            "All recording cameras (stream copy).",
            [(f"sum({_rate('matthan_camera_recording_written_bytes_total')})", "written")],
            unit="Bps",
        ),
        8,
    )
    lay.add(
        timeseries(
            "Recordings: verifications, failures, exports",
            "Per hour: chain verifications, those that found tampering, clips exported (and unmasked ones).",
            [
                ("sum(increase(matthan_recordings_verifications_total[1h]))", "verified"),
                ("sum(increase(matthan_recordings_verification_failures_total[1h]))", "verification failed"),
                ("sum(increase(matthan_recordings_exports_total[1h]))", "exports"),
                ("sum(increase(matthan_recordings_unmasked_exports_total[1h]))", "unmasked exports"),
            ],
        ),
        8,
    )

    lay.row("Ray nodes (Ray's own metrics, keyed by IP: see matthan_node_info for node ids)")
    lay.add(
        timeseries(
            "Ray node CPU utilisation",
            "From each node's Ray metrics agent (job 'ray').",
            [("max by (ip) (ray_node_cpu_utilization)", "{{ip}}")],
            unit="percent",
            maximum=100,
        )
    )
    lay.add(
        timeseries(
            "Ray node memory used",
            "From each node's Ray metrics agent (job 'ray').",
            [("max by (ip) (ray_node_mem_used)", "{{ip}}")],
            unit="bytes",
        )
    )

    lay.row("Metrics pipeline")
    lay.add(
        timeseries(
            "Refresh errors",
            "Failed reads of camera, cluster or scheduler state for metrics.",
            [(f"sum by (source) (increase(matthan_metrics_refresh_errors_total[{RI}]))", "{{source}}")],
        ),
        8,
    )
    lay.add(
        timeseries(
            "Age of the served state",
            "How old the state behind the last scrape was.",
            [("max by (source) (matthan_metrics_snapshot_age_seconds)", "{{source}}")],
            unit="s",
        ),
        8,
    )
    lay.add(
        timeseries(
            "Refresh duration p90",
            "Time to read the cluster state.",
            [(_quantile(0.9, "matthan_metrics_refresh_duration_seconds", selector=""), "p90")],
            unit="s",
        ),
        8,
    )
    return dashboard(
        "matthan-cluster-overview",
        "Mắt Thần / Cluster overview",
        "Are all cameras live, how many frames flow through each stage, where latency builds up, "
        "and is it time to add nodes.",
        lay,
        [NODE_VAR, CAMERAS_VAR],
    )


def camera() -> dict[str, Any]:
    lay = Layout()
    lay.row("Status")
    lay.add(
        stat(
            "Live",
            "1: frames are arriving.",
            [(f"max(matthan_camera_up{{{C}}})", "live")],
            thresholds=[(None, "red"), (1, "green")],
            mappings=[
                {
                    "type": "value",
                    "options": {"0": {"text": "not live", "color": "red"}, "1": {"text": "live", "color": "green"}},
                }
            ],
        ),
        4,
        4,
    )
    lay.add(
        stat(
            "State",
            "Current state of the stream.",
            [(f"matthan_camera_state{{{C}}} == 1", "{{state}}")],
            text_mode="name",
        ),
        4,
        4,
    )
    lay.add(
        stat(
            "Node and mode",
            "Where the camera runs, motion-only or detector.",
            [(f"max by (node, mode) (matthan_camera_info{{{C}}})", "{{node}} ({{mode}})")],
            text_mode="name",
        ),
        4,
        4,
    )
    lay.add(
        stat(
            "Frame age",
            "Seconds since the newest frame.",
            [(f"max(matthan_camera_frame_age_seconds{{{C}}})", "age")],
            unit="s",
            thresholds=[(None, "green"), (10, "orange"), (60, "red")],
        ),
        4,
        4,
    )
    lay.add(
        stat(
            "Source fps",
            "Frames per second arriving from the source.",
            [(f"max(matthan_camera_source_fps{{{C}}})", "source")],
        ),
        4,
        4,
    )
    lay.add(
        stat(
            "Target analysis fps",
            "min(analysis.fps, source fps).",
            [(f"max(matthan_camera_analysis_target_fps{{{C}}})", "target")],
        ),
        4,
        4,
    )

    lay.row("Frames")
    lay.add(
        timeseries(
            "Frames per second",
            "Received from the source, analysed, skipped, and the target.",
            [
                (f"sum({_rate('matthan_camera_frames_received_total')})", "received"),
                (f"sum({_rate('matthan_camera_frames_analysed_total')})", "analysed"),
                (f"sum({_rate('matthan_camera_frames_skipped_total')})", "skipped"),
                (f"max(matthan_camera_analysis_target_fps{{{C}}})", "target"),
            ],
        )
    )
    lay.add(
        timeseries(
            "Detections per second by class",
            "Published detections.",
            [(f"sum by (class) ({_rate('matthan_camera_detections_total')})", "{{class}}")],
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Detector runs and analysis errors",
            "Per second.",
            [
                (f"sum({_rate('matthan_camera_detector_runs_total')})", "detector runs"),
                (f"sum({_rate('matthan_camera_analysis_errors_total')})", "analysis errors"),
            ],
        )
    )
    lay.add(
        timeseries(
            "Reconnects by reason",
            "unreachable (open failed), stalled (no frames), stream_error.",
            [(f"sum by (reason) (increase(matthan_camera_reconnects_total{{{C}}}[{RI}]))", "{{reason}}")],
            stack=True,
        )
    )

    lay.row("Latency")
    lay.add(
        timeseries(
            "Capture-to-publish latency",
            "From grabbing a frame to publishing its detections.",
            [(_quantile(q, "matthan_camera_capture_to_publish_seconds"), f"p{int(q * 100)}") for q in (0.5, 0.9, 0.99)],
            unit="s",
        )
    )
    lay.add(
        heatmap(
            "Capture-to-publish latency distribution",
            "Frames per second in each latency bucket.",
            f"sum by (le) ({_rate('matthan_camera_capture_to_publish_seconds_bucket')})",
        )
    )
    lay.add(
        timeseries(
            "Stage duration p50 and p99",
            "Per frame, by stage.",
            [
                (_quantile(0.5, "matthan_camera_stage_duration_seconds", "stage, le"), "{{stage}} p50"),
                (_quantile(0.99, "matthan_camera_stage_duration_seconds", "stage, le"), "{{stage}} p99"),
            ],
            unit="s",
        )
    )
    lay.add(
        timeseries(
            "Mean time per frame by stage",
            "Average over the interval, stacked: the whole frame.",
            [
                (
                    f"sum by (stage) ({_rate('matthan_camera_stage_duration_seconds_sum')}) / sum by (stage) "
                    f"({_rate('matthan_camera_stage_duration_seconds_count')})",
                    "{{stage}}",
                )
            ],
            unit="s",
            stack=True,
        )
    )

    lay.row("Resources")
    lay.add(
        timeseries(
            "CPU", "Cores used by the camera actor's process.", [(f"max(matthan_camera_cpu_cores{{{C}}})", "cores")]
        )
    )
    lay.add(
        timeseries(
            "Memory (USS)",
            "Unique memory of the camera actor's process.",
            [(f"max(matthan_camera_memory_uss_bytes{{{C}}})", "uss")],
            unit="bytes",
        )
    )

    # ---- recordings
    lay.row("Recording")
    lay.add(
        stat(
            "Recording state",
            "What the recorder does: waiting (trigger modes), recording, interrupted (stream down), "
            "failed (cannot write: disk full or read-only). No value: recording is off.",
            [(f"matthan_camera_recording_state{{{C}}} == 1", "{{state}}")],
            text_mode="name",
        ),
        6,
    )
    lay.add(
        timeseries(
            "Bytes written per second",
            "Finished segments (stream copy: the camera's own bitrate).",
            [(f"sum({_rate('matthan_camera_recording_written_bytes_total')})", "written")],
            unit="Bps",
        ),
        6,
    )
    lay.add(
        timeseries(
            "Disk",
            "The camera's live segments, its budget (0: none) and what is free on its filesystem.",
            [
                (f"max(matthan_camera_recording_disk_used_bytes{{{C}}})", "used"),
                (f"max(matthan_camera_recording_budget_bytes{{{C}}}) > 0", "budget"),
                (f"max(matthan_camera_recording_disk_free_bytes{{{C}}})", "free"),
            ],
            unit="bytes",
        ),
        6,
    )
    lay.add(
        timeseries(
            "Gaps, drops and deletions",
            "Per minute: gaps put on the chain, packets not recorded (slow or failing disk), segments deleted "
            "by retention.",
            [
                (f"sum(increase(matthan_camera_recording_gaps_total{{{C}}}[5m])) / 5", "gaps"),
                (f"sum(increase(matthan_camera_recording_packets_dropped_total{{{C}}}[5m])) / 5", "packets dropped"),
                (f"sum(increase(matthan_camera_recording_retention_deleted_total{{{C}}}[5m])) / 5", "deleted"),
            ],
        ),
        6,
    )

    lay.row("Front door")
    lay.add(
        timeseries(
            "Subscribers by kind",
            "Open frame and detection streams of this camera.",
            [(f"sum by (kind) (matthan_gateway_subscribers{{{C}}})", "{{kind}}")],
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Messages delivered and dropped",
            "Per second, to all subscribers of this camera.",
            [
                (f"sum by (kind) ({_rate('matthan_gateway_messages_delivered_total')})", "{{kind}} delivered"),
                (
                    f"sum by (kind, reason) ({_rate('matthan_gateway_messages_dropped_total')})",
                    "{{kind}} dropped ({{reason}})",
                ),
            ],
        )
    )
    return dashboard(
        "matthan-camera",
        "Mắt Thần / Camera",
        "One camera in depth: is it live and why not, its frame rates, where its latency goes, "
        "what it costs and who watches it.",
        lay,
        [NODE_VAR, ONE_CAMERA_VAR],
    )


def front_door() -> dict[str, Any]:
    delivered, dropped = "matthan_gateway_messages_delivered_total", "matthan_gateway_messages_dropped_total"
    handled = "matthan_gateway_rpcs_handled_total"
    lay = Layout()
    lay.row("Subscribers")
    lay.add(
        stat(
            "Subscribers",
            "Open stream subscriptions to the selected cameras.",
            [(f"sum(matthan_gateway_subscribers{{{C}}})", "subscribers")],
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "RPCs in flight",
            "Calls in progress, open streams included.",
            [("sum(matthan_gateway_rpcs_in_flight)", "in flight")],
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Drop ratio",
            "Messages dropped over messages produced for subscribers.",
            [(f"sum({_rate(dropped)}) / (sum({_rate(delivered)}) + sum({_rate(dropped)}))", "dropped")],
            unit="percentunit",
            thresholds=[(None, "green"), (0.01, "orange"), (0.1, "red")],
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "RPC error ratio",
            "Calls that did not end OK.",
            [(f'sum(rate({handled}{{code!="OK"}}[{RI}])) / sum(rate({handled}[{RI}]))', "errors")],
            unit="percentunit",
            thresholds=[(None, "green"), (0.01, "orange"), (0.1, "red")],
        ),
        6,
        4,
    )
    lay.add(
        timeseries(
            "Subscribers by kind",
            "Frame and detection streams.",
            [(f"sum by (kind) (matthan_gateway_subscribers{{{C}}})", "{{kind}}")],
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Subscribers, 10 most watched cameras",
            "Open streams per camera.",
            [(f"topk(10, sum by (camera) (matthan_gateway_subscribers{{{C}}}))", "{{camera}}")],
        )
    )

    lay.row("Messages")
    lay.add(
        timeseries(
            "Delivered per second",
            "Messages sent to subscribers, by kind.",
            [(f"sum by (kind) ({_rate(delivered)})", "{{kind}}")],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Dropped per second",
            "Frames replaced in full queues, detection streams cut off...",
            [(f"sum by (kind, reason) ({_rate(dropped)})", "{{kind}}: {{reason}}")],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Subscriptions closed",
            "Per second, by kind and reason.",
            [
                (
                    f"sum by (kind, reason) (rate(matthan_gateway_subscriptions_closed_total[{RI}]))",
                    "{{kind}}: {{reason}}",
                )
            ],
            stack=True,
        ),
        8,
    )

    lay.row("RPCs")
    lay.add(
        timeseries(
            "RPCs per second",
            "Finished calls by method and status code.",
            [(f"sum by (method, code) (rate({handled}[{RI}]))", "{{method}} {{code}}")],
        )
    )
    lay.add(
        timeseries(
            "RPC errors per second",
            "Calls that did not end OK, by method and code.",
            [(f'sum by (method, code) (rate({handled}{{code!="OK"}}[{RI}]))', "{{method}} {{code}}")],
        )
    )
    lay.add(
        timeseries(
            "Unary RPC latency",
            "p50 and p99 by method (streams are not timed).",
            [
                (_quantile(0.5, "matthan_gateway_rpc_duration_seconds", "method, le", ""), "{{method}} p50"),
                (_quantile(0.99, "matthan_gateway_rpc_duration_seconds", "method, le", ""), "{{method}} p99"),
            ],
            unit="s",
        )
    )
    lay.add(
        timeseries(
            "RPCs in flight by method",
            "Open streams show up here for as long as they last.",
            [("sum by (method) (matthan_gateway_rpcs_in_flight)", "{{method}}")],
        )
    )
    return dashboard(
        "matthan-front-door",
        "Mắt Thần / Front door",
        "Who is watching (subscribers per camera and kind), are they keeping up (delivered vs "
        "dropped), and how the gRPC API behaves (rates, errors and latency by method and code).",
        lay,
        [NODE_VAR, CAMERAS_VAR],
    )


def batch_jobs() -> dict[str, Any]:
    job = 'batch_job=~"$batch_job"'
    lay = Layout()
    lay.row("Jobs")
    lay.add(stat("Jobs running", "Batch jobs in progress.", [("max(matthan_batch_jobs_running)", "running")]), 8, 4)
    lay.add(
        stat(
            "Frames per second",
            "Batch frames processed, all jobs.",
            [(f"sum(rate(matthan_batch_frames_processed_total[{RI}]))", "frames/s")],
        ),
        8,
        4,
    )
    lay.add(
        stat(
            "Jobs failed in range",
            "Jobs that ended failed within the dashboard's time range.",
            [('sum(increase(matthan_batch_jobs_finished_total{outcome="failed"}[$__range]))', "failed")],
            thresholds=RED_ABOVE_ZERO,
        ),
        8,
        4,
    )
    lay.add(
        bar_gauge(
            "Progress of running jobs",
            "Share of its frames each running job has processed.",
            [(f"matthan_batch_job_progress_ratio{{{job}}}", "{{batch_job}}")],
            unit="percentunit",
            maximum=1,
        )
    )
    lay.add(
        timeseries(
            "Frames processed per running job",
            "Frames each running job has processed so far.",
            [(f"matthan_batch_job_frames_processed{{{job}}}", "{{batch_job}}")],
        )
    )
    lay.add(
        timeseries(
            "Batch frames per second",
            "Throughput of all batch jobs together.",
            [(f"sum(rate(matthan_batch_frames_processed_total[{RI}]))", "frames/s")],
        )
    )
    lay.add(
        timeseries(
            "Jobs finished by outcome",
            "Jobs ending per interval: succeeded, failed, cancelled.",
            [(f"sum by (outcome) (increase(matthan_batch_jobs_finished_total[{RI}]))", "{{outcome}}")],
            stack=True,
        )
    )
    return dashboard(
        "matthan-batch-jobs",
        "Mắt Thần / Batch jobs",
        "How fast batch reprocessing runs, how far each running job is, and how jobs end.",
        lay,
        [query_variable("batch_job", "Batch job", "label_values(matthan_batch_job_progress_ratio, batch_job)")],
    )


DASHBOARDS = {
    "cluster-overview.json": cluster_overview,
    "camera.json": camera,
    "front-door.json": front_door,
    "batch-jobs.json": batch_jobs,
    "events.json": events_dashboard,
}


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def write_dashboards(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in DASHBOARDS.items():
        path = directory / name
        path.write_text(render(build()), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cluster.metrics.dashboards DIRECTORY", file=sys.stderr)
        return 2
    for path in write_dashboards(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
