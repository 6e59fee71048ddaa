"""`matthan cameras list|show|add|rm`: camera admin over gRPC."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from ..control import CameraView
from .remote import add_connection_args, connect, reports_errors


def register(sub) -> None:
    parser = sub.add_parser("cameras", help="list, show, add and remove cameras (gRPC)")
    inner = parser.add_subparsers(dest="cameras_command", required=True, metavar="ACTION")

    listing = inner.add_parser("list", help="cameras this token may see, with their state")
    listing.add_argument("--group", action="append", default=[], help="only cameras of this group")
    listing.set_defaults(func=run_list)

    show = inner.add_parser("show", help="one camera's desired and observed state (JSON)")
    show.add_argument("camera_id")
    show.set_defaults(func=run_show)

    add = inner.add_parser("add", help="add a camera (takes effect at once, survives restarts)")
    add.add_argument("camera_id")
    add.add_argument("url", nargs="?", help="rtsp://, http(s):// MJPEG, or a file path")
    add.add_argument("--name", default="")
    add.add_argument("--group", action="append", default=[], help="access-control group (repeatable)")
    add.add_argument("--fps", type=float, help="frames analysed per second")
    add.add_argument("--transport", choices=("tcp", "udp"), help="RTSP transport")
    add.add_argument("--loop", action="store_true", help="files: play in a loop")
    add.add_argument(
        "--skip-loop-filter",
        choices=("none", "noref", "all"),
        help="decode shortcut (source.skip_loop_filter): 'all' decodes H.264/H.265 about 1.4x cheaper "
        "with blocking artefacts in the view and the analysis until the next keyframe",
    )
    add.add_argument("--from-yaml", type=Path, help="a YAML file with one camera mapping (as in cameras.yaml)")
    add.set_defaults(func=run_add)

    remove = inner.add_parser("rm", help="remove a camera")
    remove.add_argument("camera_id")
    remove.set_defaults(func=run_remove)

    for p in (listing, show, add, remove):
        add_connection_args(p)


@reports_errors("cameras list")
def run_list(args) -> int:
    with connect(args) as client:
        views = client.list_cameras(args.group)
    table = Table(title=f"{len(views)} camera(s)")
    for col in ("camera", "name", "state", "node", "fps in/out", "reason"):
        table.add_column(col)
    for view in views:
        st = view.status
        table.add_row(
            view.config.id,
            view.config.name,
            st.state.value if st else "not running",
            (view.node_id or "")[:12],
            f"{st.fps_in:.1f}/{st.fps_out:.1f}" if st else "",
            st.reason if st and st.state.value != "live" else "",
        )
    Console().print(table)
    return 0


@reports_errors("cameras show")
def run_show(args) -> int:
    with connect(args) as client:
        view = client.get_camera(args.camera_id)
    print(json.dumps(view_as_dict(view), indent=2, ensure_ascii=False, default=str))
    return 0


@reports_errors("cameras add")
def run_add(args) -> int:
    if args.from_yaml:
        camera = yaml.safe_load(args.from_yaml.read_text(encoding="utf-8"))
        if not isinstance(camera, dict):
            print(f"matthan: cameras add: {args.from_yaml} must hold one camera mapping", file=sys.stderr)
            return 2
        camera.setdefault("id", args.camera_id)
    elif args.url:
        camera = {"id": args.camera_id, "name": args.name, "groups": args.group, "source": {"url": args.url}}
        if args.transport:
            camera["source"]["rtsp_transport"] = args.transport
        if args.loop:
            camera["source"]["loop"] = True
        if args.skip_loop_filter:
            camera["source"]["skip_loop_filter"] = args.skip_loop_filter
        if args.fps is not None:
            camera["analysis"] = {"fps": args.fps}
    else:
        print("matthan: cameras add: give a URL or --from-yaml", file=sys.stderr)
        return 2
    with connect(args) as client:
        view = client.add_camera(camera)
    print(f"added {view.config.id}")
    return 0


@reports_errors("cameras rm")
def run_remove(args) -> int:
    with connect(args) as client:
        client.remove_camera(args.camera_id)
    print(f"removed {args.camera_id}")
    return 0


def view_as_dict(view: CameraView) -> dict:
    status = None
    if view.status is not None:
        st = view.status
        status = {
            "state": st.state.value,
            "reason": st.reason,
            "node_id": st.node_id,
            "mode": st.mode,
            "fps_in": round(st.fps_in, 2),
            "fps_out": round(st.fps_out, 2),
            "frames_received": st.frames_received,
            "frames_analysed": st.frames_analysed,
            "frames_skipped": st.frames_skipped,
            "reconnects": st.reconnects,
            "last_sequence": st.last_sequence,
        }
    return {"config": view.config.model_dump(mode="json"), "status": status, "node_id": view.node_id}
