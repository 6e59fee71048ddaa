"""Soak: `matthan serve` with N cameras, rules and events, and two subscribers per camera,
for a long time; does anything grow, stall or get lost?

    python -m bench.soak --cameras 32 --minutes 30

The production path, as a duty room runs it: a `matthan serve` process (local Ray, the
scheduler, the event writer, the gRPC front door, /metrics) with N cameras looping
`car-detection.mp4` in real time, motion analysis at 5 fps, a line across the road and a
zone over the view (so events are made all the time, stored and streamed). Two
subscriber processes, each with one detection stream over every camera, one event
stream and a 1 fps frame stream per camera (a duty-room wall), run beside it.

Every `--sample-s` seconds this process records, from outside (psutil): USS, open file
descriptors and threads of every camera actor (pids from `ListCameras`), of the other
Ray actors (scheduler, event writer: found by process title), and of the front door
(the serve process); and how many cameras are live.

At the end it prints, per process kind: first and last value and the slope over the
run after the warm-up (least squares, per hour), cameras live at the end, and events:
stored in the run's window (`CountEvents`), seen by each subscriber's event stream,
and the store's dropped and lost revisions from /metrics (the goal for both is 0).
Not a test (no assertions): the figures go into docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml

from tests.fixtures.streams import free_port

from .common import local_ray_cpus, print_table, shared_dir

LINE = {"name": "middle", "start": [0.0, 0.5], "end": [1.0, 0.5]}
ZONE = {"name": "view", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]], "inertia": 2}
EDGE_MARGIN_S = 60.0
START_TIMEOUT_S = 600.0  # 32+ actor processes start slowly on a 2-core machine


@dataclass
class Sample:
    at: float  # seconds since the measurement started
    live: int
    configured: int
    load: float  # 1-minute load average
    # kind -> list of (uss bytes, fds, threads), one per process of that kind
    processes: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)


def write_config(directory: Path, cameras: int, clip: Path, grpc_port: int, metrics_port: int) -> Path:
    config = {
        "cameras": [
            {
                "id": f"soak-{i:02d}",
                "source": {"url": str(clip), "loop": True, "realtime": True},
                "analysis": {"fps": 5},
                "rules": {"zones": [ZONE], "lines": [LINE]},
            }
            for i in range(cameras)
        ],
        "runtime": {"state_dir": str(directory / "state"), "ray": {"num_cpus": local_ray_cpus(cameras)}},
        "server": {
            "host": "127.0.0.1",
            "port": grpc_port,
            "allow_unauthenticated": True,
            "file_roots": [str(clip.parent)],
        },
        "metrics": {"host": "127.0.0.1", "port": metrics_port, "refresh_interval_s": 5},
    }
    path = directory / "cameras.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


# ----------------------------------------------------------------- subscribers


def _subscriber(target: str, camera_ids: list[str], seconds: float, results: mp.Queue) -> None:
    """One subscriber process: a detection stream over every camera, an event stream and
    a 1 fps frame stream per camera, for `seconds`; puts its counts on `results`."""
    import grpc

    from cluster.client import ClientError, MatthanClient

    client = MatthanClient(target)
    counts: dict[str, int] = defaultdict(int)
    event_ids: set[str] = set()
    first_start: list[float] = []  # start time of the first event this subscriber saw
    errors: list[str] = []
    streams: list = []
    lock = threading.Lock()

    def run(name: str, body) -> None:
        try:
            body()
        except (ClientError, grpc.RpcError) as exc:  # a stream that ended early is a finding, reported below
            with lock:
                errors.append(f"{name}: {type(exc).__name__}: {exc}"[:300])

    def detections() -> None:
        stream = client.stream_detections(camera_ids)
        streams.append(stream)
        for update in stream:
            with lock:
                counts["detection_batches"] += 1
                if update.data_loss is not None:
                    counts["detection_loss_reports"] += 1

    def events() -> None:
        stream = client.events.stream()
        streams.append(stream)
        for update in stream:
            with lock:
                counts["event_revisions"] += 1
                event_ids.add(update.event.event_id)
                if not first_start:
                    first_start.append(update.event.start_time)

    def frames(camera_id: str) -> None:
        stream = client.stream_frames(camera_id, max_fps=1.0, max_width=320)
        streams.append(stream)
        for _ in stream:
            with lock:
                counts["frames"] += 1

    threads = [threading.Thread(target=run, args=("detections", detections), daemon=True)]
    threads.append(threading.Thread(target=run, args=("events", events), daemon=True))
    threads += [
        threading.Thread(target=run, args=(f"frames {c}", lambda c=c: frames(c)), daemon=True) for c in camera_ids
    ]
    for thread in threads:
        thread.start()
    connected_at = time.time()
    time.sleep(seconds)
    stopped_at = time.time()
    for stream in streams:
        stream.cancel()
    for thread in threads:
        thread.join(10)
    results.put(
        {
            "counts": dict(counts),
            "event_ids": sorted(event_ids),
            "first_start": first_start[0] if first_start else None,
            "connected_at": connected_at,
            "stopped_at": stopped_at,
            "errors": errors,
        }
    )


# ----------------------------------------------------------------- sampling


def _process_kind(proc: psutil.Process, camera_pids: set[int], serve_pid: int) -> str | None:
    if proc.pid == serve_pid:
        return "front door (matthan serve)"
    if proc.pid in camera_pids:
        return "camera actor"
    try:
        title = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    if title.startswith("ray::") and "IDLE" not in title:
        return title.split()[0].removeprefix("ray::").split(".")[0] + " actor"
    return None


def _usage(proc: psutil.Process) -> tuple[int, int, int] | None:
    try:
        with proc.oneshot():
            return proc.memory_full_info().uss, proc.num_fds(), proc.num_threads()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def take_sample(client, serve: psutil.Process, started: float) -> Sample:
    views = client.list_cameras()
    live = sum(1 for v in views if v.status is not None and v.status.state.value == "live")
    camera_pids = {v.status.pid for v in views if v.status is not None and v.status.pid}
    sample = Sample(time.monotonic() - started, live, len(views), os.getloadavg()[0])
    for proc in [serve, *serve.children(recursive=True)]:
        kind = _process_kind(proc, camera_pids, serve.pid)
        usage = _usage(proc) if kind else None
        if kind and usage:
            sample.processes.setdefault(kind, []).append(usage)
    return sample


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per hour."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return float("nan")
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / var * 3600.0


def metric_total(metrics_port: int, name: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    total = 0.0
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name:
                total += sample.value
    return total


# ----------------------------------------------------------------- report


def report(samples: list[Sample], warmup_s: float, subscribers: list[dict], events: dict, minutes: float) -> None:
    kinds = sorted({k for s in samples for k in s.processes})
    rows = []
    for kind in kinds:
        series = [(s.at, s.processes[kind]) for s in samples if kind in s.processes]
        after = [(t, ps) for t, ps in series if t >= warmup_s] or series
        first, last = after[0][1], after[-1][1]

        def mean(ps, i):
            return sum(p[i] for p in ps) / len(ps)

        uss_points = [(t, mean(ps, 0) / 2**20) for t, ps in after]
        rows.append(
            [
                kind,
                str(len(last)),
                f"{mean(first, 0) / 2**20:.1f} -> {mean(last, 0) / 2**20:.1f}",
                f"{slope_per_hour(uss_points):+.2f}",
                f"{mean(first, 1):.0f} -> {mean(last, 1):.0f}",
                f"{mean(first, 2):.0f} -> {mean(last, 2):.0f}",
            ]
        )
    print_table(
        f"Soak: {samples[-1].configured} cameras, {minutes:g} min (slopes after {warmup_s:.0f} s of warm-up)",
        ["process", "count", "USS MB (mean per process)", "USS slope MB/h", "fds", "threads"],
        rows,
    )
    live = [s.live for s in samples]
    print(f"cameras live: min {min(live)}, at the end {samples[-1].live} of {samples[-1].configured}")
    loads = [s.load for s in samples]
    print(f"load average (1 min) over the run: mean {sum(loads) / len(loads):.1f}, max {max(loads):.1f}")
    for i, sub in enumerate(subscribers):
        seen = set(sub["event_ids"])
        # Stored events that started while this subscriber was streaming (a margin at each end
        # for its connection and the writer's last batch) and that it never received.
        begin = (sub["first_start"] or float("inf")) + EDGE_MARGIN_S
        expected = {
            e for e, start in events["stored_starts"].items() if begin <= start <= events["end"] - EDGE_MARGIN_S
        }
        print(
            f"subscriber {i + 1}: {sub['counts']}; distinct events seen {len(seen)}; "
            f"stored while it streamed {len(expected)}, of which it missed {len(expected - seen)}; "
            f"errors {len(sub['errors'])} {sub['errors'][:3]}"
        )
    print(
        f"events stored in the window: {events['stored']}; store dropped revisions {events['dropped']:g}, "
        f"lost revisions {events['lost']:g}"
    )
    if subscribers:
        union = set().union(*(set(s["event_ids"]) for s in subscribers))
        common = set.intersection(*(set(s["event_ids"]) for s in subscribers))
        print(f"events seen by any subscriber {len(union)}, by every subscriber {len(common)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=32, help="cameras (1-64)")
    parser.add_argument("--minutes", type=float, default=30.0, help="measured run length")
    parser.add_argument("--sample-s", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--warmup-s", type=float, default=120.0, help="seconds left out of the slopes")
    parser.add_argument("--subscribers", type=int, default=2, help="subscriber processes (each sees every camera)")
    args = parser.parse_args(argv)
    if not 1 <= args.cameras <= 64:
        parser.error("--cameras must be between 1 and 64")
    clip = shared_dir() / "media" / "car-detection.mp4"
    if not clip.is_file():
        parser.error(f"clip {clip} does not exist (set MATTHAN_SHARED)")

    from cluster.client import ClientError, EventSelection, MatthanClient

    directory = Path(tempfile.mkdtemp(prefix="matthan-soak-"))
    grpc_port, metrics_port = free_port(), free_port()
    config = write_config(directory, args.cameras, clip, grpc_port, metrics_port)
    target = f"127.0.0.1:{grpc_port}"
    log = open(directory / "serve.log", "w")  # noqa: SIM115 - the serve process writes to it until the end
    proc = subprocess.Popen(
        [sys.executable, "-m", "cluster.cli.main", "serve", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "RAY_ADDRESS": ""},
    )
    print(f"matthan serve pid {proc.pid}, logs in {directory / 'serve.log'}")
    client = MatthanClient(target)
    ids = [f"soak-{i:02d}" for i in range(args.cameras)]
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                views = client.list_cameras()
                if sum(1 for v in views if v.status is not None and v.status.state.value == "live") == len(ids):
                    break
            except ClientError:  # not up yet
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"the cameras did not all go live within {START_TIMEOUT_S:.0f} s; see the log")
            time.sleep(2)
        print(f"all {len(ids)} cameras live; soaking for {args.minutes:g} min")
        window_start = time.time()
        results: mp.Queue = mp.get_context("spawn").Queue()
        seconds = args.minutes * 60.0
        subscribers = [
            mp.get_context("spawn").Process(target=_subscriber, args=(target, ids, seconds, results))
            for _ in range(args.subscribers)
        ]
        for sub in subscribers:
            sub.start()
        serve = psutil.Process(proc.pid)
        started = time.monotonic()
        samples: list[Sample] = []
        while time.monotonic() - started < seconds:
            try:
                samples.append(take_sample(client, serve, started))
            except (
                ClientError,
                psutil.Error,
            ) as exc:  # one missed sample is a gap in the series, not the end of the run
                print(f"sample failed at {time.monotonic() - started:.0f} s: {exc}")
            time.sleep(args.sample_s)
        samples.append(take_sample(client, serve, started))
        gathered = [results.get(timeout=120) for _ in subscribers]
        for sub in subscribers:
            sub.join(30)
        time.sleep(10)  # the writer commits what the cameras made last
        window_end = time.time()
        stored_starts = {
            e.event_id: e.start_time
            for e in client.events.search_all(EventSelection(time_from=window_start, time_to=window_end), page_size=500)
        }
        events = {
            "stored": len(stored_starts),
            "stored_starts": stored_starts,
            "end": window_end - 10.0,
            "dropped": metric_total(metrics_port, "matthan_event_store_dropped_events_total"),
            "lost": metric_total(metrics_port, "matthan_event_store_lost_revisions_total"),
        }
        report(samples, args.warmup_s, gathered, events, args.minutes)
        raw = {"subscribers": gathered, "stored_starts": stored_starts, "samples": [vars(x) for x in samples]}
        (directory / "soak.json").write_text(json.dumps(raw))
        print(f"raw figures in {directory / 'soak.json'}")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


if __name__ == "__main__":
    main()
