"""`matthan reprocess` and `matthan jobs ...` against a real front door and job manager."""

from __future__ import annotations

import json

import pytest

from cluster.cli.main import main
from tests.batch.jobs_gateway import JobsGateway, jobs_gateway
from tests.gateway.conftest import TOKENS

pytestmark = pytest.mark.slow

__all__ = ["jobs_gateway"]  # the fixture


def cli(gateway: JobsGateway, *args: str) -> int:
    return main([*args, "--address", gateway.target, "--token", TOKENS["operator"][0]])


def test_reprocess_json_prints_progress_then_a_summary_of_events_and_damage(jobs_gateway: JobsGateway, capsys) -> None:
    code = cli(jobs_gateway, "reprocess", str(jobs_gateway.footage), "--camera", "road", "--json")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]

    assert code == 0, f"a finished job exits 0: {lines[-1:]}"
    progress = [line["progress"] for line in lines if "progress" in line]
    (summary,) = [line["summary"] for line in lines if "summary" in line]
    assert progress and progress[0]["frames_total"] == summary["frames_total"], "progress in frames of the total"
    assert summary["state"] == "succeeded" and summary["events"] > 0, f"the summary: {summary}"
    assert {c["type"] for c in summary["event_counts"]} >= {"line_crossing"}, "events by type, class and rule"
    assert summary["damaged"] == [], "nothing damaged in this footage"
    assert summary["files"][0]["time_source"] == "filename", "dated from cam01_20261128T220000.mp4"


def test_reprocess_detach_returns_the_job_id_that_jobs_show_and_cancel_take(jobs_gateway: JobsGateway, capsys) -> None:
    assert cli(jobs_gateway, "reprocess", str(jobs_gateway.footage), "--camera", "road", "--detach") == 0
    job_id = capsys.readouterr().out.strip()
    assert job_id.startswith("job-"), f"--detach prints the job id: {job_id!r}"

    assert cli(jobs_gateway, "jobs", "cancel", job_id) == 0
    assert capsys.readouterr().out.strip() in (f"{job_id}: cancelled", f"{job_id}: cancelling"), "cancelled"
    assert cli(jobs_gateway, "jobs", "show", job_id, "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["job_id"] == job_id and shown["submitted_by"] == "operator", shown
    assert cli(jobs_gateway, "jobs", "list", "--json") == 0
    listed = [json.loads(line)["job_id"] for line in capsys.readouterr().out.splitlines()]
    assert job_id in listed, "jobs list shows it"


def test_reprocess_names_a_file_outside_the_allowed_directories(jobs_gateway: JobsGateway, tmp_path, capsys) -> None:
    outside = tmp_path / "x.mp4"
    outside.write_bytes(b"x")
    code = cli(jobs_gateway, "reprocess", str(outside), "--camera", "road")

    assert code == 1, "a refused request exits 1"
    assert f"INVALID_ARGUMENT: files: {outside}: outside the directories" in capsys.readouterr().err
