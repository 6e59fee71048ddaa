"""In-memory stand-ins for what feeds the metrics: a CameraControl with canned
views and cluster status, statuses with cumulative meters, a settable clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from cluster.actors.telemetry import CameraMeters, CameraMetricsSnapshot
from cluster.config import CameraConfig
from cluster.control import CameraView, ClusterStatus, NodeView
from cluster.domain import CameraState, CameraStatus


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def camera_config(camera_id: str, *, enabled: bool = True, fps: float = 5.0) -> CameraConfig:
    return CameraConfig.model_validate(
        {
            "id": camera_id,
            "name": f"Camera {camera_id}",
            "enabled": enabled,
            "source": {"url": f"rtsp://cams.local/{camera_id}"},
            "analysis": {"fps": fps},
        }
    )


@dataclass
class _Det:
    class_name: str


def meters_snapshot(*, frames: int = 3, classes: tuple[str, ...] = ("person", "car")) -> CameraMetricsSnapshot:
    meters = CameraMeters()
    for _ in range(frames):
        meters.observe_analysis({"motion": 0.002, "detector": 0.03}, [_Det(c) for c in classes], 0.2)
        meters.observe_decode(0.004)
    meters.on_capture_state(CameraState.RECONNECTING, "stalled: no frame for 10.0 s")
    return meters.snapshot()


def status(
    camera_id: str,
    *,
    state: CameraState = CameraState.LIVE,
    node_id: str = "node-a",
    last_frame_time: float | None = 1_700_000_000.0 - 2.0,
    fps_in: float = 12.5,
    metrics: CameraMetricsSnapshot | None = None,
) -> CameraStatus:
    return CameraStatus(
        camera_id=camera_id,
        state=state,
        reason="test",
        node_id=node_id,
        pid=1234,
        mode="motion-only",
        frames_received=100,
        frames_analysed=40,
        frames_skipped=60,
        detector_runs=7,
        reconnects=1,
        fps_in=fps_in,
        fps_out=5.0,
        last_frame_time=last_frame_time,
        last_sequence=40,
        stage_seconds={"motion": 0.002},
        capture_to_publish_seconds=0.2,
        cpu_percent=25.0,
        memory_uss_bytes=150_000_000,
        metrics=metrics,
    )


def view(camera_id: str, st: CameraStatus | None, *, enabled: bool = True) -> CameraView:
    return CameraView(config=camera_config(camera_id, enabled=enabled), status=st, node_id=st.node_id if st else None)


def cluster_status(
    nodes: tuple[NodeView, ...] = (), live: int = 1, configured: int = 2, unplaced: tuple[str, ...] = ()
) -> ClusterStatus:
    nodes = nodes or (
        NodeView("node-a", "10.0.0.1", True, 4.0, ("cam-1",), 0.8),
        NodeView("node-b", "10.0.0.2", False, 4.0, (), 0.0, draining=True),
    )
    return ClusterStatus(nodes=nodes, cameras_configured=configured, cameras_live=live, unplaced=unplaced)


@dataclass
class FakeControl:
    """The two CameraControl reads the refresher uses; set `fail_*` to make them raise."""

    views: list[CameraView] = field(default_factory=list)
    cluster: ClusterStatus = field(default_factory=cluster_status)
    fail_cameras: Exception | None = None
    fail_cluster: Exception | None = None
    calls: int = 0

    async def list_cameras(self) -> list[CameraView]:
        self.calls += 1
        if self.fail_cameras is not None:
            raise self.fail_cameras
        return list(self.views)

    async def cluster_status(self) -> ClusterStatus:
        if self.fail_cluster is not None:
            raise self.fail_cluster
        return self.cluster
