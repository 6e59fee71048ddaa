"""The config a pod runs with: the chart's config plus the token Secret's entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cluster.config import ConfigError, load_config
from cluster.deploy.compose import compose, compose_files, main

SHA = "a" * 64
SERVER = {"host": "0.0.0.0", "port": 50051, "allow_plaintext": True}
TOKENS = [{"name": "duty-room-1", "sha256": SHA, "role": "viewer", "groups": ["ward-3"]}]


def write(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_tokens_from_the_secret_land_in_server_tokens(tmp_path):
    config = write(tmp_path / "config.yaml", {"server": SERVER, "cameras": []})
    tokens = write(tmp_path / "tokens.yaml", TOKENS)
    out = tmp_path / "run" / "config.yaml"
    assert main(["--config", str(config), "--tokens", str(tokens), "--out", str(out)]) == 0, "compose succeeds"
    loaded = load_config(out)
    assert [t.name for t in loaded.server.tokens] == ["duty-room-1"], "the app reads the composed tokens"
    assert json.loads(out.read_text())["server"]["host"] == "0.0.0.0", "the rest of the config is kept"


def test_tokens_in_the_config_itself_are_refused():
    with pytest.raises(ConfigError, match="tokens come from the Secret only"):
        compose({"server": {**SERVER, "tokens": TOKENS}}, TOKENS)


def test_tokens_without_a_server_section_are_refused():
    with pytest.raises(ConfigError, match="no `server:` section"):
        compose({"cameras": []}, TOKENS)


def test_a_bad_token_entry_is_named(tmp_path, capsys):
    config = write(tmp_path / "config.yaml", {"server": SERVER})
    tokens = write(tmp_path / "tokens.yaml", [{"name": "x", "sha256": "not-hex", "role": "operator"}])
    code = main(["--config", str(config), "--tokens", str(tokens), "--out", str(tmp_path / "out.yaml")])
    assert code == 2, "a bad token fails the init container"
    assert "server.tokens.0.sha256" in capsys.readouterr().err, "the error names the key"
    assert not (tmp_path / "out.yaml").exists(), "nothing is written for a bad config"


def test_a_missing_tokens_file_is_named(tmp_path):
    config = write(tmp_path / "config.yaml", {"server": SERVER})
    with pytest.raises(ConfigError, match=r"tokens\.yaml: file not found"):
        compose_files(config, tmp_path / "tokens.yaml", tmp_path / "out.yaml")
