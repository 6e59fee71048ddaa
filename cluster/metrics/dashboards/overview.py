"""The cluster overview dashboard (`cluster-overview.json`): the whole system at a glance."""

from __future__ import annotations

from typing import Any

from ..grafana import Layout, dashboard, stat, timeseries
from .queries import CAMERAS_VAR, NODE_VAR, RED_ABOVE_ZERO, RI, C, N, quantile, rate


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
                (f"sum({rate('matthan_camera_frames_received_total')})", "received"),
                (f"sum({rate('matthan_camera_frames_analysed_total')})", "analysed"),
                (f"sum({rate('matthan_camera_frames_skipped_total')})", "skipped"),
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
                    f"sum by (camera) ({rate('matthan_camera_frames_analysed_total')}) / sum by (camera) "
                    f"(matthan_camera_analysis_target_fps{{{C}}} > 0)",
                    "{{camera}}",
                )
            ],
            unit="percentunit",
        )
    )
    lay.add(
        timeseries(
            "Cameras degraded",
            "Selected cameras analysing below analysis.fps (down to analysis.min_fps) because their "
            "node is short of CPU: every camera lowers its rate a little instead of some waiting unplaced.",
            [(f"sum(matthan_camera_analysis_degraded{{{C}}})", "degraded")],
        )
    )
    lay.add(
        timeseries(
            "Detections per second by class",
            "Published detections of the selected cameras.",
            [(f"sum by (class) ({rate('matthan_camera_detections_total')})", "{{class}}")],
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Detector runs per second",
            "Inferences per camera (motion-gated, within max_fps).",
            [(f"sum by (camera) ({rate('matthan_camera_detector_runs_total')})", "{{camera}}")],
        )
    )

    lay.row("Latency")
    lay.add(
        timeseries(
            "Capture-to-publish latency",
            "From grabbing a frame to publishing its detections, quantiles over the selected cameras.",
            [(quantile(q, "matthan_camera_capture_to_publish_seconds"), f"p{int(q * 100)}") for q in (0.5, 0.9, 0.99)],
            unit="s",
        )
    )
    lay.add(
        timeseries(
            "Stage duration p90",
            "Per frame, by stage: decode (to BGR), resize, motion, detector, tracker, regions.",
            [(quantile(0.9, "matthan_camera_stage_duration_seconds", "stage, le"), "{{stage}}")],
            unit="s",
        )
    )
    lay.add(
        timeseries(
            "Where the time goes",
            "Seconds per second spent in each stage over the selected cameras (about the cores each stage keeps busy).",
            [(f"sum by (stage) ({rate('matthan_camera_stage_duration_seconds_sum')})", "{{stage}}")],
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
            [(f"sum by (class) ({rate('matthan_events_total')})", "{{class}}")],
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
                (quantile(q, "matthan_event_store_write_duration_seconds", selector=""), f"p{int(q * 100)}")
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
            [(f"sum({rate('matthan_camera_recording_written_bytes_total')})", "written")],
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
            [(quantile(0.9, "matthan_metrics_refresh_duration_seconds", selector=""), "p90")],
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
