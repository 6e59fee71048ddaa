"""Copies of `monitoring/` inside the Helm chart (`helm/matthan/files/`).

Helm's `.Files.Get` reads only files inside the chart directory, so the chart
carries byte-identical copies of the alert rules and the Grafana dashboards; this
writes them (and deletes copies whose original is gone). `--check` changes nothing
and exits 1 when a copy differs, for CI; a test runs the same check.

    python -m cluster.deploy.chart_files            # after changing monitoring/
    python -m cluster.deploy.chart_files --check
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = Path("helm/matthan")
# Original (under monitoring/) -> copy (under the chart's files/): what the templates read.
COPIED = {
    Path("monitoring/prometheus/alerts.yml"): Path("files/prometheus/alerts.yml"),
    Path("monitoring/grafana/dashboards"): Path("files/grafana/dashboards"),
}
DASHBOARD_GLOB = "*.json"


def expected_copies(root: Path = REPO_ROOT) -> dict[Path, bytes]:
    """Chart-relative path -> the bytes it must hold."""
    copies: dict[Path, bytes] = {}
    for source, target in COPIED.items():
        origin = root / source
        if origin.is_dir():
            for path in sorted(origin.glob(DASHBOARD_GLOB)):
                copies[target / path.name] = path.read_bytes()
        else:
            copies[target] = origin.read_bytes()
    return copies


def stale_copies(root: Path = REPO_ROOT) -> list[Path]:
    """Chart-relative paths that are missing, differ, or have no original any more."""
    chart = root / CHART_DIR
    expected = expected_copies(root)
    wrong = [p for p, data in expected.items() if not (chart / p).is_file() or (chart / p).read_bytes() != data]
    present = {p.relative_to(chart) for t in COPIED.values() for p in _files_under(chart / t)}
    return sorted(wrong + [p for p in present if p not in expected])


def _files_under(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path] if path.is_file() else []


def write_copies(root: Path = REPO_ROOT) -> list[Path]:
    """Bring the copies up to date; returns what changed (chart-relative)."""
    chart = root / CHART_DIR
    expected = expected_copies(root)
    changed = stale_copies(root)
    for path in changed:
        target = chart / path
        if path in expected:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(expected[path])
        else:
            target.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster.deploy.chart_files", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a copy is out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_copies()
        for path in stale:
            print(f"out of date: {CHART_DIR / path} (run python -m cluster.deploy.chart_files)", file=sys.stderr)
        return 1 if stale else 0
    for path in write_copies():
        print(f"updated {CHART_DIR / path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
