"""`matthan status`: camera states and recent detections, read from the running cluster."""

from __future__ import annotations

import datetime as dt
import sys

from rich.console import Console
from rich.table import Table

from ..domain import CameraState, CameraStatus, DetectionBatch

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

    from ..actors.ray_handles import find_camera_actors

    try:
        ray.init(address=args.address, namespace=args.namespace, logging_level="ERROR", log_to_driver=False)
    except ConnectionError as exc:
        print(f"matthan: status: no running cluster at {args.address}: {exc}", file=sys.stderr)
        return 1
    actors = find_camera_actors(args.namespace)
    if not actors:
        print(f"matthan: status: no cameras in namespace {args.namespace!r}", file=sys.stderr)
        return 1
    statuses: dict[str, CameraStatus | Exception] = {}
    pulls = {}
    for cam, actor in sorted(actors.items()):
        try:
            statuses[cam] = ray.get(actor.status.remote(), timeout=10)
            newest = statuses[cam].last_sequence
            pulls[cam] = ray.get(actor.pull_detections.remote(max(0, newest - args.detections), args.detections), timeout=10)
        except Exception as exc:  # one broken camera must not hide the others
            statuses[cam] = exc
    console = Console()
    console.print(camera_table(statuses))
    for line in problems(statuses):
        console.print(line, style="yellow", markup=False, highlight=False)
    for cam, pull in pulls.items():
        console.print(detection_table(cam, pull.batches))
    return 0


def camera_table(statuses: dict[str, CameraStatus | Exception]) -> Table:
    """One row per camera."""
    table = Table(title="cameras")
    for col in ("camera", "state", "mode", "fps in/out", "analysed", "skipped", "reconn", "lat ms", "cpu%", "MB"):
        table.add_column(col, no_wrap=True)
    for cam, st in statuses.items():
        if isinstance(st, Exception):
            table.add_row(cam, "[red]unreachable[/red]")
            continue
        style = STATE_STYLE.get(st.state, "")
        table.add_row(
            cam, f"[{style}]{st.state.value}[/{style}]", st.mode, f"{st.fps_in:.1f}/{st.fps_out:.1f}",
            str(st.frames_analysed), str(st.frames_skipped), str(st.reconnects),
            f"{st.capture_to_publish_seconds * 1000:.0f}", f"{st.cpu_percent:.0f}", f"{st.memory_uss_bytes / 1e6:.0f}",
        )
    return table


def problems(statuses: dict[str, CameraStatus | Exception]) -> list[str]:
    """Why each camera that is not live is not, one line each."""
    lines = []
    for cam, st in statuses.items():
        if isinstance(st, Exception):
            lines.append(f"{cam}: unreachable: {st}")
        elif st.state is not CameraState.LIVE:
            lines.append(f"{cam}: {st.state.value}: {st.reason}")
    return lines


def detection_table(camera_id: str, batches: tuple[DetectionBatch, ...]) -> Table:
    table = Table(title=f"{camera_id}: recent detections")
    for col in ("seq", "frame", "captured", "motion", "detections"):
        table.add_column(col)
    for b in batches:
        when = dt.datetime.fromtimestamp(b.capture_time).strftime("%H:%M:%S.%f")[:-3]
        dets = ", ".join(
            f"{d.class_name}#{d.track_id} {d.confidence:.2f}" if d.track_id is not None else f"{d.class_name} {d.confidence:.2f}"
            for d in b.detections
        )
        table.add_row(str(b.sequence), str(b.frame_sequence), when, f"{b.motion_ratio:.3f}", dets or "-")
    return table
