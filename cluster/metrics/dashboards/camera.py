"""The camera dashboard (`camera.json`): one camera or a few, from capture to subscribers."""

from __future__ import annotations

from typing import Any

from ..grafana import Layout, dashboard, heatmap, stat, timeseries
from .queries import NODE_VAR, ONE_CAMERA_VAR, RI, C, quantile, rate


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
            "min(the camera's rate, source fps); its rate is analysis.fps, or lower while its node is short of CPU.",
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
                (f"sum({rate('matthan_camera_frames_received_total')})", "received"),
                (f"sum({rate('matthan_camera_frames_analysed_total')})", "analysed"),
                (f"sum({rate('matthan_camera_frames_skipped_total')})", "skipped"),
                (f"max(matthan_camera_analysis_target_fps{{{C}}})", "target"),
            ],
        )
    )
    lay.add(
        timeseries(
            "Detections per second by class",
            "Published detections.",
            [(f"sum by (class) ({rate('matthan_camera_detections_total')})", "{{class}}")],
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Detector runs and analysis errors",
            "Per second.",
            [
                (f"sum({rate('matthan_camera_detector_runs_total')})", "detector runs"),
                (f"sum({rate('matthan_camera_analysis_errors_total')})", "analysis errors"),
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
            [(quantile(q, "matthan_camera_capture_to_publish_seconds"), f"p{int(q * 100)}") for q in (0.5, 0.9, 0.99)],
            unit="s",
        )
    )
    lay.add(
        heatmap(
            "Capture-to-publish latency distribution",
            "Frames per second in each latency bucket.",
            f"sum by (le) ({rate('matthan_camera_capture_to_publish_seconds_bucket')})",
        )
    )
    lay.add(
        timeseries(
            "Stage duration p50 and p99",
            "Per frame, by stage.",
            [
                (quantile(0.5, "matthan_camera_stage_duration_seconds", "stage, le"), "{{stage}} p50"),
                (quantile(0.99, "matthan_camera_stage_duration_seconds", "stage, le"), "{{stage}} p99"),
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
                    f"sum by (stage) ({rate('matthan_camera_stage_duration_seconds_sum')}) / sum by (stage) "
                    f"({rate('matthan_camera_stage_duration_seconds_count')})",
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
            [(f"sum({rate('matthan_camera_recording_written_bytes_total')})", "written")],
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
                (f"sum by (kind) ({rate('matthan_gateway_messages_delivered_total')})", "{{kind}} delivered"),
                (
                    f"sum by (kind, reason) ({rate('matthan_gateway_messages_dropped_total')})",
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
