"""Every alert is labelled, explained and unit-tested; the issue's alerts all exist."""

from __future__ import annotations

import re

import pytest
import yaml

from cluster.metrics import definitions as d

from .promql import ALERT_TESTS, alert_rules

REQUIRED = {
    "MatthanCameraDown",
    "MatthanCameraStalled",
    "MatthanAnalysisBehindSource",
    "MatthanLatencyP99OverBudget",
    "MatthanCamerasUnplaced",
    "MatthanEventStoreErrors",
    "MatthanNodeLost",
    "MatthanRecordingStopped",  # recordings: an alert when recording stops
}


def test_the_alerts_of_the_issue_exist():
    assert {rule["alert"] for rule in alert_rules()} >= REQUIRED


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_each_alert_has_severity_summary_and_description(rule):
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert rule["annotations"]["summary"].strip() and rule["annotations"]["description"].strip()


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_each_alert_uses_only_defined_metrics(rule):
    names = set(re.findall(r"\b(matthan_[a-z_]+)", rule["expr"]))
    known = {m.name for m in d.ALL} | {m.name + suffix for m in d.ALL for suffix in ("_bucket", "_sum", "_count")}
    assert names <= known, f"unknown metrics: {sorted(names - known)}"


def test_each_alert_has_a_firing_and_a_quiet_unit_test():
    tests = yaml.safe_load(ALERT_TESTS.read_text(encoding="utf-8"))["tests"]
    firing, quiet = set(), set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in alert_rules()}
    assert alerts - firing == set(), "alerts never shown to fire"
    assert alerts - quiet == set(), "alerts never shown to stay quiet"
