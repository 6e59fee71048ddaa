"""How `matthan reprocess` and `matthan jobs watch` show a job that waits for batch room
(`cluster/cli/jobs_cmd.follow`), from the views the Jobs service streams."""

from __future__ import annotations

import io
import json

from rich.console import Console

from cluster.batch.job import JobState
from cluster.cli.jobs_cmd import follow
from tests.batch.views import SUBMITTED_AT, job_view

WHY = "waiting for room: a segment needs 1.00 cores and the most any node has free is 0.40"

RUNNING = job_view()
WAITING = job_view(waiting=WHY)
CANCELLED = job_view(state=JobState.CANCELLED, finished_at=SUBMITTED_AT + 5)


def test_the_progress_shows_why_a_job_waits_once_while_it_waits() -> None:
    out = io.StringIO()
    follow([RUNNING, WAITING, WAITING, WAITING, CANCELLED], as_json=False, console=Console(file=out, width=200))
    assert out.getvalue().count(WHY) == 1, f"the reason is printed once, when it starts: {out.getvalue()}"


def test_json_progress_carries_the_waiting_reason(capsys) -> None:
    follow([WAITING, CANCELLED], as_json=True)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["progress"]["waiting"] == WHY, lines[0]
    assert lines[1]["progress"]["waiting"] == "", "a cancelled job no longer waits"
