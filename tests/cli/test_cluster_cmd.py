"""`matthan cluster`: node id prefixes, the status table and the problem lines (no Ray)."""

from __future__ import annotations

import pytest
from rich.console import Console

from cluster.cli.cluster_cmd import node_table, problem_lines, resolve_node, summary_lines
from cluster.control import ControlError
from cluster.scheduler.model import Unplaced, UnplacedReason
from cluster.scheduler.report import CameraPhase, CameraReport, NodeReport, SchedulerReport


def report() -> SchedulerReport:
    nodes = (
        NodeReport(
            "aaaa1111bbbb2222", "10.0.0.1", True, 4.0, 3.2, 0.7, ("c1", "c2", "c3"), is_head=True, measured=0.31
        ),
        NodeReport("aaaa9999cccc0000", "10.0.0.2", True, 4.0, 3.2, 0.2, ("c4",), draining=True),
        NodeReport("dddd0000eeee1111", "10.0.0.3", False, 4.0, 0.0, 0.0, ()),
    )
    cams = (
        CameraReport(
            "c1", CameraPhase.RUNNING, "aaaa1111bbbb2222", 0.23, 0.23, 0, "live", "running", cost_basis="measured"
        ),
        CameraReport("c2", CameraPhase.RUNNING, "aaaa1111bbbb2222", 0.23, 0.23, 1, "reconnecting", "running"),
        CameraReport("c3", CameraPhase.RUNNING, "aaaa1111bbbb2222", 0.23, 0.23, 0, "live", "running"),
        CameraReport("c4", CameraPhase.RUNNING, "aaaa9999cccc0000", 0.2, 0.2, 0, "live", "running"),
        CameraReport("c5", CameraPhase.FAILED, None, 0.2, None, 5, None, "crash loop: 5 failures", 540.0),
        CameraReport("c6", CameraPhase.PENDING, None, 0.3, None, 0, None, "unplaced", cost_basis="prior"),
    )
    unplaced = (
        Unplaced("c6", 0.3, UnplacedReason.NO_CAPACITY, "costs 0.300 cores; the most any node has free is 0.1"),
    )
    return SchedulerReport(nodes, cams, unplaced, ({"CPU": 0.375},), (), 2, 100)


def test_a_unique_prefix_names_a_node():
    assert resolve_node("aaaa1", report()) == "aaaa1111bbbb2222"


def test_an_ambiguous_or_unknown_prefix_is_an_error_listing_the_nodes():
    with pytest.raises(ControlError, match="matches 2 nodes"):
        resolve_node("aaaa", report())
    with pytest.raises(ControlError, match=r"no alive node.*aaaa1111bbbb"):
        resolve_node("dddd", report())  # dead nodes cannot be drained


def test_status_table_shows_each_node_with_its_state_load_and_camera_count():
    console = Console(width=200, record=True)
    console.print(node_table(report()))
    text = console.export_text()
    assert "aaaa1111bbbb" in text and "head" in text and "22%" in text, text
    assert "draining" in text and "dead" in text, text


def test_status_table_shows_reserved_and_measured_cpu_per_node():
    console = Console(width=200, record=True)
    console.print(node_table(report()))
    lines = console.export_text().splitlines()
    header = next(line for line in lines if "reserved" in line)
    assert "measured" in header, f"both figures are columns: {header}"
    head_row = next(line for line in lines if "aaaa1111bbbb" in line)
    assert "0.70" in head_row and "0.31" in head_row, f"reserved 0.70 and measured 0.31 cores: {head_row}"


def test_summary_says_where_the_costs_come_from():
    summary = "\n".join(summary_lines(report()))
    assert "costs: 1 measured, 1 from the prior" in summary, summary


def test_summary_and_problems_name_what_needs_attention():
    summary = "\n".join(summary_lines(report()))
    assert "6 camera(s): 1 pending, 4 running, 1 failed; 3 live" in summary, summary
    assert "room for 1 camera(s)" in summary, summary
    problems = "\n".join(problem_lines(report()))
    assert "unplaced c6: no_capacity" in problems
    assert "failed c5 (5 restarts): crash loop" in problems
    assert "c2 on aaaa1111bbbb: reconnecting" in problems
