"""The README's configuration examples are true: each `cameras.yaml` block validates."""

from __future__ import annotations

import re

import pytest
import yaml

from cluster.config import MatthanConfig
from tests.conftest import REPO_ROOT

BLOCKS = [
    block
    for block in re.findall(r"```yaml\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.S)
    if isinstance(yaml.safe_load(block), dict) and "cameras" in yaml.safe_load(block)
]


def test_the_readme_has_a_camera_example() -> None:
    assert BLOCKS, "README.md shows no cameras.yaml example"


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block-{i}" for i in range(len(BLOCKS))])
def test_each_camera_example_validates(block: str) -> None:
    MatthanConfig.model_validate(yaml.safe_load(block))
