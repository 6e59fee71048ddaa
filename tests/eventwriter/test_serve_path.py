"""Events end to end on the serve path: the scheduler and a real camera actor on local
Ray playing `car-detection.mp4` in real time with a line across the road, the event
writer actor (`ensure_event_writer`, as `matthan serve` creates it) following its ring
into SQLite, and the gRPC front door reading the store through `EventWriterClient`.

One scheduler, writer and gateway are shared by the module (actor start-up is the
expensive part). Tests run in file order: the kill -9 and the stopped-writer tests
come after the live ones.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from cluster.client import EventSelection, MatthanClient
from cluster.config import CameraConfig, EventsConfig
from cluster.config.server import ServerConfig
from cluster.domain import EventType
from cluster.events import ALL_EVENTS, EventFilter, Order
from cluster.eventwriter.actor import ensure_event_writer, get_event_writer
from cluster.eventwriter.client import EventWriterClient
from cluster.eventwriter.settings import EventWriterSettings
from cluster.gateway.event_feed import EventFeedSettings
from cluster.gateway.server import GatewayServer
from tests.conftest import test_file_roots
from tests.fixtures.serve_path import ServePath
from tests.fixtures.waiting import wait_until
from tests.gateway.fakes import LoopThread

pytestmark = pytest.mark.slow

LINE = {"lines": [{"name": "middle", "start": [0.0, 0.5], "end": [1.0, 0.5]}]}
# A zone over the whole view, entered and left by every moving region: many revisions.
BUSY_RULES = {"zones": [{"name": "view", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]], "inertia": 1}], **LINE}
START_TIMEOUT_S = 120.0  # actor processes start slowly on a busy 2-core machine
EVENT_TIMEOUT_S = 90.0  # the clip loops every 30 s with 4 crossings; generous for a loaded machine
FEED = EventFeedSettings(pull_timeout_s=1.0, retry_initial_s=0.1, retry_max_s=0.5)


def road_camera(camera_id: str, clip: Path, rules: dict, **output: object) -> CameraConfig:
    return CameraConfig.model_validate(
        {
            "id": camera_id,
            "source": {"url": str(clip), "loop": True, "realtime": True},
            "rules": rules,
            "output": output,
        }
    )


class EventsPath:
    """Scheduler + camera + event writer + gateway, on one event-loop thread."""

    def __init__(self, clip: Path, state_dir: Path):
        self.clip = clip
        self.state_dir = state_dir.resolve()
        self.loop_thread = LoopThread()
        self.serve_path: ServePath | None = None
        self.writer: EventWriterClient | None = None
        self.server: GatewayServer | None = None
        self.client: MatthanClient | None = None

    def start(self) -> None:
        config = ServerConfig(
            host="127.0.0.1", port=0, allow_unauthenticated=True, grace_period_s=0.5, file_roots=test_file_roots()
        )

        async def start() -> None:
            self.serve_path = await ServePath.start(
                self.state_dir, [road_camera("road", self.clip, LINE)], prefix="ev-serve"
            )
            events = EventsConfig.model_validate({"batch": {"flush_interval_s": 0.2}})
            settings = EventWriterSettings(namespace=self.serve_path.namespace, state_dir=self.state_dir, events=events)
            self.writer = EventWriterClient(ensure_event_writer(settings), settings.namespace)
            self.server = GatewayServer(self.serve_path.client, config, events=self.writer, event_feed_settings=FEED)
            await self.server.start()

        self.loop_thread.run(start(), timeout=90)
        self.client = MatthanClient(f"127.0.0.1:{self.server.port}", timeout_s=30)

    def run(self, coro, timeout: float = 60.0):
        return self.loop_thread.run(coro, timeout)

    def store_events(self, **filter_fields) -> list:
        """Every stored event (newest revision), oldest first, read through the writer actor."""
        out: list = []
        cursor = None
        while True:
            page = self.run(
                self.writer.query(EventFilter(**filter_fields), order=Order.OLDEST_FIRST, page_size=500, cursor=cursor)
            )
            out += page.events
            if not page.has_more:
                return out
            cursor = page.cursor

    def ring(self, camera_id: str):
        """The camera's whole event ring (what it still holds)."""

        async def pull():
            handle = await self.serve_path.client.handle(camera_id)
            return await handle.pull_events(0, 100_000, 0.0)

        return self.run(pull())

    def writer_pid(self) -> int:
        return self.run(self.writer.pid())

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        try:
            if self.server is not None:
                self.run(self.server.stop(0), timeout=30)
            if self.writer is not None:
                self.run(self.writer.shutdown(), timeout=60)
        finally:
            try:
                if self.serve_path is not None:
                    self.run(self.serve_path.stop(), timeout=90)
            finally:
                self.loop_thread.close()


@pytest.fixture(scope="module")
def shared_path(media: Path, tmp_path_factory: pytest.TempPathFactory):
    holder: dict[str, EventsPath] = {}
    yield holder, media / "car-detection.mp4", tmp_path_factory.mktemp("events-state")
    if "path" in holder:
        holder["path"].close()


@pytest.fixture
def path(ray_local, shared_path) -> EventsPath:
    holder, clip, state_dir = shared_path
    if "path" not in holder:
        started = EventsPath(clip, state_dir)
        try:
            started.start()
        except BaseException:
            started.close()
            raise
        holder["path"] = started
    return holder["path"]


def crossings(events) -> list:
    return [e for e in events if e.type is EventType.LINE_CROSSING]


def test_line_crossings_appear_in_query_and_stream_and_get_has_the_thumbnail(path: EventsPath) -> None:
    updates: list = []
    stream = path.client.events.stream(EventSelection(types=["line_crossing"]))

    def read() -> None:
        with contextlib.suppress(Exception):  # ends with the channel; the assertions look at `updates`
            for update in stream:
                updates.append(update)

    threading.Thread(target=read, daemon=True).start()
    found = wait_until(
        lambda: crossings(path.client.events.search(EventSelection(camera_ids=["road"])).events),
        START_TIMEOUT_S + EVENT_TIMEOUT_S,
        "a line crossing on the road in QueryEvents",
        tolerate_errors=True,  # UNAVAILABLE while the writer opens the store
    )
    wait_until(lambda: updates, EVENT_TIMEOUT_S, "a line crossing in StreamEvents")
    stream.cancel()
    assert all(u.event.type is EventType.LINE_CROSSING and u.event.camera_id == "road" for u in updates), (
        "the stream carries only what its filter asks for"
    )
    crossing = found[0]
    assert crossing.direction is not None and crossing.class_name == "motion", f"a counted crossing: {crossing}"
    full = path.client.events.get(crossing.event_id)
    assert full.thumbnail, "GetEvent returns the thumbnail"
    image = cv2.imdecode(np.frombuffer(full.thumbnail, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (180, 320), (
        f"a JPEG of the clip's view at the thumbnail width (768x432 -> 320x180), got {getattr(image, 'shape', None)}"
    )
    counts = path.client.events.count(EventSelection(types=["line_crossing"]), group_by=["direction"]).rows
    assert sum(r.count for r in counts) >= 1, "CountEvents counts them"


def test_kill_9_of_the_writer_loses_and_duplicates_nothing(path: EventsPath) -> None:
    # The store may still be opening (StoreNotOpen) when this test runs first: not yet, not an error.
    wait_until(path.store_events, EVENT_TIMEOUT_S, "events stored before the kill", tolerate_errors=True)
    before = {e.event_id: e.revision for e in path.store_events()}
    pid = path.writer_pid()
    os.kill(pid, signal.SIGKILL)  # mid-batch or between batches: the writer commits every 0.2 s
    killed_at = time.time()
    wait_until(lambda: path.writer_pid() != pid, 120, "Ray restarted the writer actor in a new process")
    # Events made while it was down wait in the ring; after the restart they arrive.
    wait_until(
        lambda: any(e.start_time > killed_at for e in path.store_events()),
        EVENT_TIMEOUT_S,
        "an event that started after the kill is stored",
        tolerate_errors=True,  # the restarted writer answers StoreNotOpen until its store is open
    )
    after = path.store_events()
    ids = [e.event_id for e in after]
    assert len(ids) == len(set(ids)), "each event once in the store"
    stored = {e.event_id: e.revision for e in after}
    assert all(stored.get(i, -1) >= r for i, r in before.items()), "every event accepted before the kill is there"
    ring = path.ring("road")
    assert ring.oldest_sequence <= 1, "the ring has not dropped anything in this test"

    held = ring.events  # everything the camera made since it started, before and after the kill

    def ring_is_stored() -> bool:
        now = {e.event_id: e.revision for e in path.store_events()}
        return all(now.get(e.event_id, -1) >= e.revision for e in held)

    wait_until(
        ring_is_stored, EVENT_TIMEOUT_S, "every revision the camera's ring held is in the store", tolerate_errors=True
    )


def test_a_writer_stopped_longer_than_a_ring_holds_counts_the_lost_revisions(path: EventsPath) -> None:
    busy = road_camera("busy", path.clip, BUSY_RULES, event_ring_size=16)
    path.client.add_camera(busy)
    try:
        wait_until(lambda: path.store_events(cameras={"busy"}), START_TIMEOUT_S + EVENT_TIMEOUT_S, "busy's events")
        pid = path.writer_pid()
        os.kill(pid, signal.SIGSTOP)
        try:
            # The writer cannot have pulled past what the ring held when it stopped.
            newest = path.ring("busy").newest_sequence
            wait_until(
                lambda: path.ring("busy").oldest_sequence > newest + 1,
                EVENT_TIMEOUT_S * 2,
                "the busy camera's ring dropped revisions the stopped writer had not pulled",
            )
        finally:
            os.kill(pid, signal.SIGCONT)

        def lost() -> float:
            snapshot = path.run(path.writer.event_store_snapshot())
            return snapshot.value("matthan_event_store_lost_revisions_total", camera="busy") or 0.0

        assert wait_until(lost, EVENT_TIMEOUT_S, "lost revisions counted for the busy camera") > 0
    finally:
        path.client.remove_camera("busy")


def test_the_writer_actor_is_found_again_not_duplicated(path: EventsPath) -> None:
    settings = EventWriterSettings(namespace=path.serve_path.namespace, state_dir=path.state_dir)
    again = ensure_event_writer(settings)
    assert again._actor_id == get_event_writer(path.serve_path.namespace)._actor_id, "one writer per namespace"
    assert path.run(path.writer.query(ALL_EVENTS, order=Order.NEWEST_FIRST, page_size=1, cursor=None)).events
