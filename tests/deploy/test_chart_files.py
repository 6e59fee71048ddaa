"""The generator of the chart's copies of monitoring/ (on a scratch tree; the real
copies are checked in tests/helm/test_crosschecks.py)."""

from __future__ import annotations

from pathlib import Path

from cluster.deploy.chart_files import CHART_DIR, stale_copies, write_copies


def tree(root: Path) -> Path:
    (root / "monitoring/prometheus").mkdir(parents=True)
    (root / "monitoring/grafana/dashboards").mkdir(parents=True)
    (root / "monitoring/prometheus/alerts.yml").write_bytes(b"groups: []\n")
    (root / "monitoring/grafana/dashboards/a.json").write_bytes('{"title": "Mắt Thần"}\n'.encode())
    (root / CHART_DIR).mkdir(parents=True)
    return root


def test_copies_are_written_byte_for_byte_and_then_up_to_date(tmp_path):
    root = tree(tmp_path)
    assert stale_copies(root), "missing copies are out of date"
    write_copies(root)
    chart = root / CHART_DIR
    assert (chart / "files/grafana/dashboards/a.json").read_bytes() == (
        root / "monitoring/grafana/dashboards/a.json"
    ).read_bytes(), "the dashboard byte for byte"
    assert (chart / "files/prometheus/alerts.yml").read_bytes() == b"groups: []\n", "the rules byte for byte"
    assert stale_copies(root) == [], "nothing is out of date after writing"


def test_a_changed_original_makes_its_copy_stale(tmp_path):
    root = tree(tmp_path)
    write_copies(root)
    (root / "monitoring/prometheus/alerts.yml").write_bytes(b"groups: [{name: x, rules: []}]\n")
    assert stale_copies(root) == [Path("files/prometheus/alerts.yml")], "the changed file, only"


def test_a_copy_whose_original_is_gone_is_deleted(tmp_path):
    root = tree(tmp_path)
    write_copies(root)
    (root / "monitoring/grafana/dashboards/a.json").unlink()
    assert stale_copies(root) == [Path("files/grafana/dashboards/a.json")], "the orphan is stale"
    write_copies(root)
    assert not (root / CHART_DIR / "files/grafana/dashboards/a.json").exists(), "and deleted"
