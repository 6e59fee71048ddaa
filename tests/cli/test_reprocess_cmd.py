"""`matthan reprocess` and `matthan jobs ...` against a real front door and job manager."""

from __future__ import annotations

import datetime
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


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat()


def test_reprocess_a_recorded_range_by_camera_and_times(jobs_gateway: JobsGateway, capsys) -> None:
    start, end = jobs_gateway.recorded_from + 2.0, jobs_gateway.recorded_to + 5.0
    code = cli(jobs_gateway, "reprocess", "--camera", "road", "--from", _iso(start), "--to", _iso(end), "--json")
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]

    assert code == 0, f"a finished job exits 0: {lines[-1:]} {captured.err}"
    (summary,) = [line["summary"] for line in lines if "summary" in line]
    assert summary["state"] == "succeeded" and summary["events"] > 0, f"the summary: {summary}"
    assert summary["recorded"] == {"from": pytest.approx(start), "to": pytest.approx(end)}, summary["recorded"]
    assert [n["reason"] for n in summary["not_recorded"]] == ["not recorded"], "the end past the recording"
    assert summary["damaged"] == [], "not recorded is not damage"
    assert {f["time_source"] for f in summary["files"]} == {"recording"}, "no file named, none dated by hand"
    assert "not recorded:" in captured.err, f"the stretch nothing recorded is shown at submission: {captured.err}"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("/srv/a.mp4", "--from", "2026-11-20T21:40:00", "--to", "2026-11-20T21:41:00"), "not both"),
        (("--from", "2026-11-20T21:41:00", "--to", "2026-11-20T21:40:00"), "--to must be after --from"),
        (("--from", "2026-11-20T21:41:00"), "needs both --from and --to"),
        (("--from", "2026-11-20T21:40", "--to", "2026-11-20T21:41", "--start", "2026-11-20T21:40"), "--start"),
        ((), "name the files to reprocess, or the camera's recorded range"),
    ],
)
def test_reprocess_refuses_unclear_footage_before_calling(extra: tuple[str, ...], message: str, capsys) -> None:
    code = main(["reprocess", "--camera", "road", *extra, "--address", "127.0.0.1:1"])
    assert code == 2 and message in capsys.readouterr().err, f"a usage error naming {message!r}"


def test_reprocess_a_range_nothing_recorded_says_so(jobs_gateway: JobsGateway, capsys) -> None:
    later = jobs_gateway.recorded_to + 600.0
    code = cli(jobs_gateway, "reprocess", "--camera", "road", "--from", _iso(later), "--to", _iso(later + 60))

    assert code == 1, "a refused request exits 1"
    assert "FAILED_PRECONDITION: camera 'road' recorded nothing from" in capsys.readouterr().err
