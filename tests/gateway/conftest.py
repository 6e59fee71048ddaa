"""A real gRPC server on loopback around an in-memory control plane."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from cluster.client import MatthanClient
from cluster.config.server import ServerConfig
from cluster.events import EventQueries
from cluster.gateway.auth import hash_token
from cluster.gateway.event_feed import EventFeedSettings
from cluster.gateway.fanout import FanoutSettings
from cluster.gateway.server import GatewayServer
from tests.conftest import test_file_roots

from .fakes import FakeCamera, FakeControl, LoopThread, camera_config

# name -> (token, token config without name/sha256)
TOKENS: dict[str, tuple[str, dict]] = {
    "admin": ("admin-secret-0001", {"role": "admin"}),
    "operator": ("operator-secret-0002", {"role": "operator"}),
    "viewer-a": ("viewer-a-secret-0003", {"role": "viewer", "cameras": ["cam-a"]}),
    "viewer-w1": ("viewer-w1-secret-0004", {"role": "viewer", "groups": ["ward-1"]}),
    "viewer-all": ("viewer-all-secret-0005", {"role": "viewer", "all_cameras": True}),
}


def server_config(**overrides: object) -> ServerConfig:
    data: dict = {
        "host": "127.0.0.1",
        "port": 0,
        "tokens": [{"name": name, "sha256": hash_token(token), **extra} for name, (token, extra) in TOKENS.items()],
        "grace_period_s": 0.5,
        "camera_refresh_s": 0.3,
        "limits": {"snapshot_timeout_s": 0.5},
        "file_roots": test_file_roots(),
    }
    data.update(overrides)
    return ServerConfig.model_validate(data)


def default_cameras() -> list:
    return [
        camera_config("cam-a", ("ward-1",)),
        camera_config("cam-b", ("ward-2",)),
        camera_config("cam-c", ("ward-1",)),
    ]


class Gateway:
    def __init__(self, loop_thread: LoopThread, control: FakeControl, server: GatewayServer, target: str):
        self.loop_thread = loop_thread
        self.control = control
        self.server = server
        self.target = target
        self._clients: list[MatthanClient] = []
        self._channels: list[grpc.Channel] = []

    def run(self, coro, timeout: float = 20.0):
        return self.loop_thread.run(coro, timeout)

    def call(self, fn, *args):
        return self.loop_thread.call(fn, *args)

    def camera(self, camera_id: str) -> FakeCamera:
        return self.control.cameras[camera_id]

    def client(self, who: str | None = "admin", **kwargs) -> MatthanClient:
        token = TOKENS[who][0] if who in TOKENS else who
        client = MatthanClient(self.target, token, **kwargs)
        self._clients.append(client)
        return client

    def channel(self, options: list | None = None) -> grpc.Channel:
        channel = grpc.insecure_channel(self.target, options=options or [])
        self._channels.append(channel)
        return channel

    def upstream_loops(self) -> dict[str, int]:
        return self.call(lambda: self.server.fanout.upstream_loops)

    def subscriptions(self) -> int:
        return self.call(lambda: self.server.fanout.subscription_count)

    def close_clients(self) -> None:
        for c in self._clients:
            c.close()
        for ch in self._channels:
            ch.close()


def metadata(who: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[who][0]}"),)


def start_gateway(
    loop_thread: LoopThread,
    control: FakeControl,
    config: ServerConfig,
    settings: FanoutSettings | None = None,
    events: EventQueries | None = None,
    event_feed_settings: EventFeedSettings | None = None,
) -> Gateway:
    settings = settings or FanoutSettings(
        frame_queue_size=config.limits.frame_queue_size,
        detection_queue_size=config.limits.detection_queue_size,
        pull_timeout_s=0.5,
        retry_initial_s=0.05,
        retry_max_s=0.2,
    )

    async def start() -> GatewayServer:
        server = GatewayServer(
            control, config, fanout_settings=settings, events=events, event_feed_settings=event_feed_settings
        )
        await server.start()
        return server

    server = loop_thread.run(start())
    return Gateway(loop_thread, control, server, f"127.0.0.1:{server.port}")


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


@pytest.fixture
def make_gateway(loop_thread: LoopThread):
    started: list[Gateway] = []

    def make(
        cameras: list | None = None,
        settings: FanoutSettings | None = None,
        events: EventQueries | None = None,
        event_feed_settings: EventFeedSettings | None = None,
        **config_overrides: object,
    ) -> Gateway:
        control = loop_thread.call(lambda: FakeControl(default_cameras() if cameras is None else cameras))
        gw = start_gateway(
            loop_thread, control, server_config(**config_overrides), settings, events, event_feed_settings
        )
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.close_clients()
        for cam in gw.control.cameras.values():
            gw.call(cam.stop_producing)
        gw.run(gw.server.stop(0))


@pytest.fixture
def gateway(make_gateway) -> Gateway:
    return make_gateway()
