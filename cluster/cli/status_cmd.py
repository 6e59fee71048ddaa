"""`matthan status`: camera states and recent detections, read from the running cluster.

The camera set comes from the scheduler actor (`SchedulerClient`), each camera's
state and detections from its actor through its `CameraHandle`, the same path the
front door uses."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys

from rich.console import Console
from rich.table import Table

from ..control import CameraControl, ControlError
from ..domain import CameraState, CameraStatus, DetectionBatch, DetectionPull

STATE_STYLE = {
    CameraState.LIVE: "green",
    CameraState.CONNECTING: "yellow",
    CameraState.RECONNECTING: "yellow",
    CameraState.STALLED: "magenta",
    CameraState.FAILED: "red",
    CameraState.STOPPED: "dim",
    CameraState.UNRESPONSIVE: "red",
}


def register(sub) -> None:
    parser = sub.add_parser("status", help="camera states and recent detections of a running cluster")
    parser.add_argument("--address", default="auto", help="Ray cluster to read (default: the local one)")
    parser.add_argument("--namespace", default="matthan")
    parser.add_argument("--detections", type=int, default=5, metavar="N", help="recent detection batches per camera")
    parser.set_defaults(func=run)


def run(args) -> int:
    import ray

    from ..scheduler.client import SchedulerClient

    try:
        ray.init(address=args.address, namespace=args.namespace, logging_level=logging.ERROR, log_to_driver=False)
        control = SchedulerClient.connect(args.namespace)
        statuses, pulls = asyncio.run(read_cameras(control, args.detections))
    except (ConnectionError, ControlError) as exc:
        print(f"matthan: status: {exc}", file=sys.stderr)
        return 1
    if not statuses:
        print(f"matthan: status: no cameras in namespace {args.namespace!r}", file=sys.stderr)
        return 1
    console = Console()
    console.print(camera_table(statuses))
    for line in problems(statuses):
        console.print(line, style="yellow", markup=False, highlight=False)
    for cam, pull in pulls.items():
        console.print(detection_table(cam, pull.batches))
    return 0


async def read_cameras(
    control: CameraControl, detections: int
) -> tuple[dict[str, CameraStatus | ControlError], dict[str, DetectionPull]]:
    """Each camera's status and its newest `detections` batches, read from its actor
    through its handle (every call bounded by the handle's deadline), all cameras at
    once; a camera that cannot answer is reported by its error, never hides the others."""
    views = await control.list_cameras()

    async def read(camera_id: str) -> tuple[CameraStatus | ControlError, DetectionPull | None]:
        try:
            handle = await control.handle(camera_id)
            status = await handle.status()
            if detections <= 0:
                return status, None
            after = max(0, status.last_sequence - detections)
            return status, await handle.pull_detections(after, detections, 0.0)
        except ControlError as exc:  # not running, unresponsive, removed meanwhile
            return exc, None

    ids = sorted(v.config.id for v in views)
    results = await asyncio.gather(*(read(camera_id) for camera_id in ids))
    statuses = {camera_id: status for camera_id, (status, _) in zip(ids, results, strict=True)}
    pulls = {camera_id: pull for camera_id, (_, pull) in zip(ids, results, strict=True) if pull is not None}
    return statuses, pulls


def camera_table(statuses: dict[str, CameraStatus | ControlError]) -> Table:
    """One row per camera."""
    table = Table(title="cameras")
    columns = ("camera", "state", "mode", "fps in/out", "analysed", "skipped", "reconn", "lat ms", "cpu%", "MB")
    for col in (*columns, "node", "pid"):
        table.add_column(col, no_wrap=True)
    for cam, st in statuses.items():
        if isinstance(st, ControlError):
            table.add_row(cam, "[red]unavailable[/red]")
            continue
        style = STATE_STYLE.get(st.state, "")
        table.add_row(
            cam,
            f"[{style}]{st.state.value}[/{style}]",
            str(st.mode),
            f"{st.fps_in:.1f}/{st.fps_out:.1f}" + (f" [yellow]≤{st.target_fps:.1f}[/yellow]" if st.degraded else ""),
            str(st.frames_analysed),
            str(st.frames_skipped),
            str(st.reconnects),
            f"{st.capture_to_publish_seconds * 1000:.0f}",
            f"{st.cpu_percent:.0f}",
            f"{st.memory_uss_bytes / 1e6:.0f}",
            st.node_id[:8],
            str(st.pid),
        )
    return table


def problems(statuses: dict[str, CameraStatus | ControlError]) -> list[str]:
    """Why each camera that is not live is not, one line each."""
    lines = []
    for cam, st in statuses.items():
        if isinstance(st, ControlError):
            lines.append(f"{cam}: unavailable: {st}")
        elif st.state is not CameraState.LIVE:
            lines.append(f"{cam}: {st.state.value}: {st.reason}")
        elif st.degraded:
            rate = f"{st.target_fps:.1f} fps"
            lines.append(f"{cam}: degraded: analysing at {rate}, below analysis.fps (node short of CPU)")
    return lines


def detection_table(camera_id: str, batches: tuple[DetectionBatch, ...]) -> Table:
    table = Table(title=f"{camera_id}: recent detections")
    for col in ("seq", "frame", "captured", "motion", "detections"):
        table.add_column(col)
    for b in batches:
        when = dt.datetime.fromtimestamp(b.capture_time).strftime("%H:%M:%S.%f")[:-3]
        dets = ", ".join(
            f"{d.class_name}#{d.track_id} {d.confidence:.2f}"
            if d.track_id is not None
            else f"{d.class_name} {d.confidence:.2f}"
            for d in b.detections
        )
        table.add_row(str(b.sequence), str(b.frame_sequence), when, f"{b.motion_ratio:.3f}", dets or "-")
    return table
