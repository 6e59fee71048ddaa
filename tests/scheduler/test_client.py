"""`SchedulerClient` on local Ray against an actor that stands in for a wedged or dead
scheduler: every call ends within its deadline with `SchedulerUnavailable`, and an
error the scheduler answers with is raised as exactly that error."""

from __future__ import annotations

import contextlib
import threading

import pytest
import ray
from ray.exceptions import RayActorError

from cluster.control import CameraNotFound, NodeNotFound, SchedulerUnavailable
from cluster.scheduler.client import SchedulerClient
from cluster.scheduler.replies import capture

from .fakes import camera
from .ray_helpers import run

NO_SCHEDULER_HERE = "client-test-no-scheduler"  # nothing to reconnect to in this namespace
WEDGED_FOR_S = 60.0


def refuse(error: Exception):
    raise error


@ray.remote(max_concurrency=8, num_cpus=0)
class StandIn:
    """Answers like the scheduler actor, or not at all while `wedged`."""

    def __init__(self, wedged: bool):
        self._released = threading.Event()
        if not wedged:
            self._released.set()

    def _wait(self) -> None:
        self._released.wait(WEDGED_FOR_S)

    def list_cameras(self):
        self._wait()
        return []

    def get_camera(self, camera_id: str):
        self._wait()
        return capture(lambda: refuse(CameraNotFound(camera_id)))

    def drain_node(self, node_id: str):
        self._wait()
        return capture(lambda: refuse(NodeNotFound(node_id, "alive nodes: a, b")))

    def add_camera(self, config):
        self._wait()

    def release(self) -> None:
        self._released.set()


@pytest.fixture
def stand_in(ray_local):
    actors = []

    def make(wedged: bool):
        actor = StandIn.options(namespace=NO_SCHEDULER_HERE).remote(wedged)
        actors.append(actor)
        return actor

    yield make
    for actor in actors:
        with contextlib.suppress(RayActorError):  # killed by the test
            ray.get(actor.release.remote(), timeout=30)  # frees its threads before it goes
        ray.kill(actor)


def test_a_read_of_a_wedged_scheduler_ends_with_scheduler_unavailable(stand_in):
    client = SchedulerClient(stand_in(wedged=True), NO_SCHEDULER_HERE, read_attempt_s=0.5, read_deadline_s=2.0)
    with pytest.raises(SchedulerUnavailable, match="did not answer list_cameras within 2 s"):
        run(client.list_cameras())


def test_an_admin_call_to_a_wedged_scheduler_ends_with_scheduler_unavailable(stand_in):
    client = SchedulerClient(stand_in(wedged=True), NO_SCHEDULER_HERE, admin_deadline_s=1.0)
    with pytest.raises(SchedulerUnavailable, match=r"did not answer add_camera within 1 s.*may still take effect"):
        run(client.add_camera(camera("cam1")))


def test_reads_of_a_dead_scheduler_end_with_scheduler_unavailable(stand_in):
    actor = stand_in(wedged=False)
    ray.kill(actor)
    client = SchedulerClient(actor, NO_SCHEDULER_HERE, read_attempt_s=0.5, read_deadline_s=2.0)
    with pytest.raises(SchedulerUnavailable, match="did not answer list_cameras within 2 s"):
        run(client.list_cameras())


def test_errors_the_scheduler_answers_with_are_raised_as_themselves(stand_in):
    client = SchedulerClient(stand_in(wedged=False), NO_SCHEDULER_HERE)
    with pytest.raises(CameraNotFound) as not_found:
        run(client.get_camera("nope"))
    assert type(not_found.value) is CameraNotFound and not_found.value.camera_id == "nope", not_found.value
    with pytest.raises(NodeNotFound, match="'n9' not found: alive nodes: a, b") as no_node:
        run(client.drain_node("n9"))
    assert type(no_node.value) is NodeNotFound and no_node.value.node_id == "n9"


def test_deadlines_must_be_positive():
    with pytest.raises(ValueError, match="read_deadline_s must be a positive number"):
        SchedulerClient(object(), "x", read_deadline_s=0)
