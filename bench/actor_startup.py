"""Starting N camera actors against starting N bare Ray actors: Ray's floor for start-up.

    python -m bench.actor_startup --cameras 64

Two phases on one local Ray of this machine's size, each timed from the first request
to the last answer, with the CPU every process of the Ray session used meanwhile:

1. N bare Ray actors (`num_cpus=0.01`, no code of ours), created at once, each answering
   one call: what Ray itself needs to start N worker processes.
2. N cameras seeded into the scheduler actor as `matthan serve` seeds them, until every
   one is live (`bench.common.running_cameras`): the tests' tiny looping clip (160x96 at
   4 fps), probed first, so all of them fit in the first step and the time is start-up,
   not load.

The difference is what our camera adds to Ray's start-up: imports, model and source
opening, the first frame; the bare phase is the floor no camera actor can go below.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from .common import local_ray, print_table, ray_session_cpu, running_cameras

START_TIMEOUT_S = 300.0


def _session_cpu_s() -> float:
    return sum(ray_session_cpu().values())


def bare_actors(count: int) -> tuple[float, float]:
    """Wall and session CPU seconds until `count` bare actors all answered."""
    import ray

    @ray.remote(num_cpus=0.01)
    class Bare:
        def pid(self) -> int:
            return os.getpid()

    cpu, start = _session_cpu_s(), time.monotonic()
    actors = [Bare.remote() for _ in range(count)]  # type: ignore[attr-defined]
    ray.get([a.pid.remote() for a in actors], timeout=START_TIMEOUT_S)
    wall, used = time.monotonic() - start, _session_cpu_s() - cpu
    for actor in actors:
        ray.kill(actor)
    return wall, used


async def camera_actors(count: int, clip: str) -> tuple[float, float]:
    from cluster.config import AnalysisConfig, CameraConfig, SourceConfig

    configs = [
        CameraConfig(
            id=f"start-{i}", source=SourceConfig(url=clip, loop=True, realtime=True), analysis=AnalysisConfig(fps=1.0)
        )
        for i in range(count)
    ]
    cpu, start = _session_cpu_s(), time.monotonic()
    async with running_cameras("bench-startup", configs, START_TIMEOUT_S):
        wall, used = time.monotonic() - start, _session_cpu_s() - cpu
    return wall, used


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=64)
    args = parser.parse_args(argv)
    from cluster.demo import ClipSpec, ensure_demo_clips

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as work:
        spec = ClipSpec("tiny", seed=7, people=1, vehicles=1, seconds=4.0, fps=4.0, width=160, height=96)
        clip = str(ensure_demo_clips(Path(work) / "clips", (spec,))[0])
        with local_ray(args.cameras, "bench-startup"):
            time.sleep(5.0)  # Ray's own start-up settles first: it is not either phase's
            bare = bare_actors(args.cameras)
            time.sleep(5.0)
            cameras = asyncio.run(camera_actors(args.cameras, clip))
    rows = [
        [
            f"{args.cameras} bare Ray actors, all answering",
            f"{bare[0]:.1f}",
            f"{bare[1]:.1f}",
            f"{bare[1] / args.cameras:.2f}",
        ],
        [
            f"{args.cameras} cameras seeded, all live",
            f"{cameras[0]:.1f}",
            f"{cameras[1]:.1f}",
            f"{cameras[1] / args.cameras:.2f}",
        ],
        ["cameras / bare", f"{cameras[0] / bare[0]:.2f}x", f"{cameras[1] / bare[1]:.2f}x", ""],
    ]
    print_table(
        f"start-up of {args.cameras} actors on {os.cpu_count()} cores",
        ["phase", "wall s", "CPU s (Ray session)", "CPU s per actor"],
        rows,
    )


if __name__ == "__main__":
    main()
