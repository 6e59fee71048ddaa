"""The front door over real gRPC on loopback, in front of REAL camera actors on local Ray,
through the control plane `matthan serve` runs: the scheduler actor and `SchedulerClient`.

The other gateway tests drive the server with an in-memory control plane; here the
scheduler places `CameraActor`s that decode a tiny looping synthetic clip in real
time and analyse it (motion) at 5 fps, so frames, detection sequences, camera
states and admin changes all come from the real thing.

One gateway, one scheduler (a Ray namespace and state directory of its own) and two
base cameras are shared by the module (actor start-up is the expensive part);
tests that add cameras remove them again. One freezes an added camera's process
(SIGSTOP, always continued afterwards) to show that a wedged camera holds up only
its own streams.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest

from cluster.client import MatthanClient, NotFound, Unavailable
from cluster.client.client import channel_options
from cluster.config import AnalysisConfig, CameraConfig, MotionConfig, SourceConfig
from cluster.config.server import ServerConfig
from cluster.control import CameraView
from cluster.demo import ClipSpec, ensure_demo_clips
from cluster.domain import CameraState
from cluster.gateway.fanout import FanoutSettings
from cluster.gateway.server import GatewayServer
from tests.conftest import test_file_roots
from tests.fixtures.serve_path import ServePath
from tests.fixtures.stream_reader import Reader
from tests.fixtures.waiting import wait_until

from .fakes import LoopThread

pytestmark = pytest.mark.slow

CLIP = ClipSpec("t", seed=1, people=3, vehicles=1, seconds=3, width=320, height=180)
BASE_CAMERAS = ("real-1", "real-2")
SNAPSHOT_TIMEOUT_S = 2.0  # the server's limits.snapshot_timeout_s
START_TIMEOUT_S = 90.0  # actor processes start slowly on a busy 2-core machine
DATA_TIMEOUT_S = 30.0
# The scheduler reports a silent actor after unresponsive_after_s (6 s) plus a poll and a tick.
UNRESPONSIVE_WITHIN_S = 20.0
# The slow client must not soak up the backlog in its own transport buffers, or
# the server would never see it as slow: no BDP-driven window growth.
SMALL_WINDOW = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 16384)]


def camera(camera_id: str, url: Path | str) -> CameraConfig:
    return CameraConfig(
        id=camera_id,
        source=SourceConfig(url=str(url), loop=True, realtime=True, open_timeout_s=5, read_timeout_s=3),
        # The synthetic movers are small at 320x180: a low minimum area so motion yields detections.
        analysis=AnalysisConfig(fps=5.0, motion=MotionConfig(min_area=0.001)),
    )


class RealGateway:
    """A GatewayServer in front of the scheduler path, on one event-loop thread."""

    def __init__(self, clip: Path, state_dir: Path):
        self.clip = clip
        self.state_dir = state_dir
        self.loop_thread = LoopThread()
        self.serve_path: ServePath | None = None
        self.server: GatewayServer | None = None
        self.target = ""
        self._clients: list[MatthanClient] = []
        self._readers: list[Reader] = []
        self._observer: MatthanClient | None = None

    def start(self) -> None:
        config = ServerConfig(
            host="127.0.0.1",
            port=0,
            allow_unauthenticated=True,
            grace_period_s=0.5,
            camera_refresh_s=0.5,
            limits={"snapshot_timeout_s": SNAPSHOT_TIMEOUT_S},
            file_roots=test_file_roots(),
        )
        # Short long-polls and retries: a removed camera's streams end promptly.
        settings = FanoutSettings(pull_timeout_s=0.5, retry_initial_s=0.05, retry_max_s=0.3)
        cameras = [camera(camera_id, self.clip) for camera_id in BASE_CAMERAS]

        async def start() -> None:
            self.serve_path = await ServePath.start(self.state_dir, cameras, prefix="gw-real")
            self.server = GatewayServer(self.serve_path.client, config, fanout_settings=settings)
            await self.server.start()

        self.loop_thread.run(start(), timeout=60)
        self.target = f"127.0.0.1:{self.server.port}"
        for camera_id in BASE_CAMERAS:
            self.wait_publishing(camera_id)

    def client(self, options: list | None = None) -> MatthanClient:
        channel = grpc.insecure_channel(self.target, options=channel_options() + (options or []))
        client = MatthanClient(self.target, channel=channel)
        self._clients.append(client)
        return client

    def read(self, stream, pause_s: float = 0.0) -> Reader:
        reader = Reader(stream, pause_s)
        self._readers.append(reader)
        return reader

    def view(self, camera_id: str) -> CameraView:
        if self._observer is None:
            self._observer = self.client()
        return self._observer.get_camera(camera_id)

    def wait_publishing(self, camera_id: str, timeout: float = START_TIMEOUT_S) -> CameraView:
        """Until the camera is LIVE and has published a detection batch."""
        last: list[CameraView] = []

        def ready() -> bool:
            view = self.view(camera_id)
            last[:] = [view]
            return view.status is not None and view.status.state is CameraState.LIVE and view.status.last_sequence > 0

        wait_until(ready, timeout, lambda: f"camera {camera_id} live and publishing; last view: {last}")
        return last[0]

    def upstream_loops(self) -> dict[str, int]:
        return self.loop_thread.call(lambda: self.server.fanout.upstream_loops)

    def stop_readers(self, readers: Iterable[Reader] | None = None) -> None:
        for reader in list(readers if readers is not None else self._readers):
            reader.stop()

    def close(self) -> None:
        self.stop_readers()
        for client in self._clients:
            client.close()
        try:
            if self.server is not None:
                self.loop_thread.run(self.server.stop(0), timeout=30)
        finally:
            try:
                if self.serve_path is not None:
                    self.loop_thread.run(self.serve_path.stop(), timeout=60)
            finally:
                self.loop_thread.close()


class LazyGateway:
    """Module-shared, but started only once `ray_local` (a function fixture) has run."""

    def __init__(self, clip: Path, state_dir: Path):
        self._clip = clip
        self._state_dir = state_dir
        self.gateway: RealGateway | None = None

    def get(self) -> RealGateway:
        if self.gateway is None:
            gateway = RealGateway(self._clip, self._state_dir)
            try:
                gateway.start()
            except BaseException:
                gateway.close()
                raise
            self.gateway = gateway
        return self.gateway


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_demo_clips(tmp_path_factory.mktemp("clips"), (CLIP,))[0]


@pytest.fixture(scope="module")
def shared_gateway(clip: Path, tmp_path_factory: pytest.TempPathFactory):
    lazy = LazyGateway(clip, tmp_path_factory.mktemp("scheduler-state"))
    yield lazy
    if lazy.gateway is not None:
        lazy.gateway.close()


@pytest.fixture
def gateway(ray_local, shared_gateway: LazyGateway):
    gateway = shared_gateway.get()
    yield gateway
    gateway.stop_readers()  # a failed test must not leave streams running into the next one


@pytest.fixture
def added_cameras(gateway: RealGateway):
    """Camera ids a test adds; removed again at teardown if the test did not."""
    ids: list[str] = []
    yield ids
    client = gateway.client()
    for camera_id in ids:
        with contextlib.suppress(NotFound):
            client.remove_camera(camera_id)


@contextmanager
def frozen_process(pid: int) -> Iterator[None]:
    """The process stopped (SIGSTOP) for the block, and always continued after it."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):  # replaced meanwhile: nothing left to continue
            os.kill(pid, signal.SIGCONT)


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, f"not a decodable JPEG ({len(jpeg)} bytes)"
    return image


# ------------------------------------------------------------------------- tests


def test_list_cameras_shows_the_real_cameras_live(gateway: RealGateway) -> None:
    views = {v.config.id: v for v in gateway.client().list_cameras()}
    assert set(BASE_CAMERAS) <= set(views), f"listed: {sorted(views)}"
    for camera_id in BASE_CAMERAS:
        status = views[camera_id].status
        assert status is not None, f"{camera_id}: no observed state"
        assert status.state is CameraState.LIVE, f"{camera_id}: {status.state.value} ({status.reason})"
        assert views[camera_id].node_id, f"{camera_id}: the node it runs on is reported"
        assert status.frames_received > 0, f"{camera_id}: the actor has decoded frames"


def test_snapshot_decodes_to_the_clip_size_and_to_a_requested_width(gateway: RealGateway) -> None:
    client = gateway.client()
    full = client.snapshot("real-1")
    assert decode(full.jpeg).shape == (CLIP.height, CLIP.width, 3), "full-size snapshot"
    assert (full.width, full.height) == (CLIP.width, CLIP.height), "declared size matches the picture"
    small = client.snapshot("real-1", max_width=160)
    assert decode(small.jpeg).shape == (90, 160, 3), "downscaled snapshot keeps the aspect ratio"


def test_several_clients_stream_frames_and_detections_at_once(gateway: RealGateway) -> None:
    readers: dict[str, Reader] = {}
    for n in range(3):
        client = gateway.client()  # a channel (connection) each
        for camera_id in BASE_CAMERAS:
            readers[f"client {n} frames {camera_id}"] = gateway.read(client.stream_frames(camera_id, max_fps=5))
            readers[f"client {n} detections {camera_id}"] = gateway.read(
                client.stream_detections([camera_id], include_empty=True, auto_resume=False)
            )
    for what, reader in readers.items():
        reader.wait_count(3, what=what)
    # While all twelve streams are open: one frame and one detection pull per camera.
    loops = gateway.upstream_loops()
    assert {c: loops.get(c) for c in BASE_CAMERAS} == {c: 2 for c in BASE_CAMERAS}, (
        f"upstream pulls are shared by subscribers: {loops}"
    )
    gateway.stop_readers(readers.values())
    for what, reader in readers.items():
        camera_id = what.rsplit(" ", 1)[1]
        if "frames" in what:
            frames = [e.frame for e in reader.events]
            assert {f.camera_id for f in frames} == {camera_id}, f"{what}: frames of another camera"
            sequences = [f.frame_sequence for f in frames]
            assert sequences == sorted(set(sequences)), f"{what}: frames out of order or repeated: {sequences}"
        else:
            sequences = [e.batch.sequence for e in reader.events]
            start = sequences[0]
            assert sequences == list(range(start, start + len(sequences))), f"{what}: gaps in {sequences}"
        assert reader.error is None, f"{what}: {reader.error!r}"


def test_a_slow_frame_client_does_not_slow_a_fast_one(gateway: RealGateway) -> None:
    slow = gateway.read(gateway.client(SMALL_WINDOW).stream_frames("real-1"), pause_s=0.4)
    fast = gateway.read(gateway.client().stream_frames("real-1"))
    fast.wait_count(40, timeout=60, what="fast client")
    # The slow client is told what it missed (dropped_slow) once its buffers are full.
    wait_until(
        lambda: slow.events and slow.events[-1].dropped_slow > 0,
        DATA_TIMEOUT_S,
        lambda: f"the slow client to see dropped frames; it read {len(slow.events)}",
    )
    fast_count, slow_count = len(fast.events), len(slow.events)
    gateway.stop_readers([slow, fast])
    assert fast_count >= 2 * slow_count, f"fast client read {fast_count} frames, slow one {slow_count}"
    fast_dropped, slow_dropped = fast.events[-1].dropped_slow, slow.events[-1].dropped_slow
    assert fast_dropped < slow_dropped, f"drops: fast client {fast_dropped}, slow client {slow_dropped}"
    assert slow.error is None and fast.error is None, f"slow: {slow.error!r}, fast: {fast.error!r}"


def test_detections_resume_after_a_disconnect_without_loss(gateway: RealGateway) -> None:
    client = gateway.client()
    first = gateway.read(client.stream_detections(["real-2"], include_empty=True, auto_resume=False))
    first.wait_count(3, what="first connection")
    gateway.stop_readers([first])
    last = first.events[-1].batch.sequence
    # Disconnected while the camera keeps publishing: several batches are missed live.
    wait_until(
        lambda: gateway.view("real-2").status.last_sequence >= last + 3,
        DATA_TIMEOUT_S,
        "the camera to publish 3 batches after the disconnect",
    )
    resumed = gateway.read(
        client.stream_detections(["real-2"], include_empty=True, resume_after={"real-2": last}, auto_resume=False)
    )
    resumed.wait_count(5, what="resumed connection")
    gateway.stop_readers([resumed])
    sequences = [e.batch.sequence for e in resumed.events[:5]]
    assert sequences == list(range(last + 1, last + 6)), f"resumed after {last}, got {sequences}"
    losses = [e.data_loss for e in resumed.events if e.data_loss is not None]
    assert not losses, f"the ring still held every batch: {losses}"


def test_an_added_camera_goes_live_and_streams(gateway: RealGateway, added_cameras: list[str]) -> None:
    client = gateway.client()
    added_cameras.append("real-added")
    view = client.add_camera(camera("real-added", gateway.clip))
    assert view.config.id == "real-added"
    gateway.wait_publishing("real-added")
    frames = gateway.read(client.stream_frames("real-added", max_fps=5))
    detections = gateway.read(client.stream_detections(["real-added"], include_empty=True, auto_resume=False))
    frames.wait_count(2, what="frames of the added camera")
    detections.wait_count(2, what="detections of the added camera")
    gateway.stop_readers([frames, detections])
    assert decode(frames.events[-1].frame.jpeg).shape == (CLIP.height, CLIP.width, 3)
    assert {e.batch.camera_id for e in detections.events} == {"real-added"}


def test_an_analysis_update_over_grpc_keeps_the_source_connected(
    gateway: RealGateway, added_cameras: list[str]
) -> None:
    """UpdateCamera of analysis settings only is applied to the running pipeline: the
    same actor, the same open source (no reconnect, the frame count goes on), the ring's
    sequences go on, and the new settings take effect."""
    client = gateway.client()
    added_cameras.append("real-update")
    client.add_camera(camera("real-update", gateway.clip))
    before = gateway.wait_publishing("real-update").status
    detections = gateway.read(client.stream_detections(["real-update"], include_empty=True, auto_resume=False))
    detections.wait_count(2, what="detections before the update")

    updated = client.update_camera(
        {"id": "real-update", "analysis": {"fps": 2.0, "motion": {"min_area": 0.002}}},
        fields=["analysis.fps", "analysis.motion.min_area"],
    )
    assert updated.config.analysis.fps == 2.0, f"the desired state changed: {updated.config.analysis}"
    wait_until(
        lambda: gateway.view("real-update").status.fps_out < 3.5,
        DATA_TIMEOUT_S,
        lambda: f"analysis at about 2 fps after the update; status {gateway.view('real-update').status}",
    )
    seen = len(detections.events)
    detections.wait_count(seen + 2, what="detections after the update")
    after = gateway.view("real-update").status
    gateway.stop_readers([detections])

    assert after.pid == before.pid, f"the same actor process runs the camera: {before.pid} -> {after.pid}"
    assert after.reconnects == before.reconnects, f"no reconnect: {before.reconnects} -> {after.reconnects}"
    assert after.frames_received > before.frames_received, (
        f"the source's frame count goes on, never reset: {before.frames_received} -> {after.frames_received}"
    )
    assert after.last_sequence > before.last_sequence, "the ring's sequences go on"
    sequences = [event.batch.sequence for event in detections.events]
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences))), (
        f"one unbroken run of detection sequences across the update: {sequences}"
    )
    assert all(event.data_loss is None for event in detections.events), "the stream reported no loss or restart"


def test_removing_a_camera_ends_its_streams_with_not_found(gateway: RealGateway, added_cameras: list[str]) -> None:
    client = gateway.client()
    added_cameras.append("real-removed")
    client.add_camera(camera("real-removed", gateway.clip))
    gateway.wait_publishing("real-removed")
    frames = gateway.read(client.stream_frames("real-removed", max_fps=5))
    detections = gateway.read(client.stream_detections(["real-removed"], include_empty=True))
    other = gateway.read(client.stream_frames("real-1", max_fps=5))
    frames.wait_count(1, what="frames before removal")
    detections.wait_count(1, what="detections before removal")
    client.remove_camera("real-removed")
    for what, reader in (("frame stream", frames), ("detection stream", detections)):
        assert reader.done.wait(DATA_TIMEOUT_S), f"{what} of the removed camera still open"
        assert isinstance(reader.error, NotFound), f"{what} ended with {reader.error!r}"
        assert "real-removed" in str(reader.error) and "removed" in str(reader.error), str(reader.error)
    with pytest.raises(NotFound):
        client.get_camera("real-removed")
    seen = len(other.events)
    other.wait_count(seen + 2, what="another camera's stream after the removal")


def test_a_camera_with_a_missing_file_fails_with_the_reason_while_others_stream(
    gateway: RealGateway, added_cameras: list[str], tmp_path: Path
) -> None:
    client = gateway.client()
    others = [gateway.read(client.stream_frames(c, max_fps=5)) for c in BASE_CAMERAS]
    missing = tmp_path / "nowhere.mp4"
    added_cameras.append("real-missing")
    client.add_camera(camera("real-missing", missing))

    def failed() -> CameraView | None:
        view = client.get_camera("real-missing")
        return view if view.status is not None and view.status.state is CameraState.FAILED else None

    view = wait_until(failed, START_TIMEOUT_S, lambda: f"FAILED state; now {client.get_camera('real-missing')}")
    assert "nowhere.mp4" in view.status.reason, f"the reason names the file: {view.status.reason!r}"
    for camera_id, reader in zip(BASE_CAMERAS, others, strict=True):
        seen = len(reader.events)
        reader.wait_count(seen + 3, what=f"{camera_id} frames after the other camera failed")
    states = {v.config.id: v.status.state for v in client.list_cameras() if v.status is not None}
    assert all(states[c] is CameraState.LIVE for c in BASE_CAMERAS), f"states: {states}"


def test_a_frozen_camera_is_reported_while_the_others_keep_answering(
    gateway: RealGateway, added_cameras: list[str]
) -> None:
    """A camera actor that is alive but answers nothing (its process SIGSTOPped) holds
    up only its own streams: the other cameras' streams, ListCameras, GetCamera and
    admin calls answer within their deadlines, and its snapshot ends UNAVAILABLE."""
    client = gateway.client()  # every unary call carries the client's deadline (10 s)
    added_cameras.append("real-frozen")
    client.add_camera(camera("real-frozen", gateway.clip))
    frozen = gateway.wait_publishing("real-frozen")
    streams = {
        f"{kind} {camera_id}": gateway.read(
            client.stream_frames(camera_id, max_fps=5)
            if kind == "frames"
            else client.stream_detections([camera_id], include_empty=True, auto_resume=False)
        )
        for camera_id in (*BASE_CAMERAS, "real-frozen")
        for kind in ("frames", "detections")
    }
    for what, reader in streams.items():
        reader.wait_count(2, what=f"{what} before the freeze")

    with frozen_process(frozen.status.pid):
        for what, reader in streams.items():
            if "real-frozen" not in what:
                seen = len(reader.events)
                reader.wait_count(seen + 3, what=f"{what} while real-frozen is frozen")
        listed = {v.config.id for v in client.list_cameras()}
        assert {*BASE_CAMERAS, "real-frozen"} <= listed, f"ListCameras answers with every camera: {sorted(listed)}"
        other = client.get_camera("real-1")
        assert other.status is not None and other.status.state is CameraState.LIVE, f"real-1: {other.status}"
        added_cameras.append("real-admin")
        added = client.add_camera(camera("real-admin", gateway.clip).model_copy(update={"enabled": False}))
        assert added.config.id == "real-admin" and not added.config.enabled, "an admin call answers"
        client.remove_camera("real-admin")
        with pytest.raises(Unavailable) as snapshot_error:
            client.snapshot("real-frozen")
        assert "real-frozen" in str(snapshot_error.value), f"the error names the camera: {snapshot_error.value}"
        # While frozen, GetCamera("real-frozen") answers too, with the scheduler's view of it:
        # within a few seconds that view says the actor stopped answering.
        view = client.get_camera("real-frozen")
        assert view.config.id == "real-frozen", "GetCamera of the frozen camera answers"
        wait_until(
            lambda: client.get_camera("real-frozen").status.state is CameraState.UNRESPONSIVE,
            UNRESPONSIVE_WITHIN_S,
            lambda: f"real-frozen reported unresponsive; last view: {client.get_camera('real-frozen').status}",
        )
        reported = client.get_camera("real-frozen").status
        assert "not answered" in reported.reason, f"the reason says why: {reported.reason!r}"
        listed_live = {
            v.config.id for v in client.list_cameras() if v.status is not None and v.status.state is CameraState.LIVE
        }
        assert "real-frozen" not in listed_live, f"ListCameras no longer shows it live: {sorted(listed_live)}"
        frozen_streams = {w: r for w, r in streams.items() if "real-frozen" in w}
        for what, reader in frozen_streams.items():
            assert not reader.done.is_set(), f"{what} stays open (its hub retries): {reader.error!r}"

    # Thawed: the same streams deliver again (the hubs backed off and retried, never gave up).
    for what, reader in frozen_streams.items():
        seen = len(reader.events)
        reader.wait_count(seen + 2, what=f"{what} after the thaw")
    wait_until(
        lambda: client.get_camera("real-frozen").status.state is CameraState.LIVE,
        UNRESPONSIVE_WITHIN_S,
        lambda: f"real-frozen live again after the thaw; last view: {client.get_camera('real-frozen').status}",
    )
    gateway.stop_readers(streams.values())
    for what, reader in streams.items():
        assert reader.error is None, f"{what}: {reader.error!r}"


def scheduler_pid(gateway: RealGateway) -> int:
    import ray

    from cluster.scheduler.actor import get_scheduler

    assert gateway.serve_path is not None
    actor = get_scheduler(gateway.serve_path.namespace)
    return ray.get(actor.__ray_call__.remote(lambda _self: os.getpid()), timeout=30)


def test_a_frozen_scheduler_leaves_reads_answered_and_writes_refused_fast(gateway: RealGateway) -> None:
    """The scheduler actor SIGSTOPped: ListCameras and GetCamera answer from the front
    door's last known view, AddCamera is UNAVAILABLE (nothing changed) long before the
    client's deadline, and the live streams go on (they never pass through the scheduler)."""
    client = gateway.client()
    before = {v.config.id for v in client.list_cameras()}
    reader = gateway.read(client.stream_frames(BASE_CAMERAS[0], max_fps=5))
    reader.wait_count(2, what="frames before the freeze")

    with frozen_process(scheduler_pid(gateway)):
        listed = {v.config.id for v in client.list_cameras()}
        one = client.get_camera(BASE_CAMERAS[0])
        with pytest.raises(Unavailable) as refused:  # not DEADLINE_EXCEEDED: answered within the client's 10 s
            client.add_camera(camera("real-while-frozen", gateway.clip))
        seen = len(reader.events)
        reader.wait_count(seen + 3, what="frames while the scheduler is frozen")

    assert listed == before, f"the last known cameras: {sorted(listed)} vs {sorted(before)}"
    assert one.config.id == BASE_CAMERAS[0], one
    assert "nothing was changed" in str(refused.value), refused.value
    assert "real-while-frozen" not in {v.config.id for v in client.list_cameras()}, "the refused write left nothing"
    gateway.stop_readers([reader])
    assert reader.error is None, f"the stream survived the freeze: {reader.error!r}"


def test_draining_over_grpc_reaches_the_real_scheduler(gateway: RealGateway) -> None:
    """DrainNode goes to the scheduler, not a stand-in: an unknown node is NOT_FOUND naming
    the alive ones, and the only node cannot be drained (FAILED_PRECONDITION, cameras kept)."""
    from cluster.client import ClientError

    client = gateway.client()
    (node,) = [n for n in client.cluster_status().nodes if n.alive]
    with pytest.raises(NotFound) as unknown:
        client.drain_node("no-such-node")
    with pytest.raises(ClientError) as refused:
        client.drain_node(node.node_id)

    assert node.node_id[:8] in str(unknown.value), f"the alive nodes are named: {unknown.value}"
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION, refused.value
    listed = {v.config.id for v in client.list_cameras() if v.node_id == node.node_id}
    assert set(BASE_CAMERAS) <= listed, f"the cameras stay on the node: {sorted(listed)}"


def test_a_privacy_mask_is_black_in_frames_received_over_grpc(gateway: RealGateway, added_cameras: list[str]) -> None:
    """The mask is burnt in at the camera: snapshots and live frames over gRPC have the
    masked area black and the rest of the picture as it is."""
    client = gateway.client()
    masked = CameraConfig.model_validate(
        camera("real-masked", gateway.clip).model_dump()
        | {"privacy": {"masks": [[[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]]}}
    )
    added_cameras.append("real-masked")
    client.add_camera(masked)
    gateway.wait_publishing("real-masked")
    reader = gateway.read(client.stream_frames("real-masked", max_fps=5))
    reader.wait_count(2, what="live frames of the masked camera")
    gateway.stop_readers([reader])

    for what, jpeg in (("snapshot", client.snapshot("real-masked").jpeg), ("live frame", reader.events[-1].frame.jpeg)):
        image = decode(jpeg)
        width = image.shape[1]
        left, right = image[:, : width // 2 - 2], image[:, width // 2 + 2 :]
        assert left.max() <= 16, f"the {what}'s masked half is black (brightest {left.max()})"
        assert right.mean() > 20, f"the {what}'s other half is the picture (mean {right.mean():.1f})"
