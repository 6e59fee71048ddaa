"""`matthan recordings list|verify|hold|release|holds` and `matthan export`: recorded footage
through the front door (matthan.v1.Recordings).

    matthan recordings list --camera alley-1 --from 2026-11-20T21:30 --to 2026-11-20T22:00
    matthan recordings verify --camera alley-1
    matthan recordings verify --dir /mnt/evidence/alley-1        # a copy, no server needed
    matthan recordings hold --camera alley-1 --from ... --to ... --reason "collision, case 114"
    matthan export --camera alley-1 --from 2026-11-20T21:39 --to 2026-11-20T21:42 -o clip.mp4

Times are ISO 8601 (`2026-11-20T21:40:00+07:00`; without an offset: this machine's
local time) or epoch seconds. `verify` exits 0 when the chain is whole, 3 when
something was changed, removed or inserted (the first broken link is printed first).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from ..client import ClientError
from ..domain import ChainCheck, EvidenceHold, RecordingTimeline
from .remote import add_connection_args, connect, reports_errors

EXIT_BROKEN = 3
DEFAULT_LIST_S = 86400.0


def parse_time(text: str) -> float:
    """Epoch seconds from ISO 8601 (local time without an offset), epoch seconds or `now`."""
    value = text.strip()
    if value == "now":
        return time.time()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: give ISO 8601 (2026-11-20T21:40:00, with an optional +07:00), "
            "epoch seconds or 'now'"
        ) from None
    return moment.timestamp()


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="milliseconds")


def _span(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def register(sub) -> None:
    parser = sub.add_parser("recordings", help="recorded footage: list, verify the chain of custody, evidence holds")
    actions = parser.add_subparsers(dest="recordings_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="recorded ranges and gaps of a camera (default: the last 24 h)")
    _camera_and_range(listing, required=False)
    listing.add_argument("--segments", action="store_true", help="also list every segment with its hash")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)

    verify = actions.add_parser("verify", help="prove nothing was changed, removed or inserted (exit 3 if it was)")
    verify.add_argument("--camera", help="camera id (through the front door)")
    verify.add_argument("--dir", type=Path, help="verify a camera's recordings directory here instead (a copy)")
    verify.add_argument("--from", dest="start", type=parse_time, help="only hash the segments from here")
    verify.add_argument("--to", dest="end", type=parse_time, help="... to here (the chain is checked whole)")
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    add_connection_args(verify)
    verify.set_defaults(func=run_verify)

    hold = actions.add_parser("hold", help="keep a time range (or an event's) past retention (operator)")
    hold.add_argument("--camera", required=True, help="camera id")
    hold.add_argument("--from", dest="start", type=parse_time, help="start of the range")
    hold.add_argument("--to", dest="end", type=parse_time, help="end of the range")
    hold.add_argument("--event", default="", help="or an event id: its span plus the camera's pre/post roll")
    hold.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    add_connection_args(hold)
    hold.set_defaults(func=run_hold)

    release = actions.add_parser("release", help="release an evidence hold (operator)")
    release.add_argument("--camera", required=True, help="camera id")
    release.add_argument("hold_id", help="as shown by `matthan recordings holds`")
    release.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    add_connection_args(release)
    release.set_defaults(func=run_release)

    holds = actions.add_parser("holds", help="a camera's evidence holds")
    holds.add_argument("--camera", required=True, help="camera id")
    add_connection_args(holds)
    holds.set_defaults(func=run_holds)

    export = sub.add_parser("export", help="a camera's footage of a time range as one MP4, privacy masks burnt in")
    _camera_and_range(export, required=True)
    export.add_argument("-o", "--output", type=Path, required=True, help="the MP4 to write (manifest beside it)")
    export.add_argument("--unmasked", action="store_true", help="without the privacy masks (admin, needs --reason)")
    export.add_argument("--reason", default="", help="why the clip is exported (audited)")
    export.set_defaults(func=run_export)


def _camera_and_range(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--camera", required=True, help="camera id")
    parser.add_argument("--from", dest="start", type=parse_time, required=required, help="start (ISO 8601 or epoch)")
    parser.add_argument("--to", dest="end", type=parse_time, required=required, help="end (ISO 8601 or epoch)")
    add_connection_args(parser)


@reports_errors("recordings list")
def run_list(args) -> int:
    end = args.end if args.end is not None else time.time()
    start = args.start if args.start is not None else end - DEFAULT_LIST_S
    with connect(args) as client:
        timeline = client.recordings.timeline(args.camera, start, end)
    if args.json:
        print(json.dumps(timeline_json(timeline), indent=2))
    else:
        for line in timeline_lines(timeline, segments=args.segments):
            print(line)
    return 0


def timeline_json(timeline: RecordingTimeline) -> dict:
    return {
        "camera_id": timeline.camera_id,
        "from": timeline.start,
        "to": timeline.end,
        "ranges": [{"start": r.start, "end": r.end, "segments": r.segments} for r in timeline.ranges],
        "gaps": [{"start": g.start, "end": g.end, "reason": g.reason} for g in timeline.gaps],
        "segments": [
            {
                "index": s.index,
                "file": s.file,
                "start": s.start,
                "end": s.end,
                "bytes": s.bytes,
                "sha256": s.sha256,
                "mode": s.mode,
                "held": s.held,
            }
            for s in timeline.segments
        ],
    }


def timeline_lines(timeline: RecordingTimeline, *, segments: bool = False) -> list[str]:
    lines = [f"camera {timeline.camera_id}: {_iso(timeline.start)} .. {_iso(timeline.end)}"]
    items = [
        (r.start, f"  recorded {_iso(r.start)} .. {_iso(r.end)}  {_span(r.end - r.start)}, {r.segments} segment(s)")
        for r in timeline.ranges
    ]
    items += [
        (g.start, f"  gap      {_iso(g.start)} .. {_iso(g.end)}  {_span(g.end - g.start)}: {g.reason}")
        for g in timeline.gaps
    ]
    lines += [text for _, text in sorted(items)] or ["  nothing recorded"]
    if segments:
        for s in timeline.segments:
            held = "  HELD" if s.held else ""
            lines.append(
                f"  #{s.index:<6} {_iso(s.start)}  {_span(s.end - s.start):>9}  {s.bytes:>10} B  "
                f"{s.sha256[:16]}  {s.file}{held}"
            )
    return lines


def run_verify(args) -> int:
    if (args.camera is None) == (args.dir is None):
        print("matthan: recordings verify: give --camera (through the front door) or --dir (a copy)", file=sys.stderr)
        return 2
    if args.dir is not None:
        from ..recordings import verify_chain

        directory = args.dir.resolve()
        if not (directory / "chain.jsonl").is_file():
            print(
                f"matthan: recordings verify: {directory} has no chain.jsonl (a camera's recordings directory)",
                file=sys.stderr,
            )
            return 2
        result = verify_chain(directory, directory.name, start=args.start, end=args.end)
        first = result.first_broken
        check = ChainCheck(
            camera_id=result.camera_id,
            ok=result.ok,
            entries=result.entries,
            segments_checked=result.segments_checked,
            head_index=result.head_index,
            head_hash=result.head_hash,
            problems=tuple(p.describe() for p in result.problems),
            first_broken_index=first.index if first is not None else -1,
        )
    else:
        try:
            with connect(args) as client:
                check = client.recordings.verify(args.camera, args.start, args.end)
        except ClientError as exc:
            print(f"matthan: recordings verify: {exc.code.name}: {exc.details}", file=sys.stderr)
            return 1
    if args.json:
        print(
            json.dumps(
                {
                    "camera_id": check.camera_id,
                    "ok": check.ok,
                    "entries": check.entries,
                    "segments_checked": check.segments_checked,
                    "head_index": check.head_index,
                    "head_hash": check.head_hash,
                    "first_broken_index": check.first_broken_index,
                    "problems": list(check.problems),
                },
                indent=2,
            )
        )
    else:
        for line in check_lines(check):
            print(line)
    return 0 if check.ok else EXIT_BROKEN


def check_lines(check: ChainCheck) -> list[str]:
    if check.ok:
        return [
            f"camera {check.camera_id}: OK: {check.entries} chain entries, {check.segments_checked} segment(s) hashed, "
            f"head #{check.head_index} {check.head_hash}"
        ]
    where = f"entry {check.first_broken_index}" if check.first_broken_index >= 0 else "a file the chain does not list"
    lines = [f"camera {check.camera_id}: BROKEN: first broken link at {where}; {len(check.problems)} problem(s):"]
    lines += [f"  {problem}" for problem in check.problems]
    return lines


@reports_errors("recordings hold")
def run_hold(args) -> int:
    with connect(args) as client:
        hold = client.recordings.place_hold(
            args.camera, reason=args.reason, start=args.start, end=args.end, event_id=args.event
        )
    print(hold_line(hold))
    return 0


@reports_errors("recordings release")
def run_release(args) -> int:
    with connect(args) as client:
        hold = client.recordings.release_hold(args.camera, args.hold_id, reason=args.reason)
    print(f"released {hold.hold_id}")
    return 0


@reports_errors("recordings holds")
def run_holds(args) -> int:
    with connect(args) as client:
        holds = client.recordings.holds(args.camera)
    for hold in holds:
        print(hold_line(hold))
    if not holds:
        print(f"camera {args.camera}: no holds")
    return 0


def hold_line(hold: EvidenceHold) -> str:
    on = f" (event {hold.event_id})" if hold.event_id else ""
    return (
        f"{hold.hold_id}  {hold.camera_id}  {_iso(hold.start)} .. {_iso(hold.end)}{on}  by {hold.placed_by} "
        f"at {_iso(hold.placed_at)}: {hold.reason}"
    )


@reports_errors("export")
def run_export(args) -> int:
    with connect(args) as client:
        clip = client.recordings.export(
            args.camera, args.start, args.end, args.output, unmasked=args.unmasked, reason=args.reason
        )
    manifest = clip.manifest
    masked = "masks burnt in" if manifest.get("masked") else "UNMASKED (audited)"
    gaps = manifest.get("gaps", [])
    print(f"wrote {clip.path} ({clip.bytes} bytes, {manifest['clip']['frames']} frames, {masked})")
    print(
        f"manifest {clip.manifest_path}: {len(manifest['segments'])} segment(s), chain head "
        f"#{manifest['chain_head']['index']}, clip sha256 {manifest['clip']['sha256']}"
    )
    if gaps:
        print(f"note: the range has {len(gaps)} gap(s) in the recording (listed in the manifest)")
    return 0
