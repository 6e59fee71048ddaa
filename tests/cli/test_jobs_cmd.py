"""How `matthan reprocess` and `matthan jobs watch` show a job that waits for batch room
(`cluster/cli/jobs_cmd.follow`), from the views the Jobs service streams."""

from __future__ import annotations

import dataclasses
import io
import json

from rich.console import Console

from cluster.batch.job import JobState
from cluster.batch.progress import JobView
from cluster.cli.jobs_cmd import follow

WHY = "waiting for room: a segment needs 1.00 cores and the most any node has free is 0.40"

RUNNING = JobView(
    job_id="j1",
    camera_id="road",
    state=JobState.RUNNING,
    submitted_by="alice",
    submitted_at=1.0e9,
    started_at=1.0e9,
    finished_at=None,
    files=(),
    segments_total=2,
    segments_done=0,
    segments_running=0,
    frames_total=100,
    frames_done=0,
    frames_analysed=0,
    footage_total_s=8.0,
    footage_done_s=0.0,
    speed=0.0,
    eta_s=None,
    damaged=(),
    event_counts=(),
    error=None,
)
WAITING = dataclasses.replace(RUNNING, waiting=WHY)
CANCELLED = dataclasses.replace(RUNNING, state=JobState.CANCELLED, finished_at=1.0e9 + 5)


def test_the_progress_shows_why_a_job_waits_once_while_it_waits() -> None:
    out = io.StringIO()
    follow([RUNNING, WAITING, WAITING, WAITING, CANCELLED], as_json=False, console=Console(file=out, width=200))
    assert out.getvalue().count(WHY) == 1, f"the reason is printed once, when it starts: {out.getvalue()}"


def test_json_progress_carries_the_waiting_reason(capsys) -> None:
    follow([WAITING, CANCELLED], as_json=True)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["progress"]["waiting"] == WHY, lines[0]
    assert lines[1]["progress"]["waiting"] == "", "a cancelled job no longer waits"
