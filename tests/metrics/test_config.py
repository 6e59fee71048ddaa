"""MetricsConfig (cluster/config/metrics.py): defaults, bounds, descriptions."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cluster.config.metrics import MetricsConfig


def test_defaults_serve_on_loopback():
    config = MetricsConfig()
    assert (config.enabled, config.host, config.port) == (True, "127.0.0.1", 9480)
    assert config.refresh_interval_s == 5.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", 70000),
        ("port", -1),
        ("refresh_interval_s", 0.1),
        ("refresh_interval_s", 1000),
        ("refresh_timeout_s", 0),
        ("stale_after_s", 0.5),
        ("host", ""),
    ],
)
def test_out_of_bounds_values_are_refused(field, value):
    with pytest.raises(ValidationError, match=field):
        MetricsConfig.model_validate({field: value})


def test_stale_after_must_cover_the_refresh_interval():
    with pytest.raises(ValidationError, match="stale_after_s"):
        MetricsConfig(refresh_interval_s=60, stale_after_s=30)


def test_unknown_keys_are_refused():
    with pytest.raises(ValidationError, match="extra"):
        MetricsConfig.model_validate({"prot": 9000})


def test_every_field_is_described():
    missing = [name for name, field in MetricsConfig.model_fields.items() if not field.description]
    assert missing == []
