"""`matthan jobs list|show|watch|cancel`: reprocessing jobs over gRPC (matthan.v1.Jobs).

The rendering of a job (progress bar, summary, JSON) is shared with `matthan reprocess`.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from ..batch.job import JobState
from ..batch.progress import JobView
from .remote import add_connection_args, connect, reports_errors


def register(sub) -> None:
    parser = sub.add_parser("jobs", help="list, show, watch and cancel reprocessing jobs (gRPC)")
    inner = parser.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")

    listing = inner.add_parser("list", help="jobs of the cameras this token may see, newest first")
    listing.add_argument("--camera", action="append", default=[], help="only this camera's jobs (repeatable)")
    listing.add_argument("--state", action="append", default=[], choices=[s.value for s in JobState])
    listing.add_argument("--limit", type=int, default=0, help="at most this many (default 100)")
    listing.add_argument("--json", action="store_true", help="one JSON object per job")
    listing.set_defaults(func=run_list)

    show = inner.add_parser("show", help="one job: progress, events found, damaged ranges")
    show.add_argument("job_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)

    watch = inner.add_parser("watch", help="follow a job with a progress bar until it ends")
    watch.add_argument("job_id")
    watch.add_argument("--json", action="store_true", help="one JSON line per update, then the summary")
    watch.set_defaults(func=run_watch)

    cancel = inner.add_parser("cancel", help="stop a job (finished segments keep their events)")
    cancel.add_argument("job_id")
    cancel.set_defaults(func=run_cancel)

    for p in (listing, show, watch, cancel):
        add_connection_args(p)


@reports_errors("jobs list")
def run_list(args) -> int:
    with connect(args) as client:
        views = client.jobs.list(args.camera, [JobState(s) for s in args.state], args.limit)
    if args.json:
        for view in views:
            print(json.dumps(job_as_dict(view), ensure_ascii=False))
        return 0
    table = Table(title=f"{len(views)} job(s)")
    for column in ("job", "camera", "state", "by", "submitted", "done", "events", "damaged"):
        table.add_column(column)
    for view in views:
        table.add_row(
            view.job_id,
            view.camera_id,
            view.state.value,
            view.submitted_by,
            _time(view.submitted_at),
            f"{_share(view):.0%}",
            str(view.events),
            str(len(view.damaged)),
        )
    Console().print(table)
    return 0


@reports_errors("jobs show")
def run_show(args) -> int:
    with connect(args) as client:
        view = client.jobs.get(args.job_id)
    if args.json:
        print(json.dumps(job_as_dict(view), indent=2, ensure_ascii=False))
    else:
        print_summary(view, Console())
    return 0


@reports_errors("jobs watch")
def run_watch(args) -> int:
    with connect(args) as client:
        final = follow(client.jobs.watch(args.job_id), as_json=args.json)
    return exit_code(final)


@reports_errors("jobs cancel")
def run_cancel(args) -> int:
    with connect(args) as client:
        view = client.jobs.cancel(args.job_id)
    print(f"{view.job_id}: {view.state.value}")
    return 0


# ---------------------------------------------------------------- shared with `matthan reprocess`


def follow(views: Iterable[JobView], *, as_json: bool, console: Console | None = None) -> JobView | None:
    """Show each update (a progress bar, or JSON lines) and the summary at the end."""
    console = console or Console(stderr=False)
    final: JobView | None = None
    if as_json:
        for view in views:
            final = view
            print(json.dumps({"progress": progress_as_dict(view)}, ensure_ascii=False), flush=True)
        if final is not None:
            print(json.dumps({"summary": job_as_dict(final)}, ensure_ascii=False), flush=True)
        return final
    with Progress(
        TextColumn("[bold]{task.fields[job]}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} frames"),
        TextColumn("x{task.fields[speed]:.1f} real time"),
        TextColumn("ETA {task.fields[eta]}"),
        TextColumn("{task.fields[state]}"),
        console=console,
        transient=False,
    ) as bar:
        task = None
        waiting = ""
        for view in views:
            final = view
            if view.waiting and view.waiting != waiting:
                console.print(f"[yellow]{view.job_id}:[/yellow] {view.waiting}")
            waiting = view.waiting
            fields: dict[str, Any] = {
                "job": view.job_id,
                "speed": view.speed,
                "eta": _eta(view),
                "state": "waiting for room" if view.waiting else view.state.value,
            }
            if task is None:
                task = bar.add_task("reprocess", total=max(1, view.frames_total), **fields)
            bar.update(task, completed=view.frames_done, **fields)
    if final is not None:
        print_summary(final, console)
    return final


def print_summary(view: JobView, console: Console) -> None:
    console.print(
        f"[bold]{view.job_id}[/bold] camera {view.camera_id}: {view.state.value}, "
        f"{view.segments_done}/{view.segments_total} segments, {view.frames_done:,}/{view.frames_total:,} frames, "
        f"{view.footage_done_s:,.0f}/{view.footage_total_s:,.0f} s of footage"
        + (f", x{view.speed:.1f} real time" if view.speed else "")
    )
    if view.error:
        console.print(f"[red]error:[/red] {view.error}")
    if view.event_counts:
        table = Table(title=f"{view.events} event(s)")
        for column in ("type", "class", "rule", "count"):
            table.add_column(column)
        for count in view.event_counts:
            table.add_row(count.type, count.class_name or "", count.rule, str(count.count))
        console.print(table)
    else:
        console.print("no events")
    if view.recorded_range is not None:
        console.print(f"recorded range {describe_range(*view.recorded_range)}")
    for hole in view.not_recorded:
        console.print(f"[cyan]not recorded[/cyan] {describe_range(hole.start, hole.end)}: {hole.reason}")
    for damaged in view.damaged:
        path = view.files[damaged.file_index].path if damaged.file_index < len(view.files) else "?"
        end = f"{damaged.end_s:.1f}" if damaged.end_s is not None else "end"
        console.print(f"[yellow]damaged[/yellow] {path} {damaged.start_s:.1f}-{end} s: {damaged.reason}")
    console.print(f"events: matthan events search --job {view.job_id}")


def exit_code(view: JobView | None) -> int:
    if view is None:
        return 1
    return 0 if view.state in (JobState.SUCCEEDED, JobState.CANCELLED) else 1


def progress_as_dict(view: JobView) -> dict:
    return {
        "job_id": view.job_id,
        "state": view.state.value,
        "frames_done": view.frames_done,
        "frames_total": view.frames_total,
        "segments_done": view.segments_done,
        "segments_total": view.segments_total,
        "speed": round(view.speed, 3),
        "eta_s": round(view.eta_s, 1) if view.eta_s is not None else None,
        "waiting": view.waiting,
    }


def job_as_dict(view: JobView) -> dict:
    return {
        **progress_as_dict(view),
        "camera_id": view.camera_id,
        "submitted_by": view.submitted_by,
        "submitted_at": view.submitted_at,
        "started_at": view.started_at,
        "finished_at": view.finished_at,
        "footage_done_s": round(view.footage_done_s, 3),
        "footage_total_s": round(view.footage_total_s, 3),
        "frames_analysed": view.frames_analysed,
        "files": [
            {
                "path": f.path,
                "duration_s": f.duration_s,
                "footage_start": f.footage_start,
                "time_source": f.time_source.value,
            }
            for f in view.files
        ],
        "events": view.events,
        "event_counts": [
            {"type": c.type, "class": c.class_name, "rule": c.rule, "count": c.count} for c in view.event_counts
        ],
        "damaged": [
            {"file": view.files[d.file_index].path, "start_s": d.start_s, "end_s": d.end_s, "reason": d.reason}
            for d in view.damaged
        ],
        "error": view.error,
        "recorded": (
            {"from": view.recorded_range[0], "to": view.recorded_range[1]} if view.recorded_range is not None else None
        ),
        "not_recorded": [{"start": n.start, "end": n.end, "reason": n.reason} for n in view.not_recorded],
    }


def _share(view: JobView) -> float:
    return view.frames_done / view.frames_total if view.frames_total else 0.0


def _eta(view: JobView) -> str:
    if view.state.final:
        return "0:00:00"
    if view.eta_s is None:
        return "-:--:--"
    return str(datetime.timedelta(seconds=round(view.eta_s)))


def _time(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def describe_range(start: float, end: float) -> str:
    """'2026-11-20 21:40:00 - 21:45:00' (local time; the end's date only when it differs)."""
    first, last = datetime.datetime.fromtimestamp(start), datetime.datetime.fromtimestamp(end)
    shown = "%H:%M:%S" if first.date() == last.date() else "%Y-%m-%d %H:%M:%S"
    return f"{first:%Y-%m-%d %H:%M:%S} - {last.strftime(shown)} ({end - start:,.1f} s)"


__all__ = ["describe_range", "follow", "job_as_dict", "print_summary", "register"]
