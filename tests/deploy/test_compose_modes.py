"""The composed config holds the API token hashes: only its owner may read it (issue 15)."""

from __future__ import annotations

from pathlib import Path

import yaml

from cluster.deploy.compose import compose_files
from tests.fixtures.file_modes import mode

SERVER = {"host": "0.0.0.0", "port": 50051, "allow_plaintext": True}
TOKENS = [{"name": "duty-room-1", "sha256": "a" * 64, "role": "viewer", "groups": ["ward-3"]}]


def test_the_composed_config_and_its_new_directory_are_owner_only(tmp_path: Path, open_umask: int) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"server": SERVER, "cameras": []}), encoding="utf-8")
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(yaml.safe_dump(TOKENS), encoding="utf-8")
    out = tmp_path / "run" / "config.yaml"
    compose_files(config, tokens, out)
    assert mode(out) == 0o600, f"token hashes: {oct(mode(out))}"
    assert mode(out.parent) == 0o700, "the directory compose created"
