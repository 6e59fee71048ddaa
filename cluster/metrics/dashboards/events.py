"""The events dashboard (`events.json`): what the cameras' rules and health checks
found, and how the event store's writer keeps up (latency, batches, buffered,
lost and dropped revisions, errors, retention, size). Generated with the others by
`python -m cluster.metrics.dashboards`.

The store's series come from the event writer actor's process, read by the front
door's refresher (`EventStoreStatsSource`) and exported on its /metrics.
"""

from __future__ import annotations

from typing import Any

from ..grafana import Layout, dashboard, query_variable, stat, timeseries
from .queries import RED_ABOVE_ZERO, RI, C

WRITE_BUCKETS_RATE = f"rate(matthan_event_store_write_duration_seconds_bucket[{RI}])"
CAMERAS_VAR = query_variable("camera", "Camera", "label_values(matthan_camera_info, camera)")


def _by(key: str, metric: str, selector: str = C) -> str:
    return f"sum by ({key}) (rate({metric}{{{selector}}}[{RI}]))"


def events_dashboard() -> dict[str, Any]:
    lay = Layout()
    lay.row("Events")
    lay.add(
        stat(
            "Events in range",
            "New events stored within the dashboard's time range (selected cameras).",
            [(f"sum(increase(matthan_events_by_type_total{{{C}}}[$__range]))", "events")],
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Cameras followed",
            "Cameras whose event rings the writer follows now (the enabled cameras).",
            [("max(matthan_event_store_cameras_followed)", "cameras")],
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Store errors in range",
            "Failed event store operations (see the errors panel for which).",
            [("sum(increase(matthan_event_store_errors_total[$__range]))", "errors")],
            thresholds=RED_ABOVE_ZERO,
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Lost revisions in range",
            "Event revisions a ring dropped before the writer pulled them: the writer was down "
            "longer than the ring covers (docs/events.md). Each followed camera's series starts at 0.",
            [("sum(increase(matthan_event_store_lost_revisions_total[$__range]))", "lost")],
            thresholds=RED_ABOVE_ZERO,
        ),
        6,
        4,
    )
    lay.add(
        timeseries(
            "Events per second by type",
            "New events stored, by type (health and tamper events too).",
            [(_by("type", "matthan_events_by_type_total"), "{{type}}")],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Events per second by camera",
            "New events stored, by camera.",
            [(_by("camera", "matthan_events_by_type_total"), "{{camera}}")],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Events per second by class",
            "New object events stored, by class.",
            [(_by("class", "matthan_events_total"), "{{class}}")],
            stack=True,
        ),
        8,
    )

    lay.row("Event store")
    lay.add(
        timeseries(
            "Write latency",
            "Duration of one batch's transaction (events and ring cursors together).",
            [(f"histogram_quantile({q}, sum by (le) ({WRITE_BUCKETS_RATE}))", f"p{int(q * 100)}") for q in (0.5, 0.99)],
            unit="s",
        ),
        8,
    )
    lay.add(
        timeseries(
            "Batches per second and mean batch size",
            "Transactions committed, and events per transaction (new, updates and replays).",
            [
                (f"sum(rate(matthan_event_store_batches_total[{RI}]))", "batches/s"),
                (
                    f"sum(rate(matthan_event_store_batch_events_total[{RI}])) / "
                    f"clamp_min(sum(rate(matthan_event_store_batches_total[{RI}])), 1e-9)",
                    "events per batch",
                ),
            ],
        ),
        8,
    )
    lay.add(
        timeseries(
            "Errors per second by operation",
            "Failed event store operations: write, query, open, retention.",
            [(f"sum by (operation) (rate(matthan_event_store_errors_total[{RI}]))", "{{operation}}")],
        ),
        8,
    )
    lay.add(
        timeseries(
            "Buffered, lost and dropped",
            "Events pulled and waiting to be committed; revisions lost from the rings (by camera); "
            "events never written (by reason).",
            [
                ("max(matthan_event_store_buffered_events)", "buffered"),
                (f"sum by (camera) (rate(matthan_event_store_lost_revisions_total[{RI}]))", "lost: {{camera}}"),
                (f"sum by (reason) (rate(matthan_event_store_dropped_events_total[{RI}]))", "dropped: {{reason}}"),
            ],
        ),
        8,
    )
    lay.add(
        timeseries(
            "Retention deletions per second",
            "Events (and their thumbnails) deleted by retention, by reason: age or total size.",
            [(f"sum by (reason) (rate(matthan_event_store_retention_deleted_total[{RI}]))", "{{reason}}")],
        ),
        8,
    )
    lay.add(
        timeseries(
            "Store size",
            "Database pages in use (events, indexes, thumbnails), as retention last measured it.",
            [("max(matthan_event_store_size_bytes)", "size")],
            unit="bytes",
        ),
        8,
    )
    return dashboard(
        "matthan-events",
        "Mắt Thần / Events",
        "What the rules and health checks found, and how the event store's writer keeps up.",
        lay,
        [CAMERAS_VAR],
    )
