"""`matthan watch`: live detections of one, several or all cameras, in one refreshing table."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.table import Table

from ..domain import DetectionBatch
from .remote import add_connection_args, connect, reports_errors


def register(sub) -> None:
    parser = sub.add_parser("watch", help="live detections in the terminal (gRPC)")
    parser.add_argument("--camera", action="append", default=[], help="camera id (repeatable; default: all)")
    parser.add_argument("--class", dest="classes", action="append", default=[], help="only this class (repeatable)")
    parser.add_argument("--min-confidence", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--plain", action="store_true", help="one line per batch instead of a table")
    add_connection_args(parser)
    parser.set_defaults(func=run)


@dataclass
class CameraRow:
    batches: int = 0
    last: DetectionBatch | None = None
    classes: Counter = field(default_factory=Counter)  # over the last batch
    tracks: set[int] = field(default_factory=set)  # distinct track ids seen
    lost: int = 0  # batches reported lost (data loss)


def render(rows: dict[str, CameraRow], now: float) -> Table:
    table = Table(title=f"live detections — {dt.datetime.fromtimestamp(now):%H:%M:%S}")
    for col in ("camera", "seq", "age ms", "motion", "now in view", "tracks seen", "lost"):
        table.add_column(col)
    for cam, row in sorted(rows.items()):
        last = row.last
        age = f"{(now - last.capture_time) * 1000:.0f}" if last else ""
        view = ", ".join(f"{n}x {c}" for c, n in row.classes.most_common()) or "-"
        table.add_row(
            cam,
            str(last.sequence if last else ""),
            age,
            f"{last.motion_ratio:.3f}" if last else "",
            view,
            str(len(row.tracks)),
            str(row.lost),
        )
    return table


def format_line(batch: DetectionBatch) -> str:
    when = dt.datetime.fromtimestamp(batch.capture_time).strftime("%H:%M:%S.%f")[:-3]
    dets = " ".join(
        f"{d.class_name}#{d.track_id}:{d.confidence:.2f}"
        if d.track_id is not None
        else f"{d.class_name}:{d.confidence:.2f}"
        for d in batch.detections
    )
    return f"{when} {batch.camera_id} seq={batch.sequence} motion={batch.motion_ratio:.3f} {dets}".rstrip()


@reports_errors("watch")
def run(args) -> int:
    rows: dict[str, CameraRow] = {}
    with connect(args) as client:
        stream = client.stream_detections(
            args.camera, classes=args.classes, min_confidence=args.min_confidence, include_empty=True
        )
        if args.seconds:
            timer = threading.Timer(args.seconds, stream.cancel)
            timer.daemon = True
            timer.start()
        try:
            if args.plain:
                for event in stream:
                    print(format_line(event.batch), flush=True)
                return 0
            with Live(render(rows, time.time()), console=Console(), refresh_per_second=4) as live:
                for event in stream:
                    row = rows.setdefault(event.batch.camera_id, CameraRow())
                    row.batches += 1
                    row.last = event.batch
                    row.classes = Counter(d.class_name for d in event.batch.detections)
                    row.tracks.update(d.track_id for d in event.batch.detections if d.track_id is not None)
                    if event.data_loss is not None:
                        row.lost += 1
                    live.update(render(rows, time.time()))
        except KeyboardInterrupt:
            stream.cancel()
    return 0
