"""`matthan snapshot` and `matthan record-frames`: JPEGs of a camera over gRPC."""

from __future__ import annotations

import threading
from pathlib import Path

from .remote import add_connection_args, connect, reports_errors


def register(sub) -> None:
    snap = sub.add_parser("snapshot", help="save the camera's current frame as JPEG (gRPC)")
    snap.add_argument("camera_id")
    snap.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    snap.add_argument("--max-width", type=int, default=0)
    snap.add_argument("--quality", type=int, default=0)
    add_connection_args(snap)
    snap.set_defaults(func=run_snapshot)

    rec = sub.add_parser("record-frames", help="save live JPEG frames for a while (gRPC)")
    rec.add_argument("camera_id")
    rec.add_argument("--seconds", type=float, required=True)
    rec.add_argument("-o", "--output", type=Path, required=True, help="directory to write into")
    rec.add_argument("--max-fps", type=float, default=0.0)
    rec.add_argument("--max-width", type=int, default=0)
    rec.add_argument("--quality", type=int, default=0)
    add_connection_args(rec)
    rec.set_defaults(func=run_record)


@reports_errors("snapshot")
def run_snapshot(args) -> int:
    with connect(args) as client:
        frame = client.snapshot(args.camera_id, max_width=args.max_width, quality=args.quality)
    args.output.write_bytes(frame.jpeg)
    print(f"{args.output}: {frame.width}x{frame.height}, frame {frame.frame_sequence}")
    return 0


@reports_errors("record-frames")
def run_record(args) -> int:
    args.output.mkdir(parents=True, exist_ok=True)
    written = 0
    last = None
    with connect(args) as client:
        stream = client.stream_frames(
            args.camera_id, max_fps=args.max_fps, max_width=args.max_width, quality=args.quality
        )
        timer = threading.Timer(args.seconds, stream.cancel)
        timer.daemon = True
        timer.start()
        for event in stream:
            frame = event.frame
            (args.output / f"{frame.camera_id}-{frame.frame_sequence:08d}.jpg").write_bytes(frame.jpeg)
            written += 1
            last = event
    dropped = last.dropped_slow if last else 0
    print(f"{written} frame(s) written to {args.output} ({dropped} dropped because this client was slow)")
    return 0
