"""The web console's video wall vs gRPC frame streams: front-door CPU and delivered tile fps.

    python -m bench.web_wall --cameras 16 --viewers 1,4,16 --seconds 30

N camera actors play car-detection.mp4 in real time (motion at 5 fps), placed by the
scheduler actor and reached through `SchedulerClient`, as in `matthan serve`. A front
door runs in this process: the gRPC gateway and, beside it, the web console on the
gateway's fan-out. For each viewer count V, two phases on the same actors:

1. wall: V wall viewers, each a WebSocket client doing what the page does (a session
   from /api/session, one socket, the status channel and one `tile` frame channel
   per camera, messages acknowledged once handled, in batches as the page does);
2. gRPC: V gRPC clients, each streaming every camera's frames at the same rate and
   width (`StreamFrames`, max_fps = web.tile_fps, max_width = web.tile_width), so
   both share the same upstream rendition.

Viewers run in separate client processes, so their CPU is not billed to the front
door. Prints, per phase: front-door process CPU, camera actors' CPU, delivered tile
fps per viewer and camera, latency capture → client, and the goal: an additional wall
viewer costs at most 1.2x an additional gRPC viewer (slope of front-door CPU over
viewers), and camera actors' CPU does not grow with viewers.
"""

from __future__ import annotations

import argparse
import asyncio
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
    shared_dir,
    start_cameras,
    stop_client_processes,
    wait_cameras_live,
)

GOAL_RATIO = 1.2
ACK_EVERY = 4  # what the page does (static/js/socket.js): a quarter of the default window of 16
ACK_DELAY_S = 0.05
START_TIMEOUT_S = 300.0
READY_TIMEOUT_S = 120.0
LOAD: dict[str, tuple[float, float, float]] = {}


@dataclass
class Viewer:
    """What one viewer received: (receive time, capture time) per frame, and how it ended."""

    kind: str
    rows: list[tuple[float, float]] = field(default_factory=list)
    error: str | None = None


@dataclass
class Phase:
    kind: str  # "wall" or "grpc"
    viewers: int
    seconds: float
    frontdoor_cpu_s: float
    camera_cpu_s: float
    client_cpu_s: float
    machine_busy_s: float
    records: list[Viewer]
    window: tuple[float, float]
    expected_fps: float  # per viewer and camera
    upstream_frames: int  # JPEGs the hubs fetched from the cameras in the window

    def frames(self) -> list[tuple[float, float]]:
        t0, t1 = self.window
        return [r for v in self.records for r in v.rows if t0 <= r[0] <= t1]

    def tile_fps(self, cameras: int) -> float:
        return len(self.frames()) / self.seconds / max(1, self.viewers * cameras)

    def latencies(self) -> list[float]:
        return [receive - capture for receive, capture in self.frames()]

    def errors(self) -> list[str]:
        return [f"{v.kind}: {v.error}" for v in self.records if v.error]


class CountingControl:
    """The control plane, counting the frames the gateway's hubs fetch from the cameras:
    each is one JPEG encode in a camera actor, the camera work that viewers cause."""

    def __init__(self, inner):
        self.inner = inner
        self.frames_fetched = 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    async def handle(self, camera_id: str):
        return _CountingHandle(await self.inner.handle(camera_id), self)


class _CountingHandle:
    def __init__(self, inner, owner: CountingControl):
        self.inner, self.owner, self.camera_id = inner, owner, inner.camera_id

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    async def latest_jpeg(self, *args, **kwargs):
        frame = await self.inner.latest_jpeg(*args, **kwargs)
        if frame is not None:
            self.owner.frames_fetched += 1
        return frame


# ------------------------------------------------------------------ clients


def _wall_process(
    url: str, viewers: int, cameras: list[str], stagger_s: float, ready: mp.Queue, stop, results: mp.Queue
) -> None:
    """`viewers` wall pages in one process (one asyncio loop), each with its own session,
    opened at random moments within `stagger_s` (people do not open pages in step)."""
    import random

    import aiohttp

    from cluster.web.protocol import decode_frame

    async def page(record: Viewer, first: asyncio.Event) -> None:
        await asyncio.sleep(random.uniform(0.0, stagger_s))
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                async with http.get(url + "api/session") as reply:
                    await reply.read()
                ws = await http.ws_connect(url + "ws", origin=url.rstrip("/"), max_msg_size=0)
                await ws.send_json({"type": "subscribe", "channel": "status"})
                for camera in cameras:
                    await ws.send_json({"type": "subscribe", "channel": "frames", "camera": camera, "size": "tile"})
                handled = acked = 0
                while not stop.is_set():
                    # Like the page: cumulative acks, batched (every ACK_EVERY messages or
                    # ACK_DELAY_S after the first unsent one).
                    try:
                        message = await ws.receive(timeout=ACK_DELAY_S if handled > acked else 0.5)
                    except asyncio.TimeoutError:
                        if handled > acked:
                            await ws.send_json({"type": "ack", "seq": handled})
                            acked = handled
                        continue
                    if message.type is aiohttp.WSMsgType.BINARY:
                        header, _ = decode_frame(message.data)
                        record.rows.append((time.time(), header["capture_time"]))
                        first.set()
                        handled = header["seq"]
                    elif message.type is aiohttp.WSMsgType.TEXT:
                        handled = message.json()["seq"]
                    else:
                        record.error = f"socket ended: {message.type.name} {ws.close_code} {message.extra}"
                        return
                    if handled - acked >= ACK_EVERY:
                        await ws.send_json({"type": "ack", "seq": handled})
                        acked = handled
                await ws.close()
        except Exception as exc:  # noqa: BLE001 - reported in the table
            record.error = f"{type(exc).__name__}: {exc}"
        finally:
            first.set()

    async def main() -> list[Viewer]:
        records = [Viewer("wall") for _ in range(viewers)]
        firsts = [asyncio.Event() for _ in records]
        tasks = [asyncio.create_task(page(r, f)) for r, f in zip(records, firsts, strict=True)]
        await asyncio.wait_for(asyncio.gather(*(f.wait() for f in firsts)), READY_TIMEOUT_S)
        ready.put(os.getpid())
        await asyncio.gather(*tasks)
        return records

    results.put(asyncio.run(main()))


def _grpc_process(
    target: str,
    viewers: int,
    cameras: list[str],
    stagger_s: float,
    fps: float,
    width: int,
    ready: mp.Queue,
    stop,
    results: mp.Queue,
) -> None:
    """`viewers` gRPC clients in one process, each its own connection, one frame stream per
    camera, each client starting at a random moment within `stagger_s`."""
    import random

    import grpc

    from cluster.client import ClientError, MatthanClient
    from cluster.client.client import channel_options

    options = [*channel_options(), ("grpc.use_local_subchannel_pool", 1)]
    records, streams, threads, firsts, clients = [], [], [], [], []

    def read(stream, record: Viewer, first: threading.Event) -> None:
        try:
            for event in stream:
                record.rows.append((time.time(), event.frame.capture_time))
                first.set()
        except ClientError as exc:
            if not stop.is_set():
                record.error = f"{type(exc).__name__}: {exc}"
        finally:
            first.set()

    starts = sorted(random.uniform(0.0, stagger_s) for _ in range(viewers))
    began = time.monotonic()
    for start in starts:
        time.sleep(max(0.0, began + start - time.monotonic()))
        client = MatthanClient(target, channel=grpc.insecure_channel(target, options=options))
        clients.append(client)
        record = Viewer("grpc")
        records.append(record)
        for camera in cameras:
            stream = client.stream_frames(camera, max_fps=fps, max_width=width)
            first = threading.Event()
            thread = threading.Thread(target=read, args=(stream, record, first), daemon=True)
            streams.append(stream)
            firsts.append(first)
            threads.append(thread)
            thread.start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    for first in firsts:
        first.wait(max(0.0, deadline - time.monotonic()))
    ready.put(os.getpid())
    stop.wait()
    for stream in streams:
        stream.cancel()
    for thread in threads:
        thread.join(10)
    for client in clients:
        client.close()
    results.put(records)


# ------------------------------------------------------------------- phases


async def run_phase(
    kind: str,
    viewers: int,
    *,
    front,
    counting: CountingControl,
    cameras: list[str],
    pids: list[int],
    args: argparse.Namespace,
) -> Phase:
    web_config = front.web.config
    ctx = mp.get_context("spawn")  # never fork a process that runs gRPC and Ray threads
    ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    processes = min(args.client_processes, viewers)
    shares = [len(range(i, viewers, processes)) for i in range(processes)]
    if kind == "wall":
        target = _wall_process
        extra: tuple = (front.web.url, 0, cameras, args.stagger_s)
    else:
        target = _grpc_process
        extra = (
            f"127.0.0.1:{front.gateway.port}",
            0,
            cameras,
            args.stagger_s,
            web_config.tile_fps,
            web_config.tile_width,
        )
    procs = []
    for share in shares:
        call = (*extra[:1], share, *extra[2:], ready, stop, results)
        procs.append(ctx.Process(target=target, args=call, daemon=True))
    loop = asyncio.get_running_loop()
    try:
        for proc in procs:
            proc.start()
        for _ in procs:
            await loop.run_in_executor(None, ready.get, True, READY_TIMEOUT_S + 60)
        await asyncio.sleep(args.warmup)
        me, clients = [os.getpid()], [p.pid for p in procs if p.pid is not None]
        cpu0, cam0, cl0, busy0 = CpuSample.of(me), CpuSample.of(pids), CpuSample.of(clients), machine_busy_seconds()
        t0, fetched0 = time.time(), counting.frames_fetched
        await asyncio.sleep(args.seconds)
        cpu1, cam1, cl1, busy1 = CpuSample.of(me), CpuSample.of(pids), CpuSample.of(clients), machine_busy_seconds()
        t1, fetched1 = time.time(), counting.frames_fetched
        stop.set()
        records: list[Viewer] = await collect_client_results(procs, results)
    finally:
        await stop_client_processes(procs, stop)
    await asyncio.sleep(2.0)  # the hubs of the last viewers wind down before the next phase
    return Phase(
        kind,
        viewers,
        t1 - t0,
        cpu1.seconds - cpu0.seconds,
        cam1.seconds - cam0.seconds,
        cl1.seconds - cl0.seconds,
        busy1 - busy0,
        records,
        (t0, t1),
        web_config.tile_fps,
        fetched1 - fetched0,
    )


async def run(args: argparse.Namespace, clip: str) -> list[Phase]:
    from cluster.config import AnalysisConfig, CameraConfig, MatthanConfig, SourceConfig
    from cluster.config.server import ServerConfig
    from cluster.frontdoor import FrontDoor

    ids = [f"wall-{i}" for i in range(args.cameras)]
    cameras = [
        CameraConfig(
            id=i,
            name=f"Camera {i}",
            source=SourceConfig(url=clip, loop=True, realtime=True),
            analysis=AnalysisConfig(fps=args.analysis_fps),
        )
        for i in ids
    ]
    server = ServerConfig(
        host="127.0.0.1",
        port=0,
        allow_unauthenticated=True,
        web={"port": 0, "tile_fps": args.tile_fps, "tile_width": args.tile_width, "max_sessions": 100},
    )
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="bench-web-wall-") as state_dir:
        control = await start_cameras("bench-web-wall", Path(state_dir), cameras)
        counting = CountingControl(control)
        front = FrontDoor(MatthanConfig(server=server, metrics={"enabled": False}), counting)
        try:
            pids = await wait_cameras_live(control, ids, START_TIMEOUT_S)
            LOAD["cameras up"] = os.getloadavg()
            await front.start()
            for viewers in args.viewers:
                for kind in ("wall", "grpc"):
                    phases.append(
                        await run_phase(
                            kind, viewers, front=front, counting=counting, cameras=ids, pids=pids, args=args
                        )
                    )
                    LOAD[f"after {kind} x{viewers}"] = os.getloadavg()
        finally:
            await front.stop()
            await control.shutdown(stop_cameras=True)
    return phases


# ------------------------------------------------------------------- report


def _slope(phases: list[Phase], kind: str) -> float:
    """Front-door CPU (% of a core) per additional viewer: least squares over the viewer counts."""
    points = [(p.viewers, 100 * p.frontdoor_cpu_s / p.seconds) for p in phases if p.kind == kind]
    if len(points) < 2:
        return float("nan")
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else float("nan")


def report(args: argparse.Namespace, phases: list[Phase], cores: int) -> None:
    rows = []
    for p in phases:
        frames = len(p.frames())
        lat = p.latencies()
        rows.append(
            [
                f"{'wall (WebSocket)' if p.kind == 'wall' else 'gRPC StreamFrames'} x {p.viewers}",
                f"{100 * p.frontdoor_cpu_s / p.seconds:.1f}",
                f"{1000 * p.frontdoor_cpu_s / frames:.2f}" if frames else "-",
                f"{p.expected_fps:g} → {p.tile_fps(args.cameras):.2f}",
                f"{percentile(lat, 50) * 1000:.0f} / {percentile(lat, 99) * 1000:.0f}",
                f"{p.upstream_frames / p.seconds / args.cameras:.2f}",
                f"{100 * p.camera_cpu_s / p.seconds:.1f}",
                f"{100 * p.client_cpu_s / p.seconds:.1f}",
                f"{100 * p.machine_busy_s / p.seconds / cores:.0f}",
                str(len(p.errors())),
            ]
        )
    print_table(
        f"Video wall vs gRPC: {args.cameras} cameras x car-detection.mp4 (12.5 fps real time, motion at "
        f"{args.analysis_fps:g} fps), tiles {args.tile_width} px at {args.tile_fps:g} fps; {args.seconds:.0f} s "
        f"windows; {cores} cores",
        [
            "viewers (each watching every camera)",
            "front door CPU, % of a core",
            "front door CPU per delivered frame, ms",
            "tile fps per viewer and camera: expected → delivered",
            "latency capture → client p50 / p99 ms",
            "JPEGs fetched from each camera / s (its encodes)",
            "camera actors CPU, % of a core (all)",
            "client processes CPU, % of a core",
            "machine busy, % of all cores",
            "errors",
        ],
        rows,
    )
    wall, grpc_ = _slope(phases, "wall"), _slope(phases, "grpc")
    ratio = wall / grpc_ if grpc_ and grpc_ > 0 else float("nan")
    verdict = "MET" if ratio <= GOAL_RATIO else "NOT MET"
    print(
        f"an additional viewer costs the front door {wall:.2f} (wall) vs {grpc_:.2f} (gRPC) % of a core: "
        f"{ratio:.2f}x; goal <= {GOAL_RATIO}x: {verdict}"
    )
    most = max(p.viewers for p in phases)
    per_frame = {p.kind: 1000 * p.frontdoor_cpu_s / len(p.frames()) for p in phases if p.viewers == most and p.frames()}
    if len(per_frame) == 2:
        print(
            f"front-door CPU per delivered frame at {most} viewers: {per_frame['wall']:.3f} ms (wall) vs "
            f"{per_frame['grpc']:.3f} ms (gRPC): {per_frame['wall'] / per_frame['grpc']:.2f}x"
        )
    fetches = ", ".join(f"{p.kind} x{p.viewers}: {p.upstream_frames / p.seconds / args.cameras:.2f}" for p in phases)
    print(f"JPEGs fetched per camera and second (camera work caused by viewers): {fetches}")
    shown = "; ".join(f"{when}: {a:.2f} {b:.2f} {c:.2f}" for when, (a, b, c) in LOAD.items())
    print(f"load average (1/5/15 min), {cores} cores: {shown}")
    for phase in phases:
        for line in phase.errors()[:3]:
            print(f"error ({phase.kind} x{phase.viewers}):", line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=16, help="camera actors (1-64)")
    parser.add_argument("--viewers", default="1,4,16", help="viewer counts, comma-separated (each 1-64)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window per phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of streaming before measuring")
    parser.add_argument("--analysis-fps", type=float, default=5.0)
    parser.add_argument("--tile-fps", type=float, default=1.0, help="web.tile_fps (and the gRPC streams' max_fps)")
    parser.add_argument("--tile-width", type=int, default=480, help="web.tile_width (and the gRPC max_width)")
    parser.add_argument(
        "--stagger-s", type=float, default=3.0, help="viewers join at random moments within this many seconds"
    )
    parser.add_argument("--client-processes", type=int, default=2, help="processes the viewers are spread over")
    args = parser.parse_args(argv)
    try:
        args.viewers = sorted({int(v) for v in args.viewers.split(",")})
    except ValueError:
        parser.error(f"--viewers must be comma-separated whole numbers, got {args.viewers!r}")
    if not all(1 <= v <= 64 for v in args.viewers):
        parser.error("--viewers: each count must be between 1 and 64")
    if not 1 <= args.cameras <= 64:
        parser.error("--cameras must be between 1 and 64")
    clip = shared_dir() / "media" / "car-detection.mp4"
    if not clip.is_file():
        parser.error(f"clip {clip} does not exist (set MATTHAN_SHARED)")

    import ray

    LOAD["before"] = os.getloadavg()
    ray.init(
        address="local",
        num_cpus=local_ray_cpus(args.cameras),
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
        namespace="bench-web-wall",
    )
    try:
        phases = asyncio.run(run(args, str(clip)))
    finally:
        ray.shutdown()
    LOAD["end"] = os.getloadavg()
    report(args, phases, psutil.cpu_count() or 1)


if __name__ == "__main__":
    main()
