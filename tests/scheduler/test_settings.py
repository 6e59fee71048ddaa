"""The scheduler's settings: the config section's tunables, validated in one place."""

from __future__ import annotations

import pickle

import pytest

from cluster.scheduler.settings import SchedulerSettings


def test_settings_reject_nonsense_with_the_setting_named():
    with pytest.raises(ValueError, match="heartbeat_timeout_s"):
        SchedulerSettings(heartbeat_timeout_s=0)
    with pytest.raises(ValueError, match="headroom"):
        SchedulerSettings(headroom=1.0)
    with pytest.raises(ValueError, match="restart"):
        SchedulerSettings(restart_initial_s=5.0, restart_max_s=1.0)
    with pytest.raises(ValueError, match="unknown scheduler settings: colour"):
        SchedulerSettings().replace(colour="red")


def test_unresponsive_reporting_must_come_before_replacement():
    with pytest.raises(ValueError, match=r"unresponsive_after_s .* must be below heartbeat_timeout_s"):
        SchedulerSettings(unresponsive_after_s=20.0, heartbeat_timeout_s=20.0)
    assert SchedulerSettings().unresponsive_after_s == 6.0, "reported after 6 s by default"


def test_replace_validates_like_a_new_instance():
    with pytest.raises(ValueError, match="max_moves_per_minute"):
        SchedulerSettings().replace(max_moves_per_minute=-1)
    assert SchedulerSettings().replace(max_moves_per_minute=2).max_moves_per_minute == 2


def test_settings_are_frozen_and_survive_pickling_into_the_actor(tmp_path):
    settings = SchedulerSettings(namespace="n", state_dir=tmp_path, tick_s=0.5)
    assert pickle.loads(pickle.dumps(settings)) == settings, "Ray pickles them into the scheduler actor"
    with pytest.raises(ValueError, match="frozen"):
        settings.tick_s = 2.0  # type: ignore[misc]
