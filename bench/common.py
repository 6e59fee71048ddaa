"""Helpers shared by the benchmarks: shared-data path, percentiles, process CPU, tables,
and the cameras run the way `matthan serve` runs them (scheduler actor + SchedulerClient)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from cluster.config import CameraConfig
    from cluster.scheduler.client import SchedulerClient

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    return Path(os.environ.get("MATTHAN_SHARED", REPO_ROOT.parent / "shared")).resolve()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class CpuSample:
    """CPU seconds (user+system) of a set of processes, tolerant of exits."""

    seconds: float

    @staticmethod
    def of(pids: list[int]) -> CpuSample:
        return CpuSample(sum(_cpu_seconds(pid) for pid in pids))


def _cpu_seconds(pid: int) -> float:
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0  # exited: its CPU is no longer known
    return t.user + t.system


def machine_busy_seconds() -> float:
    t = psutil.cpu_times()
    return t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)


def print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    Console(width=max(140, Console().width)).print(table)


def local_ray_cpus(cameras: int) -> int:
    """Logical CPUs of the local Ray: this machine's own (since issue 9 the scheduler
    admits cameras by what they measure, so it needs no inflated CPU count; cameras
    beyond what the machine can carry within the headroom wait, unplaced)."""
    return os.cpu_count() or 1


async def start_cameras(
    namespace: str, state_dir: Path, cameras: Sequence[CameraConfig], **scheduler: Any
) -> SchedulerClient:
    """The scheduler actor of `namespace` (state in `state_dir`, which must be new) with
    `cameras` as its desired set, and its client, as `matthan serve` sets them up
    (`scheduler`: settings of the `scheduler:` section, e.g. headroom)."""
    from cluster.scheduler.actor import ensure_scheduler
    from cluster.scheduler.client import SchedulerClient
    from cluster.scheduler.settings import SchedulerSettings

    settings = SchedulerSettings(namespace=namespace, state_dir=state_dir.resolve(), **scheduler)
    client = SchedulerClient(ensure_scheduler(settings), namespace)
    if not await client.seed(list(cameras)):
        await client.shutdown(stop_cameras=True)
        raise RuntimeError(f"a scheduler in namespace {namespace!r} already had cameras; is another run going on?")
    return client


async def wait_cameras_live(client: SchedulerClient, ids: Sequence[str], timeout_s: float) -> list[int]:
    """Until every camera is LIVE and publishing; returns the actor pids, in `ids` order."""
    return list((await live_cameras(client, ids, timeout_s)).values())


async def live_cameras(
    client: SchedulerClient, ids: Sequence[str], timeout_s: float, settled_s: float | None = None
) -> dict[str, int]:
    """Until every camera is LIVE and publishing; returns the live ones' actor pids by id, in
    `ids` order. With `settled_s`, the scheduler may keep some waiting (admission: more asked
    than the node holds): then it returns the live ones once none has gone live for
    `settled_s`, or at the timeout, and raises only if none is live."""
    deadline = time.monotonic() + timeout_s
    count, changed_at = -1, time.monotonic()
    from cluster.domain.errors import SchedulerUnavailable

    while True:
        try:
            views = {v.config.id: v for v in await client.list_cameras()}
        except SchedulerUnavailable:
            # A start storm starves the scheduler actor past its deadline (96 cameras on 2
            # cores, issue 16): ask again, until our own deadline.
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1.0)
            continue
        ready = {
            i: views[i].status.pid  # type: ignore[union-attr]
            for i in ids
            if i in views
            and views[i].status is not None
            and views[i].status.state.value == "live"
            and views[i].status.last_sequence > 0
        }
        if len(ready) != count:
            count, changed_at = len(ready), time.monotonic()
        if len(ready) == len(ids):
            return ready
        settled = (
            settled_s is not None
            and ready
            and time.monotonic() - changed_at >= settled_s
            and await _only_unplaced_left(client, ids, ready)
        )
        if settled or time.monotonic() > deadline:
            if settled_s is not None and ready:
                return ready
            states = {i: (v.status.state.value, v.status.reason) if v.status else None for i, v in views.items()}
            raise RuntimeError(f"cameras not live within {timeout_s:g} s: {states}")
        await asyncio.sleep(1.0)


@contextlib.contextmanager
def local_ray(cameras: int, namespace: str) -> Iterator[None]:
    """A local Ray of this machine's size for one benchmark run, shut down after it."""
    import ray

    ray.init(
        address="local",
        num_cpus=local_ray_cpus(cameras),
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
        namespace=namespace,
    )
    try:
        yield
    finally:
        ray.shutdown()


@dataclass
class RunningCameras:
    """Cameras placed by the scheduler and live: their actor pids and handles, in order."""

    pids: list[int]
    handles: list[Any]
    asked: int  # cameras seeded; len(pids) of them are live (the rest wait for room, if allowed)

    async def statuses(self) -> list:
        return list(await asyncio.gather(*(h.status() for h in self.handles)))


async def _only_unplaced_left(client: SchedulerClient, ids: Sequence[str], ready: dict[str, int]) -> bool:
    """Whether every camera not yet live is one the scheduler has no room for (unplaced), not
    one still starting or waiting its start turn: on a saturated machine a start can outlast
    any quiet period. Prints why the rest wait, for the benchmark's record."""
    from cluster.domain.errors import SchedulerUnavailable

    try:
        report = await client.report()
    except SchedulerUnavailable:
        return False
    unplaced = {u.camera_id: u for u in report.unplaced}
    waiting = [c for c in report.cameras if c.camera_id in ids and c.camera_id not in ready]
    if any(c.camera_id not in unplaced for c in waiting):
        return False
    if waiting:
        first = unplaced[waiting[0].camera_id]
        print(f"{len(waiting)} cameras wait unplaced; e.g. {first.camera_id}: {first.detail}", file=sys.stderr)
    return True


@contextlib.asynccontextmanager
async def running_cameras(
    namespace: str,
    configs: Sequence[CameraConfig],
    timeout_s: float,
    settled_s: float | None = None,
    **scheduler: Any,
) -> AsyncIterator[RunningCameras]:
    """`configs` seeded into a new scheduler (state in a temporary directory), until all are
    live (or, with `settled_s`, until the live ones stop growing: see `wait_cameras_live`);
    stopped with the scheduler on exit."""
    ids = [c.id for c in configs]
    with tempfile.TemporaryDirectory(prefix=f"{namespace}-") as state_dir:
        control = await start_cameras(namespace, Path(state_dir), configs, **scheduler)
        try:
            live = await live_cameras(control, ids, timeout_s, settled_s)
            yield RunningCameras(list(live.values()), [await control.handle(i) for i in live], len(ids))
        finally:
            await control.shutdown(stop_cameras=True)


# Kernel thread names our code gives its threads (`cluster/support/threads.py`); the
# threads they start (OpenCV's pool) inherit them.
OUR_THREAD_PREFIXES = ("capture-", "analysis-", "recorder-")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu_by_role(pids: Sequence[int]) -> dict[str, float]:
    """CPU seconds so far of the threads of `pids` (camera actors), by role: "ours"
    (capture, analysis, recording and what they started), "main" (the actor's main
    thread: Ray's task loop running our methods, and Ray's periodic timers), "ray"
    (every other thread: Ray's core worker, its gRPC and event loops). Threads that
    exited are not counted."""
    used = {"ours": 0.0, "main": 0.0, "ray": 0.0}
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                comm = (task / "comm").read_text().strip()
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            seconds = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime
            role = "main" if task.name == str(pid) else "ours" if comm.startswith(OUR_THREAD_PREFIXES) else "ray"
            used[role] += seconds
    return used


def session_cpu_by_process() -> dict[int, tuple[str, float, float]]:
    """CPU seconds so far of this process and every process it started (the local Ray:
    GCS, raylet, workers, actors), by pid, with its kind (the Ray process title, else the
    program) and its start (epoch seconds). A worker that exited is counted in its
    parent's reaped children's times."""
    used: dict[int, tuple[str, float, float]] = {}
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
            title = process.cmdline()[:1]
            created = process.create_time()
        except psutil.Error:
            continue  # gone meanwhile
        kind = "driver" if process is me else (title[0].split(" ")[0] if title else process.name())
        kind = kind if kind.startswith("ray::") else os.path.basename(kind)
        used[process.pid] = (kind, times.user + times.system + times.children_user + times.children_system, created)
    return used


def ray_session_cpu() -> dict[str, float]:
    """`session_cpu_by_process`, added up by kind."""
    used: dict[str, float] = {}
    for kind, seconds, _created in session_cpu_by_process().values():
        used[kind] = used.get(kind, 0.0) + seconds
    return used


# psutil dates a process from the boot time in whole seconds: one started just after
# the first sample can look up to a second older than it.
CREATE_TIME_SLACK_S = 1.0


def session_cpu_used(
    before: dict[int, tuple[str, float, float]], after: dict[int, tuple[str, float, float]], since: float
) -> dict[str, float]:
    """CPU seconds each kind of process used between two `session_cpu_by_process` samples
    (the first taken at epoch `since`), process by process, under its kind at the end: a
    prestarted idle worker that became a camera actor meanwhile brings only the window's
    CPU, not its whole life's. A process missing from the first sample counts in full only
    if it started after it (one the first sample could not read is left out)."""
    used: dict[str, float] = {}
    for pid, (kind, total, created) in after.items():
        if pid in before:
            window = total - before[pid][1]
        elif created >= since - CREATE_TIME_SLACK_S:
            window = total
        else:
            continue
        used[kind] = used.get(kind, 0.0) + window
    return used


class SessionCpuMeter:
    """CPU seconds of the session's processes over a window, by kind, counting processes
    that exit inside it: a thread samples `session_cpu_by_process` every `every_s` and
    keeps each process's last reading, so a Ray worker that ran a task and was reaped
    before the window's end still brings what it used up to its last sample (at most
    `every_s` of its CPU is lost). The meter's own sampling (in the driver) is not counted."""

    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s = every_s
        self._since = time.time()
        self._before = session_cpu_by_process()
        self._last = dict(self._before)
        self._own_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="session-cpu-meter", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._last.update(session_cpu_by_process())
        self._own_s = time.thread_time()

    def stop(self) -> dict[str, float]:
        """End the window: CPU seconds by kind (`session_cpu_used` of the first and last readings)."""
        self._stop.set()
        self._thread.join()
        self._last.update(session_cpu_by_process())
        used = session_cpu_used(self._before, self._last, self._since)
        if "driver" in used:
            used["driver"] -= self._own_s
        return used


def serve_client_streams(
    started: Sequence[Any],
    streams: Sequence[Any],
    threads: Sequence[Any],
    clients: Sequence[Any],
    records: list,
    *,
    ready: Any,
    stop: Any,
    results: Any,
    ready_timeout_s: float,
) -> None:
    """A client process's life after it opened its streams: report how many delivered a
    first message within `ready_timeout_s`, stream until `stop`, then cancel, join, close
    and hand the records back."""
    deadline = time.monotonic() + ready_timeout_s
    for first in started:
        first.wait(max(0.0, deadline - time.monotonic()))
    ready.put((os.getpid(), sum(e.is_set() for e in started), len(started)))
    stop.wait()
    for stream in streams:
        stream.cancel()
    for thread in threads:
        thread.join(10)
    for client in clients:
        client.close()
    results.put(records)


async def collect_client_results(procs: Sequence[Any], results: Any) -> list:
    """Every client process's records (each puts one list), concatenated."""
    loop = asyncio.get_running_loop()
    collected: list = []
    for _ in procs:
        collected += await loop.run_in_executor(None, results.get, True, 120)
    return collected


async def stop_client_processes(procs: Sequence[Any], stop: Any) -> None:
    """Tell the client processes to stop and wait for each; one that hangs is terminated."""
    loop = asyncio.get_running_loop()
    stop.set()
    for proc in procs:
        await loop.run_in_executor(None, proc.join, 20)
        if proc.is_alive():
            proc.terminate()
