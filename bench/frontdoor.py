"""The gRPC front door under load: N real cameras, S subscribers each, vs. reading the actors directly.

    python -m bench.frontdoor --cameras 16 --subscribers 4 --seconds 60

N camera actors play car-detection.mp4 in real time with motion analysis at 5 fps,
placed and run by the scheduler actor and reached through `SchedulerClient`, the
control plane `matthan serve` runs. Two phases in one run, on the same actors:

1. Baseline, no gRPC: this process reads the actors through their camera handles the
   way the gateway's upstream loops do (one `latest_jpeg` long-poll loop and one
   `pull_detections` long-poll loop per camera), and records capture-to-receive
   latency and its own CPU.
2. Front door: a `GatewayServer` runs in this same process in front of the
   `SchedulerClient`, as in `matthan serve`. S subscribers
   per camera, each its own gRPC connection, stream frames at --max-fps AND
   detections (include_empty, so every batch counts). The subscribers run as
   threads in a few separate client processes, so the clients' Python (GIL,
   protobuf parsing) is not billed to the front door and does not slow it; their
   CPU is reported separately.

Prints, side by side: expected vs delivered frames and batches per second,
capture-to-client latency p50/p99 for frames and detections, reader-process CPU
per delivered frame, drop ratios, camera and machine CPU, load average, and
whether the issue's goal (p99 under 250 ms) is met.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from .common import (
    CpuSample,
    collect_client_results,
    local_ray_cpus,
    machine_busy_seconds,
    percentile,
    print_table,
    serve_client_streams,
    shared_dir,
    start_cameras,
    stop_client_processes,
    wait_cameras_live,
)

GOAL_P99_S = 0.250
START_TIMEOUT_S = 300.0  # 16 actor processes start slowly on a busy 2-core machine
READY_TIMEOUT_S = 120.0
LOAD: dict[str, tuple[float, float, float]] = {}  # os.getloadavg() at phase boundaries, for the report


# --------------------------------------------------------------- measurements


@dataclass
class StreamRecord:
    """What one reader saw. Frames: (receive, capture, frame_sequence, dropped_slow);
    detections: (receive, capture, sequence, publish, data_loss 0/1)."""

    kind: str  # "frames" or "detections"
    camera_id: str
    rows: list[tuple] = field(default_factory=list)
    error: str | None = None
    resumes: int = 0


@dataclass
class PhaseResult:
    name: str
    seconds: float
    frames_expected: float  # per second
    detections_expected: float  # per second
    streams: list[StreamRecord]
    reader_cpu_s: float
    camera_cpu_s: float
    machine_busy_s: float
    client_cpu_s: float | None = None
    window: tuple[float, float] = (0.0, 0.0)

    def rows(self, kind: str) -> list[tuple]:
        t0, t1 = self.window
        return [r for s in self.streams if s.kind == kind for r in s.rows if t0 <= r[0] <= t1]

    def latencies(self, kind: str) -> list[float]:
        return [r[0] - r[1] for r in self.rows(kind)]

    def detection_delivery(self) -> list[float]:
        return [r[0] - r[3] for r in self.rows("detections")]

    def detection_analysis(self) -> list[float]:
        """Capture → publish: the camera's own part (waiting for the frame, decode, motion)."""
        return [r[3] - r[1] for r in self.rows("detections")]

    def frames_dropped_slow(self) -> int:
        """dropped_slow is cumulative per stream: the difference across the window."""
        t0, t1 = self.window
        total = 0
        for s in self.streams:
            if s.kind != "frames":
                continue
            before = [r[3] for r in s.rows if r[0] < t0]
            inside = [r[3] for r in s.rows if t0 <= r[0] <= t1]
            if inside:
                total += inside[-1] - (before[-1] if before else inside[0])
        return total

    def detections_lost(self) -> tuple[int, int]:
        """(missing sequences, expected sequences) over the window; dense with include_empty."""
        t0, t1 = self.window
        lost = expected = 0
        for s in self.streams:
            if s.kind != "detections":
                continue
            sequences = sorted({r[2] for r in s.rows if t0 <= r[0] <= t1})
            if sequences:
                span = sequences[-1] - sequences[0] + 1
                expected += span
                lost += span - len(sequences)
        return lost, expected

    def data_loss_reports(self) -> int:
        return sum(r[4] for r in self.rows("detections"))

    def errors(self) -> list[str]:
        return [f"{s.kind} {s.camera_id}: {s.error}" for s in self.streams if s.error]


# ------------------------------------------------------------------ clients


def _client_process(
    target: str,
    assignments: list[str],
    *,
    max_fps: float,
    max_width: int,
    quality: int,
    ready: mp.Queue,
    stop: mp.Event,
    results: mp.Queue,
) -> None:
    """One client process: per assigned camera entry, a subscriber with its own
    connection, a frame-stream thread and a detection-stream thread."""
    import grpc

    from cluster.client import ClientError, MatthanClient
    from cluster.client.client import channel_options

    # A connection per subscriber, as separate clients would have.
    options = [*channel_options(), ("grpc.use_local_subchannel_pool", 1)]
    records: list[StreamRecord] = []
    streams = []
    started: list[threading.Event] = []
    threads: list[threading.Thread] = []

    def read_frames(stream, record: StreamRecord, first: threading.Event) -> None:
        try:
            for event in stream:
                now = time.time()
                f = event.frame
                record.rows.append((now, f.capture_time, f.frame_sequence, event.dropped_slow))
                first.set()
        except ClientError as exc:
            record.error = f"{type(exc).__name__}: {exc}"
        finally:
            first.set()

    def read_detections(stream, record: StreamRecord, first: threading.Event) -> None:
        try:
            for event in stream:
                now = time.time()
                b = event.batch
                record.rows.append((now, b.capture_time, b.sequence, b.publish_time, int(event.data_loss is not None)))
                first.set()
        except ClientError as exc:
            record.error = f"{type(exc).__name__}: {exc}"
        finally:
            record.resumes = stream.resumes
            first.set()

    clients = []
    for camera_id in assignments:
        client = MatthanClient(target, channel=grpc.insecure_channel(target, options=options))
        clients.append(client)
        for kind, stream, reader in (
            (
                "frames",
                client.stream_frames(camera_id, max_fps=max_fps, max_width=max_width, quality=quality),
                read_frames,
            ),
            ("detections", client.stream_detections([camera_id], include_empty=True), read_detections),
        ):
            record = StreamRecord(kind, camera_id)
            first = threading.Event()
            thread = threading.Thread(target=reader, args=(stream, record, first), daemon=True)
            records.append(record)
            streams.append(stream)
            started.append(first)
            threads.append(thread)
            thread.start()
    serve_client_streams(
        started,
        streams,
        threads,
        clients,
        records,
        ready=ready,
        stop=stop,
        results=results,
        ready_timeout_s=READY_TIMEOUT_S,
    )


# ------------------------------------------------------------------- phases


async def _direct_frames(handle, record: StreamRecord, stop: asyncio.Event) -> None:
    after = 0
    while not stop.is_set():
        frame = await handle.latest_jpeg(after, 1.0)
        if frame is not None:
            record.rows.append((time.time(), frame.capture_time, frame.frame_sequence, 0))
            after = frame.frame_sequence


async def _direct_detections(handle, record: StreamRecord, stop: asyncio.Event) -> None:
    position = (await handle.pull_detections(0, 1, 0.0)).newest_sequence
    while not stop.is_set():
        pull = await handle.pull_detections(position, 64, 1.0)
        now = time.time()
        for b in pull.batches:
            record.rows.append((now, b.capture_time, b.sequence, b.publish_time, 0))
        if pull.batches:
            position = pull.batches[-1].sequence


async def run_direct(
    control, ids: list[str], pids: list[int], *, seconds: float, warmup: float, source_fps: float, analysis_fps: float
) -> PhaseResult:
    """Baseline: one frame loop and one detection loop per camera over Ray, in this process."""
    stop = asyncio.Event()
    streams, tasks = [], []
    for camera_id in ids:
        handle = await control.handle(camera_id)
        for kind, loop in (("frames", _direct_frames), ("detections", _direct_detections)):
            record = StreamRecord(kind, camera_id)
            streams.append(record)
            tasks.append(asyncio.create_task(loop(handle, record, stop)))
    await asyncio.sleep(warmup)
    me = [os.getpid()]
    cpu0, cam0, busy0, t0 = CpuSample.of(me), CpuSample.of(pids), machine_busy_seconds(), time.time()
    await asyncio.sleep(seconds)
    cpu1, cam1, busy1, t1 = CpuSample.of(me), CpuSample.of(pids), machine_busy_seconds(), time.time()
    stop.set()
    await asyncio.wait(tasks, timeout=10)
    for task in tasks:
        task.cancel()
    return PhaseResult(
        "direct",
        t1 - t0,
        len(ids) * source_fps,
        len(ids) * analysis_fps,
        streams,
        cpu1.seconds - cpu0.seconds,
        cam1.seconds - cam0.seconds,
        busy1 - busy0,
        window=(t0, t1),
    )


async def run_frontdoor(
    control, ids: list[str], pids: list[int], args: argparse.Namespace, source_fps: float
) -> PhaseResult:
    """The gateway in this process; subscribers in `args.client_processes` processes."""
    from bench.frontdoor import _client_process  # by module name: picklable for spawn even when run as __main__
    from cluster.config.server import ServerConfig
    from cluster.gateway.server import GatewayServer

    server = GatewayServer(control, ServerConfig(host="127.0.0.1", port=0, allow_unauthenticated=True))
    await server.start()
    target = f"127.0.0.1:{server.port}"
    ctx = mp.get_context("spawn")  # never fork a process that runs gRPC and Ray threads
    ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    subscribers = [camera_id for camera_id in ids for _ in range(args.subscribers)]
    shares = [subscribers[i :: args.client_processes] for i in range(args.client_processes)]
    procs = [
        ctx.Process(
            target=_client_process,
            daemon=True,
            args=(target, share),
            kwargs={
                "max_fps": args.max_fps,
                "max_width": args.max_width,
                "quality": args.quality,
                "ready": ready,
                "stop": stop,
                "results": results,
            },
        )
        for share in shares
        if share
    ]
    loop = asyncio.get_running_loop()
    try:
        for proc in procs:
            proc.start()
        for _ in procs:
            pid, started, total = await loop.run_in_executor(None, ready.get, True, READY_TIMEOUT_S + 60)
            if started < total:
                print(f"warning: client process {pid}: only {started} of {total} streams got a first message")
        await asyncio.sleep(args.warmup)
        me, clients = [os.getpid()], [p.pid for p in procs]
        cpu0, cam0, cl0, busy0 = CpuSample.of(me), CpuSample.of(pids), CpuSample.of(clients), machine_busy_seconds()
        t0 = time.time()
        await asyncio.sleep(args.seconds)
        cpu1, cam1, cl1, busy1 = CpuSample.of(me), CpuSample.of(pids), CpuSample.of(clients), machine_busy_seconds()
        t1 = time.time()
        stop.set()
        streams: list[StreamRecord] = await collect_client_results(procs, results)
    finally:
        await stop_client_processes(procs, stop)
        await server.stop(1.0)
    per_stream_fps = min(args.max_fps, source_fps) if args.max_fps else source_fps
    return PhaseResult(
        "frontdoor",
        t1 - t0,
        len(subscribers) * per_stream_fps,
        len(subscribers) * args.analysis_fps,
        streams,
        cpu1.seconds - cpu0.seconds,
        cam1.seconds - cam0.seconds,
        busy1 - busy0,
        client_cpu_s=cl1.seconds - cl0.seconds,
        window=(t0, t1),
    )


async def run(args: argparse.Namespace, clip: str, source_fps: float) -> tuple[PhaseResult, PhaseResult]:
    from cluster.config import AnalysisConfig, CameraConfig, SourceConfig

    ids = [f"bench-{i}" for i in range(args.cameras)]
    cameras = [
        CameraConfig(
            id=i,
            source=SourceConfig(url=clip, loop=True, realtime=True),
            analysis=AnalysisConfig(fps=args.analysis_fps),
        )
        for i in ids
    ]
    with tempfile.TemporaryDirectory(prefix="bench-frontdoor-") as state_dir:
        control = await start_cameras("bench-frontdoor", Path(state_dir), cameras)
        try:
            pids = await wait_cameras_live(control, ids, START_TIMEOUT_S)
            LOAD["cameras up"] = os.getloadavg()
            direct = await run_direct(
                control,
                ids,
                pids,
                seconds=args.baseline_seconds,
                warmup=min(args.warmup, 5.0),
                source_fps=source_fps,
                analysis_fps=args.analysis_fps,
            )
            LOAD["after direct"] = os.getloadavg()
            frontdoor = await run_frontdoor(control, ids, pids, args, source_fps)
            LOAD["after front door"] = os.getloadavg()
        finally:
            await control.shutdown(stop_cameras=True)
    return direct, frontdoor


# ------------------------------------------------------------------- report


def _ms(values: list[float]) -> str:
    return f"{percentile(values, 50) * 1000:.0f} / {percentile(values, 99) * 1000:.0f}"


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f} %" if whole else "-"


def report(args: argparse.Namespace, direct: PhaseResult, front: PhaseResult, load: dict, cores: int) -> None:
    d_frames, f_frames = len(direct.rows("frames")), len(front.rows("frames"))
    d_dets, f_dets = len(direct.rows("detections")), len(front.rows("detections"))
    d_lost, d_exp = direct.detections_lost()
    f_lost, f_exp = front.detections_lost()
    dropped = front.frames_dropped_slow()
    d_cpu_ms = 1000 * direct.reader_cpu_s / d_frames if d_frames else math.nan
    f_cpu_ms = 1000 * front.reader_cpu_s / f_frames if f_frames else math.nan
    d_msg_us = 1e6 * direct.reader_cpu_s / (d_frames + d_dets) if d_frames + d_dets else math.nan
    f_msg_us = 1e6 * front.reader_cpu_s / (f_frames + f_dets) if f_frames + f_dets else math.nan
    f_p99 = percentile(front.latencies("frames"), 99)
    det_p99 = percentile(front.latencies("detections"), 99)
    delivery_p99_change = percentile(front.detection_delivery(), 99) - percentile(direct.detection_delivery(), 99)

    def rate(result: PhaseResult, count: int, expected: float) -> str:
        got = count / result.seconds
        return f"{expected:.1f} → {got:.1f} ({got / expected:.0%})" if expected else "-"

    def core(seconds: float, result: PhaseResult) -> str:
        return f"{100 * seconds / result.seconds:.1f}"

    def verdict(p99: float) -> str:
        return f"{'MET' if p99 < GOAL_P99_S else 'NOT MET'} ({p99 * 1000:.0f} ms)"

    print_table(
        f"Front door: {args.cameras} cameras x car-detection.mp4 (12.5 fps real time, motion at "
        f"{args.analysis_fps:g} fps), {args.subscribers} subscribers/camera to frames (max_fps {args.max_fps:g}, "
        f"max_width {args.max_width or 'full'}) and detections; {cores} cores; windows {direct.seconds:.0f} s "
        f"(direct) and {front.seconds:.0f} s (front door)",
        [
            "measure",
            "direct over Ray (no gRPC)",
            f"gRPC front door ({args.client_processes} client processes)",
            "front door vs direct",
        ],
        [
            [
                "frames / s: expected → delivered",
                rate(direct, d_frames, direct.frames_expected) + " upstream pulls",
                rate(front, f_frames, front.frames_expected) + f" to {args.cameras * args.subscribers} streams",
                "",
            ],
            [
                "frame latency capture → receive p50 / p99 ms",
                _ms(direct.latencies("frames")),
                _ms(front.latencies("frames")),
                f"p99 {(f_p99 - percentile(direct.latencies('frames'), 99)) * 1000:+.0f} ms",
            ],
            [
                "detection batches / s: expected → delivered",
                rate(direct, d_dets, direct.detections_expected),
                rate(front, f_dets, front.detections_expected),
                "",
            ],
            [
                "detection latency capture → receive p50 / p99 ms",
                _ms(direct.latencies("detections")),
                _ms(front.latencies("detections")),
                f"p99 {(det_p99 - percentile(direct.latencies('detections'), 99)) * 1000:+.0f} ms",
            ],
            [
                "  of which capture → publish (camera) p50 / p99 ms",
                _ms(direct.detection_analysis()),
                _ms(front.detection_analysis()),
                "",
            ],
            [
                "  of which publish → receive (delivery) p50 / p99 ms",
                _ms(direct.detection_delivery()),
                _ms(front.detection_delivery()),
                f"p99 {delivery_p99_change * 1000:+.0f} ms",
            ],
            [
                "reader process CPU, % of a core",
                core(direct.reader_cpu_s, direct),
                core(front.reader_cpu_s, front),
                f"{(front.reader_cpu_s / front.seconds) / (direct.reader_cpu_s / direct.seconds):.2f}x"
                if direct.reader_cpu_s
                else "-",
            ],
            [
                "reader CPU per delivered frame, ms",
                f"{d_cpu_ms:.2f}",
                f"{f_cpu_ms:.2f}",
                f"{f_cpu_ms / d_cpu_ms:.2f}x" if d_cpu_ms else "-",
            ],
            [
                "reader CPU per delivered message (frame or batch), µs",
                f"{d_msg_us:.0f}",
                f"{f_msg_us:.0f}",
                f"{f_msg_us / d_msg_us:.2f}x" if d_msg_us else "-",
            ],
            [
                "frames dropped for slowness",
                "- (one reader per camera)",
                f"{dropped} ({_pct(dropped, dropped + f_frames)})",
                "",
            ],
            [
                "detection batches lost (sequence gaps)",
                f"{d_lost} of {d_exp} ({_pct(d_lost, d_exp)})",
                f"{f_lost} of {f_exp} ({_pct(f_lost, f_exp)}); data-loss reports {front.data_loss_reports()}, "
                f"resumes {sum(s.resumes for s in front.streams)}",
                "",
            ],
            ["stream errors", str(len(direct.errors())), str(len(front.errors())), ""],
            ["client processes CPU, % of a core", "-", core(front.client_cpu_s or 0.0, front), ""],
            [
                "camera actors CPU, % of a core (all cameras)",
                core(direct.camera_cpu_s, direct),
                core(front.camera_cpu_s, front),
                "",
            ],
            [
                "machine CPU busy, % of all cores",
                f"{100 * direct.machine_busy_s / direct.seconds / cores:.0f}",
                f"{100 * front.machine_busy_s / front.seconds / cores:.0f}",
                "",
            ],
            [
                f"goal: p99 capture → client < {GOAL_P99_S * 1000:.0f} ms (frames / detections)",
                "-",
                f"{verdict(f_p99)} / {verdict(det_p99)}",
                "",
            ],
        ],
    )
    shown = "; ".join(f"{when}: {a:.2f} {b:.2f} {c:.2f}" for when, (a, b, c) in load.items())
    print(f"load average (1/5/15 min), {cores} cores: {shown}")
    peak = max(a for a, _, _ in load.values())
    if peak > 2 * cores:
        print(
            f"note: the machine was shared (1-min load average up to {peak:.0f} on {cores} cores): latencies "
            "include waiting for a CPU; compare the camera's own capture → publish share with the delivery share"
        )
    for line in (direct.errors() + front.errors())[:10]:
        print("stream error:", line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=16, help="camera actors (1-64)")
    parser.add_argument("--subscribers", type=int, default=4, help="subscribers per camera (1-16)")
    parser.add_argument("--seconds", type=float, default=60.0, help="front-door measurement window")
    parser.add_argument(
        "--baseline-seconds", type=float, default=None, help="direct-over-Ray measurement window (default: --seconds)"
    )
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of streaming before measuring")
    parser.add_argument("--analysis-fps", type=float, default=5.0)
    parser.add_argument("--max-fps", type=float, default=5.0, help="frame streams' max_fps")
    parser.add_argument("--max-width", type=int, default=0, help="frame streams' max_width (0: full size)")
    parser.add_argument("--quality", type=int, default=0, help="frame streams' JPEG quality (0: camera default)")
    parser.add_argument(
        "--client-processes", type=int, default=2, help="processes the subscriber threads are spread over"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.cameras <= 64:
        parser.error("--cameras must be between 1 and 64")
    if not 1 <= args.subscribers <= 16:
        parser.error("--subscribers must be between 1 and 16")
    if not 1 <= args.client_processes <= 16:
        parser.error("--client-processes must be between 1 and 16")
    if args.baseline_seconds is None:
        args.baseline_seconds = args.seconds
    clip = shared_dir() / "media" / "car-detection.mp4"
    if not clip.is_file():
        parser.error(f"clip {clip} does not exist (set MATTHAN_SHARED)")

    import cv2
    import ray

    capture = cv2.VideoCapture(str(clip))
    source_fps = capture.get(cv2.CAP_PROP_FPS) or 12.5
    capture.release()
    LOAD["before"] = os.getloadavg()
    ray.init(
        address="local",
        num_cpus=local_ray_cpus(args.cameras),
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
        namespace="bench-frontdoor",
    )
    try:
        direct, front = asyncio.run(run(args, str(clip), source_fps))
    finally:
        ray.shutdown()
    LOAD["end"] = os.getloadavg()
    report(args, direct, front, LOAD, psutil.cpu_count() or 1)


if __name__ == "__main__":
    main()
