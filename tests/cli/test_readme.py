"""What the README shows is true: its cameras.yaml example is a valid config, and every
`matthan ...` command line it shows parses (options and all)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from cluster.cli.main import build_parser
from cluster.config import MatthanConfig

README = Path(__file__).resolve().parents[2] / "README.md"
DOCS_EVENTS = README.parent / "docs" / "events.md"


def code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def command_lines(path: Path) -> list[str]:
    found = []
    for block in code_blocks(path, "sh"):
        for raw in block.replace("\\\n", " ").splitlines():
            line = raw.strip()
            if re.match(r"^(\.venv/bin/)?matthan ", line):
                found.append(line)
    return found


def test_the_camera_example_is_a_valid_config(tmp_path) -> None:
    (example,) = [b for b in code_blocks(README, "yaml") if b.startswith("cameras:")]
    config = MatthanConfig.model_validate(yaml.safe_load(example))
    camera = config.cameras[0]
    assert camera.rules.zones and camera.rules.lines, "a zone and a line"
    assert camera.privacy.masks, "a privacy mask"


@pytest.mark.parametrize("line", command_lines(README) + command_lines(DOCS_EVENTS))
def test_every_command_shown_parses(line: str, capsys) -> None:
    argv = shlex.split(line, comments=True)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{line!r} does not parse ({exc.code}): {capsys.readouterr().err}")


def test_the_readme_shows_every_events_command() -> None:
    words = [shlex.split(line, comments=True) for line in command_lines(README)]
    shown = {w[2] for w in words if w[1] == "events"}
    assert shown == {"tail", "search", "show", "count"}, shown
