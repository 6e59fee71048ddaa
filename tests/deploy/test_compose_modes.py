"""The composed config holds the API token hashes: only its owner may read it (issue 15)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from cluster.deploy.compose import compose_files

SERVER = {"host": "0.0.0.0", "port": 50051, "allow_plaintext": True}
TOKENS = [{"name": "duty-room-1", "sha256": "a" * 64, "role": "viewer", "groups": ["ward-3"]}]


def test_the_composed_config_and_its_new_directory_are_owner_only(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"server": SERVER, "cameras": []}), encoding="utf-8")
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(yaml.safe_dump(TOKENS), encoding="utf-8")
    out = tmp_path / "run" / "config.yaml"
    previous = os.umask(0)  # every file would be world-readable by default
    try:
        compose_files(config, tokens, out)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, f"token hashes: {oct(stat.S_IMODE(out.stat().st_mode))}"
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700, "the directory compose created"
