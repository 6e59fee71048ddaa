"""Errors cross the scheduler actor boundary as values and come back as the same exceptions."""

from __future__ import annotations

import pickle

import pytest

from cluster.control import CameraExists, CameraNotFound, ControlError, NodeNotFound, PlacementRejected
from cluster.scheduler.actor import RemoteError
from cluster.scheduler.settings import SchedulerSettings


@pytest.mark.parametrize("error", [
    CameraNotFound("cam1"),
    CameraExists("cam1"),
    NodeNotFound("n1", "alive nodes: a, b"),
    PlacementRejected("cannot drain node n1: it is the last node"),
    ControlError("could not persist"),
])
def test_a_control_error_survives_the_trip_with_its_type_and_message(error):
    carried = pickle.loads(pickle.dumps(RemoteError.of(error)))
    rebuilt = carried.to_exception()
    assert type(rebuilt) is type(error) and str(rebuilt) == str(error), (rebuilt, error)


def test_settings_reject_nonsense_with_the_setting_named():
    with pytest.raises(ValueError, match="heartbeat_timeout_s"):
        SchedulerSettings(heartbeat_timeout_s=0)
    with pytest.raises(ValueError, match="headroom"):
        SchedulerSettings(headroom=1.0)
    with pytest.raises(ValueError, match="restart"):
        SchedulerSettings(restart_initial_s=5.0, restart_max_s=1.0)
    with pytest.raises(ValueError, match="unknown scheduler settings: colour"):
        SchedulerSettings().replace(colour="red")
