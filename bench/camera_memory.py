"""Camera actor memory over time: USS per minute and its slope, variants side by side.

    python -m bench.camera_memory --minutes 20 --per-variant 2

Real camera actors (`CameraActor`) on a local Ray, each looping `car-detection.mp4` in
real time with the soak's rules (a zone over the view, a line across the road: events
all the time, most with a thumbnail), and the soak's readers from this process through
the actor handles the front door uses: one detection long-poll per camera, two 1 fps
frame readers at 320 px (two duty-room walls), and one event puller (the event store's
writer). Every variant runs `--per-variant` cameras at the same time, so machine load
and shared-library pages affect them alike; every `--sample-s` the USS of each actor
is read from outside (psutil), and at the end a table shows, per minute, the mean
USS of each variant and, per variant, its slope (least squares, MB per hour) over the
whole run and over the part after the event ring is full.

Variants (`--variants`, comma-separated; all by default):
- `soak`: the camera actor as it was in the 30-minute soak (issue 15): the event ring
  keeps 1,024 revisions with their thumbnails, and no allocator settings.
- `small-ring`: the same with `output.event_ring_size` 16, so the ring is full at once:
  what is left of the growth is not the ring filling.
- `arena2`: the soak's camera with `MALLOC_ARENA_MAX=2` in the worker's environment:
  tells whether glibc's per-thread arenas (a camera actor runs about 90 threads) add to it.
- `shipped`: the camera actor as shipped: its own runtime environment, which sets
  `MALLOC_ARENA_MAX=2` (`cluster.actors.camera_actor.ALLOCATOR_ENV`).

Each camera's MALLOC_* variables are read back from its process and printed, so the
table says what the allocator was really told.

    python -m bench.camera_memory --ray-only --minutes 4

Ray alone, no camera: two bare threaded actors (`max_concurrency` as the camera
actor's) answering the camera's call mix (eight small replies and two 20 KB ones per
round, as fast as they come), one with glibc's defaults and one with
`ALLOCATOR_ENV`; USS and calls answered every 20 s. The soak's readers make about 8
calls a second per camera, so 100,000 calls here are about 3.5 hours of a camera.

Not a test (no assertions): the figures go into docs/reliability.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from .common import print_table, shared_dir
from .soak import LINE, ZONE, slope_per_hour

START_TIMEOUT_S = 180.0
FRAME_READERS = 2  # two subscribers, each with a 1 fps wall of every camera
POLL_S = 1.0


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    output: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] | None = None  # None: the actor class's own runtime environment


def variants() -> dict[str, Variant]:
    soak_env: dict[str, str] = {}  # glibc's defaults, whatever the actor class sets
    listed = [
        Variant("soak", "as in the soak: ring of 1,024 with thumbnails, glibc defaults", env=soak_env),
        Variant("small-ring", "event ring of 16 (full at once), glibc defaults", {"event_ring_size": 16}, soak_env),
        Variant("arena2", "as in the soak, MALLOC_ARENA_MAX=2", env={**soak_env, "MALLOC_ARENA_MAX": "2"}),
        Variant(
            "mmap",
            "as in the soak, MALLOC_MMAP_THRESHOLD_=131072",
            env={**soak_env, "MALLOC_MMAP_THRESHOLD_": "131072"},
        ),
        Variant("shipped", "as shipped: its own runtime env, MALLOC_ARENA_MAX=2"),
    ]
    return {v.name: v for v in listed}


def camera_config(camera_id: str, clip: str, variant: Variant) -> Any:
    from cluster.config import CameraConfig

    return CameraConfig.model_validate(
        {
            "id": camera_id,
            "source": {"url": clip, "loop": True, "realtime": True},
            "analysis": {"fps": 5},
            "rules": {"zones": [ZONE], "lines": [LINE]},
            "output": variant.output,
        }
    )


async def read_like_subscribers(handle: Any, stop: asyncio.Event, counts: dict[str, int]) -> None:
    """The soak's readers of one camera until `stop`: detections, frames, events. A call
    that finds no answer in time (a loaded machine) is counted and retried a second
    later, as the front door's hubs do, so every camera keeps being read."""
    from cluster.domain import CameraUnavailable

    async def keep_reading(read: Any) -> None:
        after = 0
        while not stop.is_set():
            try:
                after = await read(after)
            except CameraUnavailable:
                counts["errors"] += 1
                await asyncio.sleep(1.0)

    async def detections(after: int) -> int:
        pull = await handle.pull_detections(after, 256, POLL_S)
        counts["batches"] += len(pull.batches)
        return pull.batches[-1].sequence if pull.batches else after

    async def frames(after: int) -> int:
        jpeg = await handle.latest_jpeg(after, POLL_S, 320)
        await asyncio.sleep(1.0)
        if jpeg is None:
            return after
        counts["frames"] += 1
        return int(jpeg.frame_sequence)

    async def events(after: int) -> int:
        pull = await handle.pull_events(after, 256, POLL_S)
        counts["events"] += len(pull.events)
        return pull.first_sequence + len(pull.events) - 1 if pull.events else after

    await asyncio.gather(*(keep_reading(r) for r in (detections, events, *([frames] * FRAME_READERS))))


@dataclass
class Camera:
    variant: str
    camera_id: str
    handle: Any
    pid: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"batches": 0, "frames": 0, "events": 0, "errors": 0})


def malloc_env(pid: int) -> str:
    """The MALLOC_* variables in a process's environment."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            entries = environ.read().split(b"\0")
    except OSError as exc:
        return f"unreadable ({exc})"
    return " ".join(e.decode() for e in entries if e.startswith(b"MALLOC_"))


def uss_mb(pid: int) -> float | None:
    try:
        return psutil.Process(pid).memory_full_info().uss / 2**20
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


async def run(chosen: list[Variant], per_variant: int, minutes: float, sample_s: float, warmup_s: float) -> None:
    import ray

    from cluster.actors.camera_actor import CameraActor
    from cluster.actors.handle import CameraActorHandle
    from cluster.domain import CameraState, CameraUnavailable

    clip = str(shared_dir() / "media" / "car-detection.mp4")
    cameras: list[Camera] = []
    for variant in chosen:
        for i in range(per_variant):
            camera_id = f"{variant.name}-{i}"
            options: dict[str, Any] = {"name": f"memory:{camera_id}", "num_cpus": 0}
            if variant.env is not None:
                options["runtime_env"] = {"env_vars": variant.env}
            actor = CameraActor.options(**options).remote(camera_config(camera_id, clip, variant))  # type: ignore[attr-defined]
            cameras.append(Camera(variant.name, camera_id, CameraActorHandle(camera_id, actor)))
    deadline = time.monotonic() + START_TIMEOUT_S
    for camera in cameras:
        while True:
            try:
                status = await camera.handle.status()
            except CameraUnavailable:  # still starting: the worker process, imports, the clip
                if time.monotonic() > deadline:
                    raise
                continue
            if status.state is CameraState.LIVE:
                camera.pid = status.pid
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{camera.camera_id} not live within {START_TIMEOUT_S:.0f} s: {status.reason}")
            await asyncio.sleep(1.0)
    for camera in cameras:  # what the allocator was really told, read from the process itself
        print(f"{camera.camera_id} (pid {camera.pid}): {malloc_env(camera.pid) or 'glibc defaults'}")
    print(f"{len(cameras)} cameras live; measuring for {minutes:g} min", flush=True)
    stop = asyncio.Event()
    readers = [asyncio.create_task(read_like_subscribers(c.handle, stop, c.counts)) for c in cameras]
    started = time.monotonic()
    samples: list[tuple[float, dict[str, list[float]], dict[str, int]]] = []
    while True:
        at = time.monotonic() - started
        by_variant: dict[str, list[float]] = {}
        for camera in cameras:
            value = uss_mb(camera.pid)
            if value is not None:
                by_variant.setdefault(camera.variant, []).append(value)
        events = {v.name: min(c.counts["events"] for c in cameras if c.variant == v.name) for v in chosen}
        samples.append((at, by_variant, events))
        print(
            f"{at / 60:5.1f} min  "
            + "  ".join(f"{name} {sum(values) / len(values):6.1f} MB" for name, values in by_variant.items())
            + f"  load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if at >= minutes * 60:
            break
        await asyncio.sleep(sample_s)
    stop.set()
    await asyncio.wait(readers, timeout=10)
    report(chosen, cameras, samples, warmup_s)
    for camera in cameras:
        ray.kill(camera.handle.actor)


def report(chosen: list[Variant], cameras: list[Camera], samples: list[Any], warmup_s: float) -> None:
    names = [v.name for v in chosen]
    rows = [[f"{at / 60:.1f}", *(f"{_mean(values.get(n, [])):.1f}" for n in names)] for at, values, _ in samples]
    print_table("Camera actor USS (MB, mean per variant)", ["minute", *names], rows)
    summary = []
    for variant in chosen:
        measured = [
            (at, values, events) for at, values, events in samples if at >= warmup_s and values.get(variant.name)
        ]
        points = [(at, _mean(values[variant.name])) for at, values, _ in measured]
        # The ring is full once every camera of the variant has published more revisions than it holds.
        capacity = variant.output.get("event_ring_size", 1024)
        full = [(at, _mean(values[variant.name])) for at, values, events in measured if events[variant.name] > capacity]
        own = [c for c in cameras if c.variant == variant.name]
        summary.append(
            [
                variant.name,
                variant.what,
                f"{points[0][1]:.1f} -> {points[-1][1]:.1f}",
                f"{slope_per_hour(points):+.1f}",
                f"{slope_per_hour(full):+.1f}" if len(full) >= 3 else "not full yet",
                f"{full[0][0] / 60:.0f}" if full else "-",
                str(sum(c.counts["events"] for c in own) // len(own)),
                str(sum(c.counts["errors"] for c in own)),
            ]
        )
    print_table(
        f"Slopes after {warmup_s / 60:g} min of warm-up",
        [
            "variant",
            "what",
            "USS MB first -> last",
            "slope MB/h",
            "slope once ring full",
            "ring full at min",
            "events",
            "errors",
        ],
        summary,
    )


async def run_ray_only(minutes: float) -> None:
    """The arena growth with no camera: Ray's call threads alone (see the docstring)."""
    import ray

    from cluster.actors.camera_actor import ALLOCATOR_ENV, MAX_CONCURRENCY

    @ray.remote(max_concurrency=MAX_CONCURRENCY)  # type: ignore[call-overload]
    class Bare:
        def __init__(self) -> None:
            self.jpeg_like = b"x" * 20_000

        def pid(self) -> int:
            return os.getpid()

        def small(self, after: int, most: int = 256, wait_s: float = 0.0) -> tuple[int, int, float]:
            return after, most, wait_s

        def jpeg(self) -> bytes:
            return self.jpeg_like

    envs = {"glibc defaults": {}, " ".join(f"{k}={v}" for k, v in ALLOCATOR_ENV.items()): dict(ALLOCATOR_ENV)}
    actors = {name: Bare.options(num_cpus=0, runtime_env={"env_vars": env}).remote() for name, env in envs.items()}  # type: ignore[attr-defined]
    pids = {name: await actor.pid.remote() for name, actor in actors.items()}
    calls = dict.fromkeys(actors, 0)
    stop = asyncio.Event()

    async def drive(name: str) -> None:
        actor = actors[name]
        while not stop.is_set():
            await asyncio.gather(*(actor.small.remote(i) for i in range(8)), actor.jpeg.remote(), actor.jpeg.remote())
            calls[name] += 10

    drivers = [asyncio.create_task(drive(name)) for name in actors]
    started = time.monotonic()
    rows = []
    while time.monotonic() - started < minutes * 60:
        await asyncio.sleep(20.0)
        row = [f"{time.monotonic() - started:.0f}"]
        for name in actors:
            row += [f"{uss_mb(pids[name]) or float('nan'):.1f}", str(calls[name])]
        print("  ".join(row), flush=True)
        rows.append(row)
    stop.set()
    await asyncio.wait(drivers, timeout=10)
    columns = ["s"] + [f"{name}: {what}" for name in actors for what in ("USS MB", "calls")]
    print_table("Bare threaded Ray actors, no camera", columns, rows)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="measured run length")
    parser.add_argument("--per-variant", type=int, default=2, help="camera actors per variant")
    parser.add_argument("--sample-s", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--warmup-min", type=float, default=2.0, help="minutes left out of the slopes")
    parser.add_argument("--ray-only", action="store_true", help="bare Ray actors, no camera (see above)")
    parser.add_argument("--variants", default=",".join(variants()), help="comma-separated: " + ", ".join(variants()))
    args = parser.parse_args(argv)
    known = variants()
    chosen = [known[name] for name in args.variants.split(",") if name in known]
    unknown = [name for name in args.variants.split(",") if name not in known]
    if unknown or not chosen:
        parser.error(f"unknown variants {unknown}; known: {', '.join(known)}")
    if not 1 <= args.per_variant <= 16:
        parser.error("--per-variant must be between 1 and 16")

    import ray

    ray.init(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False, namespace="camera-memory")
    try:
        if args.ray_only:
            asyncio.run(run_ray_only(args.minutes))
        else:
            asyncio.run(run(chosen, args.per_variant, args.minutes, args.sample_s, args.warmup_min * 60))
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
