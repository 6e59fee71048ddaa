"""docs/configuration.md is generated from the models and must not go stale."""

from __future__ import annotations

from cluster.config.reference import render
from tests.conftest import REPO_ROOT


def test_configuration_reference_is_up_to_date():
    committed = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/configuration.md is stale: run python -m cluster.config.reference"


def test_every_field_has_a_description():
    missing = [line for line in render().splitlines() if line.startswith("| `") and line.rstrip().endswith("|  |")]
    assert not missing, f"fields without a description: {missing}"
