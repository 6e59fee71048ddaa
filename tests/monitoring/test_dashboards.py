"""The provisioned Grafana dashboards: current, fixed uids, data source and
camera/node variables, and queries over metrics that exist."""

from __future__ import annotations

import re

import pytest
import yaml

from cluster.metrics import definitions as d
from cluster.metrics.dashboards import DASHBOARDS, render

from .promql import DASHBOARDS as DASHBOARD_DIR
from .promql import MONITORING, dashboard_files, load_dashboard, panel_expressions

EXPECTED_UIDS = {
    "cluster-overview.json": "matthan-cluster-overview",
    "camera.json": "matthan-camera",
    "front-door.json": "matthan-front-door",
    "batch-jobs.json": "matthan-batch-jobs",
    "events.json": "matthan-events",
}
KNOWN = {m.name for m in d.ALL} | {m.name + s for m in d.ALL for s in ("_bucket", "_sum", "_count")}


def test_the_files_are_what_the_generator_makes():
    for name, build in DASHBOARDS.items():
        path = DASHBOARD_DIR / name
        assert path.exists(), f"{path} missing: python -m cluster.metrics.dashboards {DASHBOARD_DIR}"
        assert path.read_text(encoding="utf-8") == render(build()), (
            f"{path} is out of date: python -m cluster.metrics.dashboards {DASHBOARD_DIR}"
        )
    assert {p.name for p in dashboard_files()} == set(DASHBOARDS), "a dashboard file without a generator"


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda p: p.name)
def test_fixed_uid_and_datasource_variable_everywhere(path):
    board = load_dashboard(path)
    assert board["uid"] == EXPECTED_UIDS[path.name]
    assert board["id"] is None, "provisioned dashboards carry no database id"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", f"panel {panel['title']!r}"
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", f"panel {panel['title']!r}"


@pytest.mark.parametrize("name", ["cluster-overview.json", "camera.json", "front-door.json"])
def test_camera_dashboards_have_camera_and_node_variables(name):
    variables = {v["name"]: v for v in load_dashboard(DASHBOARD_DIR / name)["templating"]["list"]}
    assert variables["node"]["definition"] == "label_values(matthan_node_info, node)"
    assert "$node" in variables["camera"]["definition"], "cameras are chained on the selected nodes"


def test_the_batch_dashboard_selects_jobs():
    variables = {v["name"] for v in load_dashboard(DASHBOARD_DIR / "batch-jobs.json")["templating"]["list"]}
    assert "batch_job" in variables


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda p: p.name)
def test_queries_use_defined_metrics_and_declared_variables(path):
    board = load_dashboard(path)
    declared = {v["name"] for v in board["templating"]["list"]} | {"__rate_interval", "__range", "__interval"}
    for title, expr in panel_expressions(board):
        names = set(re.findall(r"\b(matthan_[a-z_]+)", expr))
        assert names <= KNOWN, f"{title!r}: unknown metrics {sorted(names - KNOWN)}"
        used = set(re.findall(r"\$\{?(\w+)", expr))
        assert used <= declared, f"{title!r}: undeclared variables {sorted(used - declared)}"


def test_grid_positions_do_not_overlap():
    for path in dashboard_files():
        cells = set()
        for panel in load_dashboard(path)["panels"]:
            g = panel["gridPos"]
            area = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
            assert not cells & area, f"{path.name}: panel {panel['title']!r} overlaps another"
            assert g["x"] + g["w"] <= 24
            cells |= area


def test_provisioning_points_at_prometheus_and_the_dashboard_folder():
    datasources = yaml.safe_load((MONITORING / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    assert datasources["apiVersion"] == 1 and datasources["datasources"][0]["type"] == "prometheus"
    providers = yaml.safe_load((MONITORING / "grafana/provisioning/dashboards/matthan.yaml").read_text())
    provider = providers["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"]
