"""`matthan models pull NAME`: fetch a reference detector with sha256 verification."""

from __future__ import annotations

import sys
from pathlib import Path

from ..modelzoo import UPSTREAM, ModelZooError, known_models, pull_model


def register(sub) -> None:
    parser = sub.add_parser("models", help="manage detector models")
    inner = parser.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    pull = inner.add_parser("pull", help="download a model and verify its checksum")
    pull.add_argument("name", help=f"one of: {', '.join(known_models())}")
    pull.add_argument("--dest", type=Path, default=Path("var/models"), help="directory to write into")
    pull.add_argument("--base-url", default=UPSTREAM, help="where to download from (a mirror, file://)")
    pull.set_defaults(func=run_pull)


def run_pull(args) -> int:
    try:
        paths = pull_model(args.name, args.dest, base_url=args.base_url)
    except ModelZooError as exc:
        print(f"matthan: models pull: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0
