"""The batch jobs dashboard (`batch-jobs.json`): how fast reprocessing runs and how jobs end."""

from __future__ import annotations

from typing import Any

from ..grafana import Layout, bar_gauge, dashboard, query_variable, stat, timeseries
from .queries import RED_ABOVE_ZERO, RI


def batch_jobs() -> dict[str, Any]:
    job = 'batch_job=~"$batch_job"'
    segment_rate = f"sum by (le) (rate(matthan_batch_segment_duration_seconds_bucket[{RI}]))"
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
    lay.row("Speed and backlog")
    lay.add(
        timeseries(
            "Speed of running jobs (x real time)",
            "Seconds of footage each running job processes per second of wall time.",
            [(f"matthan_batch_job_speed_ratio{{{job}}}", "{{batch_job}}")],
        )
    )
    lay.add(
        timeseries(
            "Footage processed (x real time, all jobs)",
            "Seconds of footage finished per second, all jobs together.",
            [(f"sum(rate(matthan_batch_footage_seconds_total[{RI}]))", "x real time")],
        )
    )
    lay.add(
        timeseries(
            "Backlog",
            "Segments of queued and running jobs not started yet: work waiting for free batch capacity.",
            [("max(matthan_batch_backlog_segments)", "segments")],
        )
    )
    lay.add(
        timeseries(
            "Jobs by state",
            "Jobs the job manager keeps (queued, running, finished ones until they are forgotten).",
            [("max by (state) (matthan_batch_jobs)", "{{state}}")],
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Segment duration",
            "Wall time of a segment (warm-up included): median and 95th percentile.",
            [
                (f"histogram_quantile(0.5, {segment_rate})", "p50"),
                (f"histogram_quantile(0.95, {segment_rate})", "p95"),
            ],
            unit="s",
        )
    )
    return dashboard(
        "matthan-batch-jobs",
        "Mắt Thần / Batch jobs",
        "How fast batch reprocessing runs, how far each running job is, and how jobs end.",
        lay,
        [query_variable("batch_job", "Batch job", "label_values(matthan_batch_job_progress_ratio, batch_job)")],
    )
