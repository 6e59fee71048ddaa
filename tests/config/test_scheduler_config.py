"""The `scheduler:` config section maps onto the scheduler actor's settings."""

from __future__ import annotations

import pytest

from cluster.config import ConfigError, SchedulerConfig, parse_config
from cluster.scheduler import placement
from cluster.scheduler.settings import SchedulerSettings


def test_every_config_field_is_a_scheduler_setting_with_the_same_default():
    settings = {name: f.default for name, f in SchedulerSettings.model_fields.items()}
    for name, value in SchedulerConfig().model_dump().items():
        assert name in settings, f"scheduler.{name} is not a SchedulerSettings field"
        assert settings[name] == value, f"scheduler.{name}: config default {value} != settings {settings[name]}"


def test_the_settings_validate_with_the_config_bounds():
    for name, field in SchedulerConfig.model_fields.items():
        assert SchedulerSettings.model_fields[name].metadata == field.metadata, f"{name}: one set of bounds"


def test_config_values_reach_the_settings():
    config = parse_config({"scheduler": {"max_moves_per_minute": 2, "autoscaling": True}})
    settings = SchedulerSettings(namespace="x", **config.scheduler.model_dump())
    assert (settings.max_moves_per_minute, settings.autoscaling) == (2, True)


def test_bad_scheduler_values_are_named():
    with pytest.raises(ConfigError, match=r"scheduler.headroom"):
        parse_config({"scheduler": {"headroom": 1.5}})
    with pytest.raises(ConfigError, match=r"scheduler: unresponsive_after_s .* below heartbeat_timeout_s"):
        parse_config({"scheduler": {"heartbeat_timeout_s": 5.0}})


def test_placement_defaults_are_the_config_defaults():
    config = SchedulerConfig()
    assert (config.headroom, config.hysteresis) == (placement.DEFAULT_HEADROOM, placement.DEFAULT_HYSTERESIS), (
        "the planner's own defaults agree with the operator's"
    )
