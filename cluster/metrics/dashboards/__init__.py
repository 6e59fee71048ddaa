"""The Grafana dashboards provisioned from monitoring/grafana/dashboards/.

The JSON files are generated from here so that queries, units and layout stay
consistent; a test fails when they are out of date. Regenerate with

    python -m cluster.metrics.dashboards monitoring/grafana/dashboards

One module per dashboard; `queries` holds the fragments they share.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .batch import batch_jobs
from .camera import camera
from .events import events_dashboard
from .front_door import front_door
from .overview import cluster_overview

DASHBOARDS = {
    "cluster-overview.json": cluster_overview,
    "camera.json": camera,
    "front-door.json": front_door,
    "batch-jobs.json": batch_jobs,
    "events.json": events_dashboard,
}


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def write_dashboards(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in DASHBOARDS.items():
        path = directory / name
        path.write_text(render(build()), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cluster.metrics.dashboards DIRECTORY", file=sys.stderr)
        return 2
    for path in write_dashboards(Path(args[0])):
        print(path)
    return 0
