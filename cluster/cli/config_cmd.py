"""`matthan config check FILE`: validate a config file without running anything."""

from __future__ import annotations

from pathlib import Path

from ..config import load_config


def register(sub) -> None:
    parser = sub.add_parser("config", help="work with config files")
    inner = parser.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = inner.add_parser("check", help="validate a cameras.yaml")
    check.add_argument("path", type=Path)
    check.set_defaults(func=run_check)


def run_check(args) -> int:
    config = load_config(args.path)
    enabled = sum(1 for c in config.cameras if c.enabled)
    print(f"{args.path}: ok, {len(config.cameras)} camera(s), {enabled} enabled")
    return 0
