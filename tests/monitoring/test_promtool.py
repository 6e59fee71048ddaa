"""Debian's promtool accepts our rules and config, and the alert unit tests pass."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .promql import ALERT_TESTS, ALERTS, PROMETHEUS_CONFIG

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=120, cwd=ALERTS.parent, check=False
    )


@pytest.fixture(scope="module", autouse=True)
def _needs_promtool():
    if not shutil.which(PROMTOOL):
        pytest.fail(f"promtool not found at {PROMTOOL}: apt-get install prometheus")


def test_check_rules_passes():
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_config_passes():
    result = promtool("check", "config", str(PROMETHEUS_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_unit_tests_pass():
    result = promtool("test", "rules", str(ALERT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
