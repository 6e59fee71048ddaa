"""The serve path on local Ray (scheduler actor, camera actors, `SchedulerClient`) with
the gRPC front door in front of it, on one event-loop thread, for fault tests that
kill things underneath streaming clients.

    gateway = LiveGateway.start(state_dir, [camera(...)], prefix="crash", **scheduler_settings)
    client = gateway.client()
    reader = Reader(client.stream_detections(["cam"], include_empty=True))
    ...
    gateway.close()
"""

from __future__ import annotations

import time
from pathlib import Path

from cluster.client import MatthanClient
from cluster.config import AnalysisConfig, CameraConfig, MotionConfig, SourceConfig
from cluster.config.server import ServerConfig
from cluster.control import CameraView
from cluster.domain import CameraState
from cluster.gateway.fanout import FanoutSettings
from cluster.gateway.server import GatewayServer
from cluster.scheduler.report import CameraReport
from tests.conftest import test_file_roots
from tests.fixtures.serve_path import ServePath
from tests.fixtures.waiting import wait_until
from tests.gateway.fakes import LoopThread

START_TIMEOUT_S = 120.0  # camera actor processes start slowly on a busy 2-core machine


def camera(camera_id: str, clip: Path) -> CameraConfig:
    """A looping clip played in real time, analysed (motion) at 5 fps."""
    return CameraConfig(
        id=camera_id,
        source=SourceConfig(url=str(clip), loop=True, realtime=True, open_timeout_s=5, read_timeout_s=3),
        analysis=AnalysisConfig(fps=5.0, motion=MotionConfig(min_area=0.001)),
    )


class LiveGateway:
    def __init__(self, loop_thread: LoopThread, serve_path: ServePath, server: GatewayServer) -> None:
        self.loop_thread = loop_thread
        self.serve_path = serve_path
        self.server = server
        self.target = f"127.0.0.1:{server.port}"
        self._clients: list[MatthanClient] = []

    @classmethod
    def start(cls, state_dir: Path, cameras: list[CameraConfig], *, prefix: str, **settings: object) -> LiveGateway:
        loop_thread = LoopThread()
        config = ServerConfig(
            host="127.0.0.1",
            port=0,
            allow_unauthenticated=True,
            grace_period_s=0.5,
            camera_refresh_s=0.5,
            file_roots=test_file_roots(),
        )
        # Short long-polls and retries: a restarted actor is found again promptly.
        fanout = FanoutSettings(pull_timeout_s=0.5, retry_initial_s=0.05, retry_max_s=0.3)

        async def start() -> tuple[ServePath, GatewayServer]:
            path = await ServePath.start(state_dir, cameras, prefix=prefix, **settings)
            server = GatewayServer(path.client, config, fanout_settings=fanout)
            await server.start()
            return path, server

        try:
            path, server = loop_thread.run(start(), timeout=120)
        except BaseException:
            loop_thread.close()
            raise
        return cls(loop_thread, path, server)

    def client(self) -> MatthanClient:
        client = MatthanClient(self.target)
        self._clients.append(client)
        return client

    def report(self, camera_id: str) -> CameraReport:
        return self.loop_thread.run(self.serve_path.client.report()).camera(camera_id)

    def view(self, camera_id: str) -> CameraView:
        [view] = [v for v in self.loop_thread.run(self.serve_path.client.list_cameras()) if v.config.id == camera_id]
        return view

    def wait_live(self, camera_id: str, *, other_than_pid: int = 0, timeout: float = START_TIMEOUT_S) -> CameraView:
        """Until the camera is LIVE (in a process other than `other_than_pid`) and has published."""
        last: list[CameraView] = []

        def ready() -> bool:
            view = self.view(camera_id)
            last[:] = [view]
            status = view.status
            return (
                status is not None
                and status.state is CameraState.LIVE
                and status.pid != other_than_pid
                and status.last_sequence > 0
            )

        wait_until(ready, timeout, lambda: f"camera {camera_id} live and publishing; last view: {last}", poll_s=0.1)
        return last[0]

    def close(self) -> None:
        for client in self._clients:
            client.close()
        try:
            self.loop_thread.run(self.server.stop(0), timeout=30)
        finally:
            try:
                self.loop_thread.run(self.serve_path.stop(), timeout=60)
            finally:
                self.loop_thread.close()


def elapsed_since(start: float) -> float:
    return time.monotonic() - start
