"""`CameraActorHandle` over real camera actors on local Ray: every call ends within its
deadline with the actor's answer or a typed outcome (frozen: CameraUnresponsive,
dead: CameraUnavailable), never a hang or a Ray error."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from ray.exceptions import GetTimeoutError, RayActorError

from cluster.actors.camera_actor import CameraActor
from cluster.actors.handle import CameraActorHandle
from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
from cluster.domain import CameraUnavailable, CameraUnresponsive, EventType
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def actor(ray_local, tmp_path):
    """A camera whose file is missing: it fails at once but answers every call."""
    config = CameraConfig(
        id="handle-test", source=SourceConfig(url=str(tmp_path / "missing.mp4")), analysis=AnalysisConfig(fps=5.0)
    )
    actor = CameraActor.options(num_cpus=0.1).remote(config)
    # Up before the test's short deadlines start (a worker process starts slowly on a busy machine).
    assert ray_local.get(actor.ping.remote(), timeout=120) == "handle-test"
    yield actor
    ray_local.kill(actor, no_restart=True)


def test_calls_return_the_actors_answers(actor) -> None:
    handle = CameraActorHandle("handle-test", actor)

    async def calls():
        return (
            await handle.status(),
            await handle.pull_detections(0, 10, 0.0),
            await handle.latest_jpeg(0, 0.1),
            await handle.pull_events(0, 10, 0.0),
        )

    status, pull, jpeg, events = asyncio.run(calls())
    assert status.camera_id == "handle-test", f"status of the right camera: {status}"
    assert pull.camera_id == "handle-test" and pull.batches == (), f"nothing published: {pull}"
    assert jpeg is None, "no frame from a missing file"
    assert events.camera_id == "handle-test" and events.epoch, f"the event ring answers: {events}"


def test_a_frozen_actor_makes_every_call_end_with_camera_unresponsive(actor) -> None:
    handle = CameraActorHandle("handle-test", actor, slack_s=0.5)
    pid = asyncio.run(handle.status()).pid
    os.kill(pid, signal.SIGSTOP)
    try:
        for name, call, deadline in (
            ("status", handle.status, 0.5),
            ("pull_detections", lambda: handle.pull_detections(0, 10, 1.0), 1.5),
            ("latest_jpeg", lambda: handle.latest_jpeg(0, 1.0), 1.5),
            ("pull_events", lambda: handle.pull_events(0, 10, 1.0), 1.5),
        ):
            with pytest.raises(CameraUnresponsive) as err:
                asyncio.run(asyncio.wait_for(call(), 30))  # the outer bound only catches a hang
            assert (err.value.camera_id, err.value.method, err.value.deadline_s) == ("handle-test", name, deadline), (
                f"{name}: {err.value}"
            )
    finally:
        os.kill(pid, signal.SIGCONT)
    assert asyncio.run(handle.status()).pid == pid, "the same actor answers again once continued"


def test_a_dead_actor_is_camera_unavailable_not_unresponsive(ray_local, actor) -> None:
    handle = CameraActorHandle("handle-test", actor, slack_s=60.0)  # a timeout would take a minute
    asyncio.run(handle.status())
    ray_local.kill(actor, no_restart=True)
    wait_until(lambda: _is_dead(ray_local, actor), 30, "the killed actor is dead")  # the kill is asynchronous
    with pytest.raises(CameraUnavailable) as err:
        asyncio.run(asyncio.wait_for(handle.status(), 30))
    assert type(err.value) is CameraUnavailable, f"death is not a timeout: {err.value!r}"
    assert "handle-test" in str(err.value), f"the error names the camera: {err.value}"


def _is_dead(ray_local, actor) -> bool:
    try:
        ray_local.get(actor.ping.remote(), timeout=5)
    except RayActorError:
        return True
    except GetTimeoutError:
        return False
    return False


def test_the_slack_must_be_positive(actor) -> None:
    with pytest.raises(ValueError, match="slack_s"):
        CameraActorHandle("handle-test", actor, slack_s=0.0)


def test_event_revisions_cross_ray_with_their_thumbnails(ray_local, media) -> None:
    """A live camera's events pulled through the handle, as the store's writer will."""
    config = CameraConfig.model_validate(
        {
            "id": "handle-events",
            "source": {"url": str(media / "car-detection.mp4"), "loop": True},
            "rules": {"lines": [{"name": "middle", "start": (0.0, 0.5), "end": (1.0, 0.5)}]},
        }
    )
    actor = CameraActor.options(num_cpus=0.1).remote(config)
    try:
        handle = CameraActorHandle("handle-events", actor)

        async def first_crossing():
            pull = await handle.pull_events(0, 100, 30.0)
            while not any(e.type is EventType.LINE_CROSSING for e in pull.events):
                pull = await handle.pull_events(pull.last_sequence, 100, 30.0)
            return pull

        pull = asyncio.run(asyncio.wait_for(first_crossing(), 120))
        crossing = next(e for e in pull.events if e.type is EventType.LINE_CROSSING)
        assert crossing.camera_id == "handle-events" and crossing.direction is not None
        assert crossing.thumbnail is not None and crossing.thumbnail[:2] == b"\xff\xd8", "a JPEG rides along"
    finally:
        ray_local.kill(actor, no_restart=True)
