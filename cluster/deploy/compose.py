"""The config file a pod runs with: the chart's config (a ConfigMap) plus the API
token hashes (a Kubernetes Secret), checked with the app's own models.

`server.tokens` must not be literal values in a ConfigMap or in `values.yaml`, and
the config file has one place for them, so an init container writes the config the
pod's process reads:

    python -m cluster.deploy.compose --config /etc/matthan/config/config.yaml \
        --tokens /etc/matthan/tokens/tokens.yaml --out /run/matthan/config.yaml

The tokens file is the YAML list that `matthan token new` prints (one entry per
token: name, sha256, role, scope). The output is JSON (which is YAML, so
`load_config` reads it), written atomically; it is checked with `parse_config`
first, so a bad config or token ends the init container with an error naming the
key, and the pod never starts on it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from ..config import ConfigError, MatthanConfig, parse_config
from ..support.atomic import write_json_atomically


def compose(config: Any, tokens: Any, *, origin: str = "config") -> dict[str, Any]:
    """`config` with `server.tokens` set to `tokens`; raises ConfigError naming the problem."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError(f"{origin}: top level must be a mapping, got {type(config).__name__}")
    composed = dict(config)
    if tokens is not None:
        if not isinstance(tokens, list):
            raise ConfigError(f"tokens: must be a list of token entries, got {type(tokens).__name__}")
        server = composed.get("server")
        if not isinstance(server, dict):
            raise ConfigError(f"{origin}: tokens were given but the config has no `server:` section to hold them")
        if server.get("tokens"):
            raise ConfigError(f"{origin}: server.tokens is set in the config; tokens come from the Secret only")
        composed["server"] = {**server, "tokens": tokens}
    parse_config(composed, origin=origin)  # raises ConfigError naming the key
    return composed


def compose_files(config_path: Path, tokens_path: Path | None, out_path: Path) -> MatthanConfig:
    """Read, compose, check and write; returns the checked config."""
    config = _read_yaml(config_path)
    tokens = _read_yaml(tokens_path) if tokens_path is not None else None
    composed = compose(config, tokens, origin=str(config_path))
    write_json_atomically(out_path, composed)
    return parse_config(composed, origin=str(out_path))


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cluster.deploy.compose",
        description="Write the config a pod runs with: the chart's config plus the token hashes of a Secret.",
    )
    parser.add_argument("--config", type=Path, required=True, help="the config without tokens (the ConfigMap's)")
    parser.add_argument("--tokens", type=Path, help="YAML list of server.tokens entries (the Secret's)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the composed config")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = compose_files(args.config, args.tokens, args.out)
    except ConfigError as exc:
        print(f"matthan: config error: {exc}", file=sys.stderr)
        return 2
    tokens = len(config.server.tokens) if config.server is not None else 0
    print(f"wrote {args.out}: {len(config.cameras)} camera(s), {tokens} token(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
