"""Admission on the `matthan serve` path: N cameras on this machine's own CPUs (issue 9).

    python -m bench.admission --cameras 16 32 64 --kind clip
    python -m bench.admission --cameras 64 --kind tiny --no-direct

For each N, in one run: a local Ray with this machine's logical CPUs, the scheduler
actor with its default settings (headroom 0.2, costs learnt) seeded with N cameras
as `matthan serve` does, and

- how many it placed in the step that seeded them, and the time from the seed to
  every placed camera live (and to all N live, if it gets there);
- after the costs settled (`--settle` seconds after the last camera went live),
  reserved vs measured CPU per camera as the scheduler counts them (its report),
  and the camera actors' own CPU over `--seconds` (psutil, the same figure the
  direct run measures);
- side by side, unless `--no-direct`: the same N cameras as camera actors created
  directly (no scheduler, no admission, the way the benchmark before issue 8 ran
  them), and their CPU per camera over the same window.

Kinds: `clip` is the shared car-detection.mp4 (768x432 H.264, 12.5 fps) looping at
real time with motion analysis at 5 fps, the camera of issue 9 and issue 16; `tiny`
is the tests' cheap looping file camera (160x96 at 4 fps, analysis at 1 fps).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .common import CpuSample, local_ray_cpus, print_table, shared_dir, start_cameras

START_TIMEOUT_S = 240.0
POLL_S = 0.5


@dataclass
class ServeRun:
    cameras: int
    placed_first_step: int
    placed_live_s: float | None  # seed -> every camera placed so far live
    all_live_s: float | None  # seed -> all N live (None: some never placed)
    placed: int
    unplaced_reason: str
    reserved_per_camera: float
    measured_per_camera: float  # as the scheduler's report has it
    actor_cpu_per_camera: float  # psutil over the window
    node_reserved: float
    node_measured: float
    usable: float
    load: tuple[float, float, float]


def configs(kind: str, count: int, work: Path) -> list:
    from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
    from cluster.demo import ClipSpec, ensure_demo_clips

    if kind == "clip":
        url, fps = str(shared_dir() / "media" / "car-detection.mp4"), 5.0
    else:
        spec = ClipSpec("tiny", seed=7, people=1, vehicles=1, seconds=4.0, fps=4.0, width=160, height=96)
        url, fps = str(ensure_demo_clips(work / "clips", (spec,))[0]), 1.0
    return [
        CameraConfig(
            id=f"{kind}{i:02d}",
            source=SourceConfig(url=url, loop=True, realtime=True),
            analysis=AnalysisConfig(fps=fps),
        )
        for i in range(count)
    ]


def _ray():
    import ray

    ray.init(
        address="local",
        num_cpus=local_ray_cpus(0),
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
        namespace="bench-admission",
    )
    return ray


def serve_run(kind: str, count: int, settle_s: float, seconds: float) -> ServeRun:
    ray = _ray()
    try:
        return asyncio.run(_serve(kind, count, settle_s, seconds))
    finally:
        ray.shutdown()


async def _serve(kind: str, count: int, settle_s: float, seconds: float) -> ServeRun:
    with tempfile.TemporaryDirectory(prefix="bench-admission-") as work:
        cams = configs(kind, count, Path(work))
        started = time.monotonic()
        client = await start_cameras("bench-admission", Path(work) / "state", cams)
        try:
            first = await client.report()
            placed_first = sum(1 for c in first.cameras if c.phase.value in ("starting", "running"))
            placed_live_s = all_live_s = None
            stable_since = time.monotonic()
            last_placed = -1
            while time.monotonic() - started < START_TIMEOUT_S:
                report = await client.report()
                placed = [c for c in report.cameras if c.phase.value in ("starting", "running")]
                live = [c for c in placed if c.state == "live"]
                now = time.monotonic()
                if len(placed) != last_placed:
                    last_placed, stable_since, placed_live_s = len(placed), now, None
                if placed and len(live) == len(placed) and placed_live_s is None:
                    placed_live_s = now - started
                if len(live) == count:
                    all_live_s = now - started
                    break
                # Settled short of N: nothing placed for a while and every placed camera live.
                if placed_live_s is not None and now - stable_since > max(settle_s, 60.0):
                    break
                await asyncio.sleep(POLL_S)
            await asyncio.sleep(settle_s)
            report = await client.report()
            running = [c for c in report.cameras if c.phase.value == "running"]
            views = {v.config.id: v for v in await client.list_cameras()}
            pids = [views[c.camera_id].status.pid for c in running if views[c.camera_id].status is not None]
            cpu0, t0 = CpuSample.of(pids), time.monotonic()
            await asyncio.sleep(seconds)
            cpu1, t1 = CpuSample.of(pids), time.monotonic()
            report = await client.report()
            node = next(n for n in report.nodes if n.alive)
            running = [c for c in report.cameras if c.phase.value == "running"]
            measured = [c.measured for c in running if c.measured is not None]
            return ServeRun(
                cameras=count,
                placed_first_step=placed_first,
                placed_live_s=placed_live_s,
                all_live_s=all_live_s,
                placed=len(running),
                unplaced_reason=report.unplaced[0].detail if report.unplaced else "",
                reserved_per_camera=statistics.mean(c.cost for c in running) if running else 0.0,
                measured_per_camera=statistics.mean(measured) if measured else 0.0,
                actor_cpu_per_camera=(cpu1.seconds - cpu0.seconds) / (t1 - t0) / max(1, len(pids)),
                node_reserved=node.load,
                node_measured=node.measured,
                usable=node.usable,
                load=os.getloadavg(),
            )
        finally:
            await client.shutdown(stop_cameras=True)


def direct_run(kind: str, count: int, warmup_s: float, seconds: float) -> float:
    """CPU per camera (cores) of N camera actors created directly, without the scheduler."""
    ray = _ray()
    try:
        from cluster.actors.camera_actor import CameraActor

        with tempfile.TemporaryDirectory(prefix="bench-admission-direct-") as work:
            actors = [CameraActor.options(num_cpus=0.01).remote(c) for c in configs(kind, count, Path(work))]
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                refs = [a.status.remote() for a in actors]
                ready, _ = ray.wait(refs, num_returns=len(refs), timeout=10.0)  # actors still starting answer late
                statuses = ray.get(ready) if len(ready) == len(refs) else []
                if statuses and all(s.state.value == "live" for s in statuses):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"direct actors not live within {START_TIMEOUT_S:g} s")
                time.sleep(POLL_S)
            time.sleep(warmup_s)
            pids = [s.pid for s in statuses]
            cpu0, t0 = CpuSample.of(pids), time.monotonic()
            time.sleep(seconds)
            cpu1, t1 = CpuSample.of(pids), time.monotonic()
            ray.get([a.stop.remote() for a in actors], timeout=60)
            return (cpu1.seconds - cpu0.seconds) / (t1 - t0) / count
    finally:
        ray.shutdown()


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[16, 32, 64], help="camera counts to run")
    parser.add_argument("--kind", choices=("clip", "tiny"), default="clip")
    parser.add_argument("--settle", type=float, default=60.0, help="seconds after all live before measuring")
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window")
    parser.add_argument("--no-direct", action="store_true", help="skip the direct-actor baseline")
    args = parser.parse_args(argv)
    rows = []
    for count in args.cameras:
        serve = serve_run(args.kind, count, args.settle, args.seconds)
        direct = None if args.no_direct else direct_run(args.kind, count, args.settle / 2, args.seconds)
        rows.append(
            [
                str(count),
                f"{serve.placed_first_step}",
                _s(serve.placed_live_s),
                _s(serve.all_live_s),
                f"{serve.placed}",
                f"{100 * serve.reserved_per_camera:.1f} / {100 * serve.measured_per_camera:.1f}",
                f"{100 * serve.actor_cpu_per_camera:.1f}",
                "-" if direct is None else f"{100 * direct:.1f}",
                f"{serve.node_reserved:.2f} / {serve.node_measured:.2f} / {serve.usable:.2f}",
                " ".join(f"{x:.1f}" for x in serve.load),
            ]
        )
        print(f"{count} cameras: {serve}", flush=True)
        if serve.unplaced_reason:
            print(f"{count} cameras: {count - serve.placed} unplaced, e.g. {serve.unplaced_reason}", flush=True)
        if direct is not None:
            print(f"{count} direct actors: {100 * direct:.1f}% of a core each", flush=True)
    print_table(
        f"admission on the serve path, {local_ray_cpus(0)} logical CPUs, kind {args.kind}",
        [
            "cameras",
            "placed in the seeding step",
            "seed -> placed live",
            "seed -> all live",
            "running at the end",
            "reserved / measured % of a core per camera (scheduler)",
            "actor CPU % per camera (serve path)",
            "actor CPU % per camera (direct actors)",
            "node reserved / measured / usable cores",
            "load average",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
