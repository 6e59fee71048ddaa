"""`matthan reprocess FILES... --camera CAM` or `matthan reprocess --camera CAM --from T0 --to T1`:
run the live analysis over recorded footage.

The files are on the server's side (inside its `batch.allowed_dirs`); globs are
expanded there, relative paths are made absolute here. With `--from/--to` and no
files, the camera's own recordings of that range are reprocessed: the server
finds the segment files in the camera's recording chain and clips the job to the
range exactly; the summary lists the stretches of it nothing recorded. Rules and analysis are the
camera's unless `--rules`, `--detector` or `--fps` override them for this job.
Without `--detach` the command follows the job with a progress bar (frames done
of total, speed as a multiple of real time, ETA) and ends with a summary: events
by type, class and rule, and the damaged ranges. `--json` prints the progress and
the summary as JSON lines instead. Ctrl-C stops following; the job goes on
(`matthan jobs cancel` stops it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml
from pydantic import ValidationError
from rich.console import Console

from ..batch.planning import ReprocessRequest
from ..config import ConfigError, RulesConfig, format_validation_error
from .jobs_cmd import describe_range, exit_code, follow
from .recordings_cmd import parse_time
from .remote import add_connection_args, connect, reports_errors


def register(sub) -> None:
    parser = sub.add_parser("reprocess", help="analyse recorded footage on the cluster into the event store (gRPC)")
    parser.add_argument(
        "files", nargs="*", metavar="FILE_OR_GLOB", help="video files on the server (globs allowed); none with --from"
    )
    parser.add_argument("--camera", required=True, help="the camera the footage is from (its rules and analysis)")
    parser.add_argument(
        "--from",
        dest="range_from",
        type=parse_time,
        metavar="TIME",
        help="reprocess the camera's recordings from this time (ISO 8601)",
    )
    parser.add_argument(
        "--to", dest="range_to", type=parse_time, metavar="TIME", help="... up to this time (exclusive)"
    )
    parser.add_argument("--start", help="ISO time the first file starts, e.g. 2026-11-28T22:00 (camera's time zone)")
    parser.add_argument("--rules", type=Path, help="a YAML file of rules (zones, lines) for this job only")
    parser.add_argument("--detector", type=Path, help="a detector model (.cfg / .onnx) for this job only")
    parser.add_argument("--fps", type=float, help="frames analysed per second of footage for this job")
    parser.add_argument("--segment", type=float, help="segment length in seconds (default: the server's)")
    parser.add_argument("--detach", action="store_true", help="submit, print the job id and return")
    parser.add_argument("--json", action="store_true", help="JSON lines: progress, then the summary")
    add_connection_args(parser)
    parser.set_defaults(func=run)


def load_rules(path: Path) -> RulesConfig:
    """A rules file: the `rules:` mapping of a camera, or a mapping with a `rules:` key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the rules file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None
    if isinstance(data, dict) and set(data) == {"rules"}:
        data = data["rules"]
    try:
        return RulesConfig.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(f"{path}: {format_validation_error(exc, 'rules.')}") from None


def check_footage(args) -> str | None:
    """What is wrong with the footage named on the command line, or None."""
    recorded = args.range_from is not None or args.range_to is not None
    if recorded and args.files:
        return "give either files or --from/--to (the camera's recordings), not both"
    if recorded and args.start:
        return "--start dates files; a recorded range is dated by the recording"
    if recorded and (args.range_from is None or args.range_to is None):
        return "a recorded range needs both --from and --to"
    if recorded and not args.range_to > args.range_from:
        return "--to must be after --from"
    if not recorded and not args.files:
        return "name the files to reprocess, or the camera's recorded range with --from and --to"
    return None


@reports_errors("reprocess")
def run(args) -> int:
    problem = check_footage(args)
    if problem is not None:
        print(f"matthan reprocess: {problem}", file=sys.stderr)
        return 2
    rules = load_rules(args.rules) if args.rules else None
    files = tuple(name if os.path.isabs(name) else os.path.abspath(name) for name in args.files)
    with connect(args) as client:
        analysis = None
        if args.detector:
            camera = client.get_camera(args.camera).config
            current = camera.analysis.model_dump(mode="json")
            detector = {**(current.get("detector") or {}), "model": str(args.detector.resolve()), "weights": None}
            analysis = camera.analysis.model_validate({**current, "detector": detector})
        request = ReprocessRequest(
            camera_id=args.camera,
            files=files,
            start_time=args.start,
            rules=rules,
            analysis=analysis,
            fps=args.fps,
            segment_s=args.segment,
            recorded_from=args.range_from,
            recorded_to=args.range_to,
        )
        job = client.jobs.submit(request)
        if args.detach:
            print(job.job_id)
            return 0
        print(f"job {job.job_id}: {len(job.files)} file(s), {job.segments_total} segment(s)", file=sys.stderr)
        for hole in job.not_recorded:
            print(f"not recorded: {describe_range(hole.start, hole.end)}: {hole.reason}", file=sys.stderr)
        try:
            final = follow(client.jobs.watch(job.job_id), as_json=args.json, console=Console())
        except KeyboardInterrupt:
            print(f"\nstopped following; the job goes on (matthan jobs cancel {job.job_id})", file=sys.stderr)
            return 130
    return exit_code(final)
