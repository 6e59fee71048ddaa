"""What a real camera handle's pull costs the front door's process (the part the
synthetic handles of `bench.frontdoor_district` leave out).

    python -m bench.ray_handle_cost --actors 4 --loops 100 --rate 2500 --seconds 20

`--actors` Ray actors hold the production `DetectionRing`, filled with the batches the
motion pipeline finds in car-detection.mp4. This process reads them through the
production `CameraActorHandle` as the gateway's detection hubs do: `--loops` loops
(one per camera of a district), each pulling one new batch per call, together at
`--rate` calls per second (a district's 500 cameras at 5 batches/s: 2,500). Prints
this process's CPU per pull (Ray's submit, the reply's unpickling, the handle's
deadline), and the same with no Ray (the ring read in-process) as the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import ray

from cluster.actors.handle import CameraActorHandle
from cluster.actors.ring import DetectionRing

from .common import CpuSample, print_table, shared_dir
from .synthetic_cameras import analyse_clip, district

RING = 1024


@ray.remote(num_cpus=0)
class RingActor:
    """A camera actor's detection ring and nothing else."""

    def __init__(self, batches: list) -> None:
        self.ring = DetectionRing("ring", RING)
        for batch in batches:
            self.ring.publish(batch)

    def pull_detections(self, after_sequence: int, max_batches: int, timeout_s: float):
        return self.ring.pull(after_sequence, max_batches, timeout_s)


async def _pull_loop(pull, newest: int, period_s: float, phase_s: float, stop_at: float, counter: list[int]) -> None:
    await asyncio.sleep(phase_s)
    after = 0
    while time.monotonic() < stop_at:
        started = time.monotonic()
        await pull(after % (newest - 1), 1, 0.0)  # one batch per call, as a caught-up hub gets
        after += 1
        counter[0] += 1
        await asyncio.sleep(max(0.0, period_s - (time.monotonic() - started)))


async def measure(pulls: list, newest: int, rate: float, seconds: float) -> tuple[float, float]:
    """(pulls per second, this process's CPU µs per pull)."""
    period_s = len(pulls) / rate
    stop_at = time.monotonic() + seconds
    counter = [0]
    me = [os.getpid()]
    cpu0, t0 = CpuSample.of(me), time.monotonic()
    await asyncio.gather(
        *(
            _pull_loop(pull, newest, period_s, period_s * i / len(pulls), stop_at, counter)
            for i, pull in enumerate(pulls)
        )
    )
    cpu_s, took = CpuSample.of(me).seconds - cpu0.seconds, time.monotonic() - t0
    return counter[0] / took, 1e6 * cpu_s / max(1, counter[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=4)
    parser.add_argument("--loops", type=int, default=100, help="pull loops (cameras), spread over the actors")
    parser.add_argument("--rate", type=float, default=2500.0, help="pulls per second, all loops together")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    clip = shared_dir() / "media" / "car-detection.mp4"
    replay = analyse_clip(clip, 5.0, 600)
    camera = district(1, clip, 5.0, replay)[0]
    for _ in range(RING):
        camera.publish(time.time())
    batches = list(camera.read(0, RING).batches)
    newest = len(batches)

    local = DetectionRing("local", RING)
    for batch in batches:
        local.publish(batch)

    async def local_pull(after: int, max_batches: int, timeout_s: float):
        return local.pull(after, max_batches, timeout_s)

    ray.init(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False, logging_level="ERROR")
    try:
        actors = [RingActor.remote(batches) for _ in range(args.actors)]
        ray.get([a.pull_detections.remote(0, 1, 0.0) for a in actors])
        handles = [CameraActorHandle(f"cam-{i}", actors[i % len(actors)]) for i in range(args.loops)]
        local_rate, local_us = asyncio.run(measure([local_pull] * args.loops, newest, args.rate, args.seconds))
        ray_rate, ray_us = asyncio.run(measure([h.pull_detections for h in handles], newest, args.rate, args.seconds))
    finally:
        ray.shutdown()
    print_table(
        "A camera handle's pull, in the caller's process",
        ["measure", "ring in-process (no Ray)", "CameraActorHandle over Ray", "Ray vs in-process"],
        [
            ["pulls / s (asked)", f"{local_rate:.0f} ({args.rate:.0f})", f"{ray_rate:.0f} ({args.rate:.0f})", ""],
            ["caller CPU per pull, µs", f"{local_us:.0f}", f"{ray_us:.0f}", f"{ray_us / local_us:.1f}x"],
            [
                "caller cores at the asked rate",
                f"{local_us * args.rate / 1e6:.2f}",
                f"{ray_us * args.rate / 1e6:.2f}",
                "",
            ],
        ],
    )
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
