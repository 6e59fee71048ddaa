"""`FrontDoor` (what `matthan serve` starts) runs the console beside the gateway, on the
gateway's fan-out, authenticator and access log, and stops it first."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from cluster.config import MatthanConfig
from cluster.frontdoor import FrontDoor
from tests.gateway.conftest import default_cameras
from tests.gateway.fakes import FakeControl

from .conftest import web_config


def start(loop_thread, web: bool) -> FrontDoor:
    server = web_config() if web else web_config().model_copy(update={"web": None})
    config = MatthanConfig(server=server, metrics={"port": 0})
    control = loop_thread.call(lambda: FakeControl(default_cameras()))

    async def go() -> FrontDoor:
        front_door = FrontDoor(config, control)
        await front_door.start()
        return front_door

    return loop_thread.run(go())


def test_the_front_door_serves_the_console_on_the_gateways_fan_out(loop_thread) -> None:
    front_door = start(loop_thread, web=True)
    try:
        assert front_door.web_url is not None and front_door.web_url.startswith("http://127.0.0.1:"), front_door.web_url
        services = front_door.web.services
        state = front_door.gateway.state
        assert services.fanout is front_door.gateway.fanout, "one fan-out for gRPC and browsers, never a second"
        assert services.auth is state.auth and services.access is state.access, "the gateway's tokens and access log"
        with urllib.request.urlopen(front_door.web_url + "api/session", timeout=5) as reply:
            assert json.load(reply)["authenticated"] is False, "the console answers"
    finally:
        loop_thread.run(front_door.stop())
    try:
        urllib.request.urlopen(front_door.web_url, timeout=2)
        raise AssertionError("the console must be closed after stop()")
    except urllib.error.URLError:
        pass


def test_without_server_web_there_is_no_console(loop_thread) -> None:
    front_door = start(loop_thread, web=False)
    try:
        assert front_door.web is None and front_door.web_url is None, "server.web absent: no console"
    finally:
        loop_thread.run(front_door.stop())
