"""A real Prometheus scrapes real camera actors through our /metrics endpoint,
and every dashboard panel and alert rule expression returns data.

The control plane is the one `matthan serve` runs: the scheduler actor (a Ray
namespace and state directory of its own) and `SchedulerClient`, which is also
the metrics' scheduler source (`SchedulerReportSource(client.report)`). Cameras:
one live looping 160x96 clip, one pointing at a missing file (FAILED), and one
too big for the node (a 1280 px detector at 10 fps against a scheduler keeping
70% headroom of the 2-CPU node), which the scheduler reports unplaced and never starts.

The event store's metrics come from production code too: the event writer actor
(`ensure_event_writer`, as `matthan serve` creates it) follows the live camera's
event ring (a zone over its view) into SQLite, and the metrics service reads the
writer's metrics as `matthan serve` does (`events=EventWriterClient`). Two real
troubles make the alerts fire: the test holds the database's write lock for a few
seconds (the writer's commits fail: MatthanEventStoreErrors), then stops the
writer's process (SIGSTOP) until the camera's small ring has dropped revisions it
had not pulled (MatthanEventRevisionsLost).

What the scheduler cannot produce on one node (voluntary moves) is added to its
real snapshot; what needs the gateway (not running here) is fed through the real
metrics objects (GatewayMetrics, RecordingMetrics for verification and export) by a
feeder task, so those panels have data too. The event store's panels and alerts come
from the real event writer actor, and the batch panels from production code too: the
job manager actor runs a real reprocessing job over recorded footage while Prometheus
scrapes, and one job is cancelled, so outcomes move. Ray's own node metrics are
scraped beside ours (job "ray"), as in the example config.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import os
import shutil
import signal
import sqlite3
import threading
import time
import urllib.request

import pytest
import ray

from cluster.batch.planning import ReprocessRequest
from cluster.config import AnalysisConfig, CameraConfig, DetectorConfig, EventsConfig, MotionConfig, SourceConfig
from cluster.config.batch import BatchConfig
from cluster.config.metrics import MetricsConfig
from cluster.config.recording import RecordingConfig, RecordingMode, RetentionConfig
from cluster.demo import ClipSpec, ensure_demo_clips
from cluster.domain import EventPull
from cluster.eventwriter.actor import ensure_event_writer, get_event_writer
from cluster.eventwriter.client import EventWriterClient
from cluster.eventwriter.settings import EventWriterSettings
from cluster.jobrunner.actor import ensure_job_manager, get_job_manager
from cluster.jobrunner.client import JobManagerClient
from cluster.jobrunner.settings import JobRunnerSettings
from cluster.metrics.scheduler import SchedulerReportSource, SchedulerSnapshot
from cluster.metrics.service import MetricsService
from tests.batch.conftest import concatenate
from tests.fixtures.serve_path import ServePath
from tests.fixtures.waiting import wait_until
from tests.metrics.exposition import convention_problems

from .prometheus_server import PROMETHEUS, PrometheusServer
from .promql import (
    ALERTS,
    alert_rules,
    comparisons_as_bool,
    dashboard_files,
    label_values_query,
    load_dashboard,
    panel_expressions,
    substitute,
    variable_queries,
)

pytestmark = pytest.mark.slow

LIVE, BROKEN, HUGE = "metrics-e2e-live", "metrics-e2e-broken", "metrics-e2e-huge"
# Usable share of the node's CPUs (0.6 of the session Ray's 2): room for the two small
# cameras (0.23 cores each with learn_costs off), not for HUGE.
HEADROOM = 0.7
CLIP = ClipSpec("metrics-e2e", seed=21, people=3, vehicles=1, seconds=3.0, width=160, height=96)
DATA_TIMEOUT_S = 120.0
BATCH_COPIES = 180  # the 30 s road clip, back to back: 90 minutes of footage, busy for the whole test
# (one chain of segments, no warm-ups since issue 11: 30 minutes ended before the batch panels were asked)


class LoopThread:
    """An asyncio loop on its own thread: the scheduler client and metrics service live there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="e2e-loop", daemon=True)
        self._thread.start()

    def run(self, coro, timeout: float = 60.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


class WithMoves:
    """The real scheduler's snapshot plus a move per refresh: on one node the scheduler
    never moves a camera, and the moves panel needs a counter that moves."""

    def __init__(self, real: SchedulerReportSource):
        self.real = real
        self.calls = 0

    async def scheduler_snapshot(self) -> SchedulerSnapshot:
        snapshot = await self.real.scheduler_snapshot()
        self.calls += 1
        moves = {**snapshot.moves_total, "rebalance": snapshot.moves_total.get("rebalance", 0) + self.calls}
        return dataclasses.replace(snapshot, moves_total=moves)


async def feed(service: MetricsService, stop: asyncio.Event) -> None:
    """What the gateway would report while it works, and recordings verified and exported."""
    gw = service.gateway
    recordings = service.recordings
    for kind in ("frames", "detections"):
        gw.subscription_opened(LIVE, kind)
    gw.subscription_opened(LIVE, "detections")
    gw.subscription_closed(LIVE, "detections", "slow_consumer")
    while not stop.is_set():
        gw.messages_delivered(LIVE, "frames", 5)
        gw.messages_delivered(LIVE, "detections", 5)
        gw.messages_dropped(LIVE, "frames", "queue_full")
        for method, code, seconds in [
            ("matthan.v1.Cameras/ListCameras", "OK", 0.004),
            ("matthan.v1.Cameras/GetCamera", "NOT_FOUND", 0.002),
            ("matthan.v1.Cameras/StreamDetections", "CANCELLED", None),
        ]:
            gw.rpc_started(method)
            gw.rpc_finished(method, code, seconds)
        gw.subscription_opened(LIVE, "frames")
        gw.subscription_closed(LIVE, "frames", "closed")
        recordings.verified(LIVE, ok=False)
        recordings.exported(LIVE, masked=False, seconds=30.0)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


class LiveStack:
    """Cameras on Ray, the metrics service, the feeder and Prometheus; `close()`
    undoes whatever `start()` got to."""

    def __init__(self) -> None:
        self.loop: LoopThread | None = None
        self.serve_path: ServePath | None = None
        self.service: MetricsService | None = None
        self.writer: EventWriterClient | None = None
        self.prometheus: PrometheusServer | None = None
        self.jobs: JobManagerClient | None = None
        self.batch_job = ""
        self._feeder = None
        self._stop_feeding = asyncio.Event()
        self.deadline = time.monotonic() + DATA_TIMEOUT_S  # shared by every test's wait

    def start(self, ray, workdir, media) -> None:
        self.loop = LoopThread()
        [clip] = ensure_demo_clips(workdir / "clips", (CLIP,))
        cameras = [
            CameraConfig(
                id=LIVE,
                name="E2E live",
                source=SourceConfig(url=str(clip), loop=True, realtime=True),
                analysis=AnalysisConfig(fps=5.0, motion=MotionConfig(min_area=0.001)),
                rules={"zones": [{"name": "view", "polygon": [(0, 0), (1, 0), (1, 1), (0, 1)], "inertia": 1}]},
                output={"event_ring_size": 16},  # small: a stopped writer loses revisions soon
                # recordings: segments, a budget small enough for retention to delete some
                recording=RecordingConfig(
                    mode=RecordingMode.CONTINUOUS,
                    segment_s=2.0,
                    directory=workdir / "recordings",
                    min_free_bytes=0,
                    retention=RetentionConfig(max_bytes=100_000, interval_s=1.0),
                ),
            ),
            CameraConfig(id=BROKEN, name="E2E broken", source=SourceConfig(url=str(workdir / "missing.mp4"))),
            CameraConfig(
                id=HUGE,
                name="E2E too big",
                source=SourceConfig(url=str(clip), loop=True),
                analysis=AnalysisConfig(
                    fps=10.0, detector=DetectorConfig(model=workdir / "never-loaded.cfg", input_size=1280, max_fps=10.0)
                ),
            ),
        ]
        self.node_id = ray.get_runtime_context().get_node_id()
        node = next(n for n in ray.nodes() if n["NodeID"] == self.node_id)
        self.serve_path = self.loop.run(
            ServePath.start(
                workdir / "scheduler-state", cameras, prefix="metrics-e2e", headroom=HEADROOM, learn_costs=False
            )
        )
        control = self.serve_path.client
        self.events_state = (workdir / "events-state").resolve()
        events = EventsConfig.model_validate(
            {"store": {"busy_timeout_s": 0.1}, "batch": {"flush_interval_s": 0.2}, "retention": {"interval_s": 2}}
        )
        settings = EventWriterSettings(namespace=self.serve_path.namespace, state_dir=self.events_state, events=events)
        self.writer = EventWriterClient(ensure_event_writer(settings), settings.namespace)
        self.jobs = self.loop.run(self._start_job_manager(workdir, media))
        self.service = MetricsService(
            MetricsConfig(port=0, refresh_interval_s=1.0, stale_after_s=30.0),
            control,
            scheduler=WithMoves(SchedulerReportSource(control.report)),
            events=self.writer,
            batch=self.jobs,
        )
        self.loop.run(self.service.start())
        self.batch_job = self.loop.run(self._run_jobs(workdir))
        self._feeder = asyncio.run_coroutine_threadsafe(feed(self.service, self._stop_feeding), self.loop.loop)
        self.prometheus = PrometheusServer(
            workdir,
            [
                {"job_name": "matthan", "static_configs": [{"targets": [f"127.0.0.1:{self.service.server.port}"]}]},
                {
                    "job_name": "ray",
                    "static_configs": [{"targets": [f"{node['NodeManagerAddress']}:{node['MetricsExportPort']}"]}],
                },
            ],
            [ALERTS],
        )
        self.prometheus.start()
        self.variables = {
            "camera": f"({LIVE}|{BROKEN})",
            "node": self.node_id,
            "batch_job": self.batch_job,
            "datasource": "prometheus",
        }
        self.deadline = time.monotonic() + DATA_TIMEOUT_S
        self.make_event_store_trouble(settings.store_path)
        self.deadline = time.monotonic() + DATA_TIMEOUT_S

    def make_event_store_trouble(self, store_path) -> None:
        """Failed commits, then lost revisions, both in the real writer."""
        wait_until(self.stored, DATA_TIMEOUT_S, "the writer stored the live camera's events")
        # Prometheus must have scraped the counters before the trouble: increase() ignores a
        # series' first sample. Any value will do (on a loaded machine the writer may already
        # have lost a revision or failed a commit); the trouble below adds to it.
        wait_until(
            lambda: (
                self.prometheus.query('matthan_event_store_errors_total{operation="write"} >= 0')
                and self.prometheus.query(f'matthan_event_store_lost_revisions_total{{camera="{LIVE}"}} >= 0')
            ),
            DATA_TIMEOUT_S,
            "Prometheus scraped the event store's error and loss counters",
        )
        failed_before = self.store_errors("write")
        locker = sqlite3.connect(store_path, timeout=5.0, isolation_level=None)
        try:
            locker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
            wait_until(lambda: self.store_errors("write") > failed_before, DATA_TIMEOUT_S, "a failed commit counted")
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        pid = self.loop.run(self.writer.pid())
        os.kill(pid, signal.SIGSTOP)
        try:
            # The writer cannot have pulled past what the ring held when it stopped.
            newest = self.ring(LIVE).newest_sequence
            wait_until(
                lambda: self.ring(LIVE).oldest_sequence > newest + 1,
                DATA_TIMEOUT_S,
                "the ring dropped revisions the stopped writer had not pulled",
            )
        finally:
            os.kill(pid, signal.SIGCONT)

    def stored(self) -> bool:
        snapshot = self.loop.run(self.writer.event_store_snapshot())
        return (snapshot.value("matthan_event_store_batches_total") or 0) > 0

    def store_errors(self, operation: str) -> float:
        snapshot = self.loop.run(self.writer.event_store_snapshot())
        return snapshot.value("matthan_event_store_errors_total", operation=operation) or 0.0

    def ring(self, camera_id: str) -> EventPull:
        async def pull() -> EventPull:
            handle = await self.serve_path.client.handle(camera_id)
            return await handle.pull_events(0, 1, 0.0)

        return self.loop.run(pull())

    async def _start_job_manager(self, workdir, media):
        """The event writer and the job manager of the serve path's namespace (as `matthan serve`)."""
        assert self.serve_path is not None
        namespace, state_dir = self.serve_path.namespace, (workdir / "scheduler-state").resolve()
        footage = workdir / "footage"
        footage.mkdir(exist_ok=True)
        self.footage = concatenate(media / "car-detection.mp4", BATCH_COPIES, footage / "road_20261128T220000.mp4")
        ensure_event_writer(EventWriterSettings(namespace=namespace, state_dir=state_dir))
        # Batch room is the scheduler's: usable (2 CPUs less this test's 0.7 headroom) minus the
        # cameras' 0.46 leaves 0.14 cores, so a segment here reserves 0.1 of them.
        batch = BatchConfig(
            allowed_dirs=[footage],
            segment_s=30.0,
            warmup_s=5.0,
            max_in_flight=1,
            live_reserve_cpus=0,
            cpus_per_segment=0.1,
        )
        return JobManagerClient(
            ensure_job_manager(JobRunnerSettings(namespace=namespace, state_dir=state_dir, batch=batch)), namespace
        )

    async def _run_jobs(self, workdir) -> str:
        """A job cancelled at once (an outcome) and a long one running through the test; its id."""
        request = ReprocessRequest(LIVE, (str(self.footage),))
        cancelled = await self.jobs.submit(request, submitted_by="e2e")
        await self.jobs.cancel(cancelled.job_id)
        running = await self.jobs.submit(request, submitted_by="e2e")
        return running.job_id

    def wait_for_data(self, exprs: list[tuple[str, str]]) -> list[str]:
        """Poll until every expression returns a finite value; the ones that still do
        not by the shared deadline (at least one more look each), described."""
        deadline = max(self.deadline, time.monotonic() + 2.0)
        while True:
            empty = []
            for where, expr in exprs:
                try:
                    result = self.prometheus.query(expr)
                except Exception as exc:  # noqa: BLE001 - a query Prometheus refuses is a failure at once
                    return [f"{where}: {expr}\n    -> error {exc}"]
                if not any(math.isfinite(float(r["value"][1])) for r in result):
                    empty.append(f"{where}: {expr}\n    -> {result[:3] or 'no series'}")
            if not empty or time.monotonic() > deadline:
                return empty
            time.sleep(1.0)

    def close(self) -> None:
        if self.prometheus is not None:
            self.prometheus.stop()
        if self.loop is None:
            return
        try:
            if self._feeder is not None:
                self.loop.loop.call_soon_threadsafe(self._stop_feeding.set)
                self._feeder.result(10)
            if self.jobs is not None:
                with contextlib.suppress(Exception):
                    self.loop.run(self.jobs.cancel(self.batch_job))
                for actor in (get_job_manager(self.jobs.namespace), get_event_writer(self.jobs.namespace)):
                    if actor is not None:
                        with contextlib.suppress(Exception):
                            ray.kill(actor, no_restart=True)
        finally:
            try:
                if self.service is not None:
                    self.loop.run(self.service.stop())
                if self.writer is not None:
                    self.loop.run(self.writer.shutdown())
            finally:
                try:
                    if self.serve_path is not None:
                        self.loop.run(self.serve_path.stop())
                finally:
                    self.loop.close()


@pytest.fixture(scope="module")
def stack_holder():
    holder: dict[str, LiveStack] = {}
    yield holder
    if "stack" in holder:
        holder["stack"].close()


@pytest.fixture
def _own_ray(monkeypatch):
    """ray_local starts its own Ray (it passes num_cpus), but ray.init() joins a Ray
    that `ray start` left running on this machine (/tmp/ray/ray_current_cluster)
    and then refuses num_cpus. "local" always starts a new one."""
    monkeypatch.setenv("RAY_ADDRESS", "local")


@pytest.fixture
def stack(_own_ray, ray_local, stack_holder, tmp_path_factory, media) -> LiveStack:
    """Started by the first test that needs it, shared by the module (Ray itself is
    the session's `ray_local`)."""
    if not shutil.which(PROMETHEUS):
        pytest.fail(f"prometheus not found at {PROMETHEUS}: apt-get install prometheus")
    if "error" in stack_holder:
        pytest.fail(f"the live stack did not start: {stack_holder['error']}")
    if "stack" not in stack_holder:
        stack_holder["stack"] = LiveStack()
        try:
            stack_holder["stack"].start(ray_local, tmp_path_factory.mktemp("prometheus-e2e"), media)
        except Exception as exc:
            stack_holder["error"] = repr(exc)
            raise
    return stack_holder["stack"]


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda p: p.name)
def test_every_dashboard_panel_returns_data(stack, path):
    board = load_dashboard(path)
    exprs = [(f"{path.name} / {title}", substitute(expr, stack.variables)) for title, expr in panel_expressions(board)]
    empty = stack.wait_for_data(exprs)
    assert empty == [], "panels without data:\n" + "\n".join(empty)


def test_every_alert_rule_expression_returns_its_signal(stack):
    exprs = [(rule["alert"], comparisons_as_bool(rule["expr"])) for rule in alert_rules()]
    empty = stack.wait_for_data(exprs)
    assert empty == [], "alert expressions without data:\n" + "\n".join(empty)


def test_the_event_store_alerts_fire_from_the_writers_own_metrics(stack):
    """The failed commits and the lost revisions of the real writer (`make_event_store_trouble`)."""
    wanted = {("MatthanEventStoreErrors", "write"), ("MatthanEventRevisionsLost", LIVE)}

    def firing() -> set[tuple[str, str | None]]:
        alerts = [a for a in stack.prometheus.api("alerts")["alerts"] if a["state"] == "firing"]
        return {(a["labels"]["alertname"], a["labels"].get("operation") or a["labels"].get("camera")) for a in alerts}

    def describe() -> str:
        seen = {
            name: [(r["metric"], r["value"][1]) for r in stack.prometheus.query(name)]
            for name in ("matthan_event_store_errors_total", "matthan_event_store_lost_revisions_total")
        }
        return f"want {wanted} firing; firing: {firing()}; in Prometheus: {seen}"

    wait_until(lambda: wanted <= firing(), DATA_TIMEOUT_S, describe)


def test_alert_rules_evaluate_without_errors(stack):
    deadline = max(stack.deadline, time.monotonic() + 2.0)
    while True:
        rules = [r for g in stack.prometheus.api("rules")["groups"] for r in g["rules"]]
        evaluated = all(not r.get("lastEvaluation", "0001").startswith("0001") for r in rules)  # 0001: never
        if evaluated or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert len(rules) == len(alert_rules()), "Prometheus did not load every rule"
    unhealthy = [f"{r['name']}: {r.get('lastError')}" for r in rules if r["health"] != "ok"]
    assert unhealthy == []


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda p: p.name)
def test_every_variable_query_finds_values(stack, path):
    """label_values(selector, label): the selector has series, and they carry the label."""
    missing = []
    for name, query in variable_queries(load_dashboard(path)):
        selector, label = label_values_query(substitute(query, stack.variables))
        if stack.wait_for_data([(f"${name}", selector)]):
            missing.append(f"${name}: no series for {selector}")
            continue
        if not {r["metric"].get(label) for r in stack.prometheus.query(selector)} - {None, ""}:
            missing.append(f"${name}: no {label} label on {selector}")
    assert missing == [], "template variables without values: " + ", ".join(missing)


def test_the_live_exposition_follows_the_conventions(stack):
    with urllib.request.urlopen(stack.service.server.url, timeout=10) as response:
        text = response.read().decode()
    assert f'matthan_camera_up{{camera="{LIVE}"}}' in text
    problems = convention_problems(text, {"camera": {LIVE, BROKEN, HUGE}, "node": {stack.node_id, ""}})
    assert problems == []
