"""The `scheduler:` config section maps onto the scheduler actor's settings."""

from __future__ import annotations

import dataclasses

import pytest

from cluster.config import ConfigError, SchedulerConfig, parse_config
from cluster.scheduler.settings import SchedulerSettings


def test_every_config_field_is_a_scheduler_setting_with_the_same_default():
    settings = {f.name: f.default for f in dataclasses.fields(SchedulerSettings)}
    for name, value in SchedulerConfig().model_dump().items():
        assert name in settings, f"scheduler.{name} is not a SchedulerSettings field"
        assert settings[name] == value, f"scheduler.{name}: config default {value} != settings {settings[name]}"


def test_config_values_reach_the_settings():
    config = parse_config({"scheduler": {"max_moves_per_minute": 2, "autoscaling": True}})
    settings = SchedulerSettings(namespace="x", **config.scheduler.model_dump())
    assert (settings.max_moves_per_minute, settings.autoscaling) == (2, True)


def test_bad_scheduler_values_are_named():
    with pytest.raises(ConfigError, match="scheduler.headroom"):
        parse_config({"scheduler": {"headroom": 1.5}})
