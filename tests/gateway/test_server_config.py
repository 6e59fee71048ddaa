"""ServerConfig refuses unsafe setups with messages that say what to change."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cluster.config.server import Role, ServerConfig, is_loopback

TOKEN = {"name": "duty-room", "sha256": "a" * 64, "role": "operator"}


def error(**data) -> str:
    with pytest.raises(ValidationError) as err:
        ServerConfig.model_validate(data)
    return str(err.value)


def test_no_tokens_refuses_to_start_unless_explicitly_allowed_on_loopback() -> None:
    assert "no tokens configured" in error()
    assert ServerConfig(allow_unauthenticated=True).allow_unauthenticated
    assert "only allowed on a loopback host" in error(host="0.0.0.0", allow_unauthenticated=True, allow_plaintext=True)


def test_binding_beyond_loopback_needs_tls_or_an_explicit_plaintext_opt_in() -> None:
    assert "without TLS" in error(host="0.0.0.0", tokens=[TOKEN])
    assert ServerConfig(host="0.0.0.0", tokens=[TOKEN], allow_plaintext=True).host == "0.0.0.0"
    tls = {"cert_file": "/etc/matthan/server.pem", "key_file": "/etc/matthan/server.key"}
    assert ServerConfig(host="0.0.0.0", tokens=[TOKEN], tls=tls).tls is not None


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ({**TOKEN, "sha256": "not-a-hash"}, "sha256"),
        ({**TOKEN, "role": "root"}, "role"),
        ({**TOKEN, "role": "viewer"}, "needs cameras, groups or all_cameras"),
        ({**TOKEN, "cameras": ["cam-a"]}, "applies to viewers only"),
        ({**TOKEN, "role": "viewer", "groups": ["w"], "all_cameras": True}, "cannot be combined"),
        ({**TOKEN, "token": "plain"}, "Extra inputs are not permitted"),
    ],
)
def test_token_entries_are_validated(token, message) -> None:
    assert message in error(tokens=[token])


def test_duplicate_token_names_and_hashes_are_refused() -> None:
    assert "duplicate token names: duty-room" in error(tokens=[TOKEN, TOKEN])
    assert "same sha256" in error(tokens=[TOKEN, {**TOKEN, "name": "other"}])


def test_roles_are_ordered_and_case_insensitive() -> None:
    config = ServerConfig(tokens=[{**TOKEN, "role": "ADMIN", "sha256": "B" * 64}])
    assert config.tokens[0].role is Role.ADMIN and config.tokens[0].sha256 == "b" * 64
    assert Role.ADMIN.at_least(Role.OPERATOR) and Role.OPERATOR.at_least(Role.VIEWER)
    assert not Role.VIEWER.at_least(Role.OPERATOR)


def test_loopback_detection() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.5", "::", "example.org"))


def test_yaml_shaped_config_dumps_and_loads_back() -> None:
    config = ServerConfig(tokens=[TOKEN], keepalive={"time_s": 15})
    assert ServerConfig.model_validate(config.model_dump(mode="json")) == config
