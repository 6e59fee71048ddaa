"""`server.web`: every field bounded and described; off beyond loopback unless TLS or allow_plaintext."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cluster.config import parse_config
from cluster.config.root import ConfigError
from cluster.config.server import ServerConfig, WebConfig
from cluster.demo import DEMO_CLIPS, demo_config
from cluster.gateway.auth import hash_token

TOKENS = [{"name": "desk", "sha256": hash_token("t"), "role": "viewer", "all_cameras": True}]


def server(**web: object) -> dict:
    return {"tokens": TOKENS, "web": web}


def test_the_console_is_off_unless_configured() -> None:
    assert ServerConfig(tokens=TOKENS).web is None, "existing configs must not open a new port by surprise"


def test_defaults_are_loopback_and_a_low_tile_rate() -> None:
    web = WebConfig()
    assert (web.host, web.port) == ("127.0.0.1", 8480), "loopback by default"
    assert 1.0 <= web.tile_fps <= 2.0, "a wall tile is live JPEG at 1-2 fps"
    assert web.large_fps > web.tile_fps, "the one-camera view is faster than a tile"


def test_a_non_loopback_console_needs_tls_or_allow_plaintext() -> None:
    with pytest.raises(ConfigError, match="without TLS would send tokens and session cookies in clear text"):
        parse_config({"server": server(host="0.0.0.0")})
    config = parse_config({"server": server(host="0.0.0.0", allow_plaintext=True)})
    assert config.server.web.allow_plaintext, "an explicit allow_plaintext (a TLS proxy in front) is accepted"


def test_the_no_token_mode_keeps_the_console_on_loopback() -> None:
    with pytest.raises(ConfigError, match=r"allow_unauthenticated is only allowed on a loopback host, not web\.host"):
        parse_config({"server": {"allow_unauthenticated": True, "web": {"host": "10.0.0.5", "allow_plaintext": True}}})


def test_the_console_cannot_share_the_grpc_port() -> None:
    with pytest.raises(ConfigError, match=r"web\.port 50051 is the gRPC port"):
        parse_config({"server": server(port=50051)})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", 70000),
        ("tile_fps", 0),
        ("tile_fps", 50),
        ("socket_window", 0),
        ("session_idle_s", 1),
        ("max_request_bytes", 10),
        ("login_failures_allowed", 0),
        ("colour", "red"),
    ],
)
def test_out_of_bounds_and_unknown_fields_are_refused_by_name(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"server\.web\.{field}"):
        parse_config({"server": server(**{field: value})})


def test_a_max_age_shorter_than_the_idle_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="session_max_age_s must not be shorter"):
        ServerConfig(tokens=TOKENS, web={"session_idle_s": 7200, "session_max_age_s": 3600})


def test_the_demo_runs_the_console_on_loopback_with_vietnamese_camera_names(tmp_path) -> None:
    config = demo_config(tmp_path, DEMO_CLIPS[:1])
    assert config.server.web is not None and config.server.web.host == "127.0.0.1", "on in the demo, loopback"
    assert config.cameras[0].name == "Hẻm 12 Lê Lợi", f"camera names are Vietnamese: {config.cameras[0].name!r}"
