"""Errors cross the scheduler actor boundary as values and come back as the same exceptions."""

from __future__ import annotations

import pickle

import pytest

from cluster.control import (
    CameraExists,
    CameraNotFound,
    CameraUnavailable,
    ControlError,
    NodeNotFound,
    PlacementRejected,
    SchedulerUnavailable,
)
from cluster.scheduler.replies import capture, unwrap


def _raise(error: Exception):
    raise error


@pytest.mark.parametrize(
    "error",
    [
        CameraNotFound("cam1"),
        CameraExists("cam1"),
        NodeNotFound("n1", "alive nodes: a, b"),
        PlacementRejected("cannot drain node n1: it is the last node"),
        ControlError("could not persist"),
        CameraUnavailable("camera 'cam1' is pending: waiting for a node"),
        SchedulerUnavailable("the scheduler did not answer"),
    ],
)
def test_a_control_error_survives_the_trip_with_its_type_and_message(error):
    returned = capture(lambda: _raise(error))  # what the actor method returns
    carried = pickle.loads(pickle.dumps(returned))  # what Ray hands the client
    with pytest.raises(ControlError) as raised:
        unwrap(carried)  # what the client raises
    rebuilt = raised.value
    assert type(rebuilt) is type(error) and str(rebuilt) == str(error), (rebuilt, error)


def test_a_value_crosses_as_itself():
    assert unwrap(pickle.loads(pickle.dumps(capture(lambda: ["a", "b"])))) == ["a", "b"], "not an error: passed on"


def test_other_exceptions_are_not_turned_into_answers():
    with pytest.raises(RuntimeError, match="a bug"):
        capture(lambda: _raise(RuntimeError("a bug")))
