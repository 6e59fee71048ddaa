"""An in-memory cluster for the controller tests: nodes, named camera actors with
Ray-like rules (unique names, pinned placement, CPU accounting), and a clock."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cluster.config import CameraConfig, SourceConfig
from cluster.domain import AnalysisMode, CameraState, CameraStatus
from cluster.scheduler.actions import StopActor
from cluster.scheduler.boundary import Gone, Heartbeat, NameTaken, NodeInfo, Probe, Silent
from cluster.scheduler.controller import Controller
from cluster.scheduler.prior import SourceInfo
from cluster.scheduler.requests import Request
from cluster.scheduler.settings import SchedulerSettings
from cluster.scheduler.store import SchedulerStateStore


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(eq=False)
class FakeActor:
    camera_id: str
    node_id: str
    cpus: float
    config: CameraConfig
    alive: bool = True
    pending: bool = False  # Ray could not fit it on its node: never starts
    answering: bool = True
    state: CameraState = CameraState.LIVE
    cpu_percent: float = 5.0
    source: SourceInfo | None = None  # what its status says of the stream (None: not told)
    degraded: bool = False  # analysing below its rate for want of CPU (analysis.min_fps)
    updates: list[CameraConfig] = field(default_factory=list)

    def status(self) -> CameraStatus:
        return CameraStatus(
            camera_id=self.camera_id,
            state=self.state,
            reason="",
            node_id=self.node_id,
            pid=1,
            mode=AnalysisMode.MOTION_ONLY,
            frames_received=10,
            frames_analysed=5,
            frames_skipped=5,
            detector_runs=0,
            reconnects=0,
            fps_in=5.0,
            fps_out=1.0,
            last_frame_time=None,
            last_sequence=5,
            stage_seconds={},
            capture_to_publish_seconds=0.01,
            cpu_percent=self.cpu_percent,
            memory_uss_bytes=0,
            source_width=(self.source.width or 0) if self.source else 0,
            source_height=(self.source.height or 0) if self.source else 0,
            source_fps=(self.source.fps or 0.0) if self.source else 0.0,
            degraded=self.degraded,
        )


class FakeCluster:
    """Implements ClusterBoundary in memory."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}
        self.named: dict[str, FakeActor] = {}  # alive actors by camera id (the name registry)
        self.created: list[FakeActor] = []
        self.capacity_requests: list[list[dict[str, float]]] = []
        self.broken: set[str] = set()  # method names that raise, to test the loop's resilience
        self.files: dict[str, SourceInfo] = {}  # file source URL -> what probing it finds
        self.probed: list[str] = []  # URLs probed, in order

    # ---- test controls -----------------------------------------------------------------

    def add_node(self, node_id: str, cpus: float, *, head: bool = False) -> None:
        self.nodes[node_id] = NodeInfo(node_id, f"10.0.0.{len(self.nodes) + 1}", True, cpus, is_head=head)

    def kill_node(self, node_id: str) -> None:
        info = self.nodes[node_id]
        self.nodes[node_id] = NodeInfo(info.node_id, info.address, False, info.cpus, info.is_head)
        for actor in list(self.named.values()):
            if actor.node_id == node_id:
                self._die(actor)

    def kill_actor(self, camera_id: str) -> FakeActor:
        actor = self.named[camera_id]
        self._die(actor)
        return actor

    def on(self, node_id: str) -> list[str]:
        return sorted(cid for cid, a in self.named.items() if a.node_id == node_id)

    def used(self, node_id: str) -> float:
        return sum(a.cpus for a in self.named.values() if a.node_id == node_id and not a.pending)

    def _die(self, actor: FakeActor) -> None:
        actor.alive = False
        if self.named.get(actor.camera_id) is actor:
            del self.named[actor.camera_id]

    def _check(self, method: str) -> None:
        if method in self.broken:
            raise RuntimeError(f"injected failure in {method}")

    # ---- ClusterBoundary ---------------------------------------------------------------

    def list_nodes(self) -> list[NodeInfo]:
        self._check("list_nodes")
        return list(self.nodes.values())

    def find_camera_actors(self) -> dict[str, object]:
        self._check("find_camera_actors")
        return dict(self.named)

    def lookup_camera_actor(self, camera_id: str) -> object | None:
        return self.named.get(camera_id)

    def start_camera(self, config: CameraConfig, node_id: str, cpus: float) -> object:
        self._check("start_camera")
        if config.id in self.named:
            raise NameTaken(f"actor camera:{config.id} already exists")
        node = self.nodes[node_id]
        actor = FakeActor(config.id, node_id, cpus, config)
        actor.pending = self.used(node_id) + cpus > node.cpus + 1e-9
        if not node.alive:
            actor.alive = False  # creation fails: the pinned node is gone
        else:
            self.named[config.id] = actor
        self.created.append(actor)
        return actor

    def stop_cameras(self, stops: Sequence[StopActor]) -> None:
        self._check("stop_cameras")
        for stop in stops:
            assert isinstance(stop.actor, FakeActor)
            self._die(stop.actor)

    def probe(self, actors: Mapping[str, object], timeout_s: float) -> dict[str, Probe]:
        self._check("probe")
        out: dict[str, Probe] = {}
        for cid, actor in actors.items():
            assert isinstance(actor, FakeActor)
            if not actor.alive:
                out[cid] = Gone("the actor was killed")
            elif actor.pending or not actor.answering:
                out[cid] = Silent()
            else:
                out[cid] = Heartbeat(actor.status())
        return out

    def read_config(self, actor: object) -> CameraConfig:
        assert isinstance(actor, FakeActor)
        return actor.config

    def push_config(self, actor: object, config: CameraConfig) -> None:
        assert isinstance(actor, FakeActor)
        actor.config = config
        actor.updates.append(config)

    def request_capacity(self, bundles: list[dict[str, float]]) -> None:
        self.capacity_requests.append(list(bundles))

    def probe_source(self, source: SourceConfig) -> SourceInfo | None:
        self._check("probe_source")
        self.probed.append(source.url)
        return self.files.get(source.url) if source.is_file else None


def camera(
    camera_id: str, *, enabled: bool = True, fps: float = 1.0, detector_size: int | None = None, width: int = 640
) -> CameraConfig:
    """A camera whose prior cost is about 0.23 cores (unknown 720p source)."""
    analysis: dict = {"fps": fps, "width": width}
    if detector_size is not None:
        analysis["detector"] = {"model": "/models/x.cfg", "input_size": detector_size, "max_fps": fps}
    return CameraConfig(
        id=camera_id, enabled=enabled, source=SourceConfig(url=f"rtsp://cams.local/{camera_id}"), analysis=analysis
    )


TEST_SETTINGS = SchedulerSettings(
    namespace="test",
    restart_jitter=0.0,
    restart_initial_s=1.0,
    restart_max_s=60.0,
    crash_loop_failures=4,
    crash_loop_window_s=120.0,
    crash_loop_retry_s=300.0,
    max_moves_per_minute=4,
    heartbeat_timeout_s=10.0,
    start_timeout_s=30.0,
    learn_costs=False,
    # These tests place cameras on one- and two-CPU fake nodes; start turns are tested on their own.
    max_starts_per_cpu=100.0,
)


class Harness:
    """A controller over a FakeCluster with a fake clock."""

    def __init__(
        self,
        settings: SchedulerSettings = TEST_SETTINGS,
        *,
        cluster: FakeCluster | None = None,
        store: SchedulerStateStore | None = None,
        clock: FakeClock | None = None,
    ) -> None:
        self.cluster = cluster or FakeCluster()
        self.clock = clock or FakeClock()
        self.ctl = Controller(
            self.cluster, settings, store=store, clock=self.clock, wall_clock=self.clock, rng=random.Random(0)
        )

    def do(self, request: Request):
        """Submit, run one step, return the answer (or raise the rejection)."""
        item = self.ctl.submit(request)
        self.ctl.step()
        return item.future.result(timeout=0)

    def steps(self, n: int = 1, advance: float = 1.0) -> None:
        for _ in range(n):
            self.clock.advance(advance)
            self.ctl.step()

    def phases(self) -> dict[str, str]:
        return {c.camera_id: c.phase.value for c in self.ctl.report().cameras}

    def placement(self) -> dict[str, str | None]:
        return {c.camera_id: c.node_id for c in self.ctl.report().cameras}
