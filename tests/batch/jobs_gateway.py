"""A front door with the Jobs service over the real job manager, writer and Ray, for
the gateway and CLI tests (module-scoped: import `jobs_gateway` into the test module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.client import MatthanClient
from cluster.config import CameraConfig
from cluster.config.batch import BatchConfig
from cluster.gateway.server import GatewayServer
from tests.batch.batch_path import BatchPath
from tests.batch.conftest import ROAD_RULES, concatenate
from tests.gateway.conftest import TOKENS, server_config
from tests.gateway.fakes import LoopThread
from tests.ray_cluster import init_local
from tests.recordings.footage import T0, record_clip

# The road camera's recordings: RECORDED_S of the car clip from T0 (4.8 s segments).
RECORDED_S = 20.0


class JobsGateway:
    def __init__(self, path: BatchPath, server: GatewayServer, loop: LoopThread, footage: Path) -> None:
        self.path, self.server, self.loop, self.footage = path, server, loop, footage
        self.recorded_from, self.recorded_to = T0, T0 + RECORDED_S

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def client(self, who: str) -> MatthanClient:
        return MatthanClient(self.target, TOKENS[who][0])


@pytest.fixture(scope="module")
def jobs_gateway(tmp_path_factory, media: Path) -> Iterator[JobsGateway]:
    import ray

    if not ray.is_initialized():
        init_local(num_cpus=8, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    footage_dir = tmp_path_factory.mktemp("jobs-footage")
    footage = concatenate(media / "car-detection.mp4", 2, footage_dir / "cam01_20261128T220000.mp4")
    recordings = tmp_path_factory.mktemp("jobs-recordings")
    record_clip(recordings, "road", media / "car-detection.mp4", start=T0, seconds=RECORDED_S, segment_s=4.0)
    camera = CameraConfig.model_validate(
        {
            "id": "road",
            "enabled": False,
            "groups": ["ward-1"],
            "source": {"url": str(footage)},
            "rules": ROAD_RULES,
            "recording": {"directory": str(recordings)},
        }
    )
    batch = BatchConfig(allowed_dirs=[footage_dir], segment_s=20.0, warmup_s=5.0, max_range_s=3600.0)
    loop = LoopThread()
    path = loop.run(BatchPath.start(tmp_path_factory.mktemp("jobs-state"), [camera], batch), timeout=120)

    async def start() -> GatewayServer:
        server = GatewayServer(path.serve.client, server_config(), jobs=path.jobs)
        await server.start()
        return server

    server = loop.run(start())
    try:
        yield JobsGateway(path, server, loop, footage)
    finally:
        loop.run(server.stop(0), timeout=30)
        loop.run(path.stop(), timeout=60)
        loop.close()
