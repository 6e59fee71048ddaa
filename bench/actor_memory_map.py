"""Where a camera actor's memory is: its private pages by mapping, beside a bare Ray actor's.

    python -m bench.actor_memory_map --settle 40

One camera actor (car-detection.mp4 in real time, motion at 5 fps, started through the
scheduler as `matthan serve` does) and one bare Ray actor (no code of ours, the same
local Ray) run side by side; after `--settle` seconds the private pages (USS: the memory
the process would give back if it exited) of each are read from `/proc/PID/smaps` and
grouped by mapping: anonymous memory (our buffers and models, Python objects, Ray's
core worker), the malloc heap, and each shared library's own private pages (relocations,
writable data). The difference between the two columns is what the camera itself adds to
Ray's floor.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
from pathlib import Path

from .common import local_ray, print_table, running_cameras, shared_dir

MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")


def private_kb_by_mapping(pid: int) -> dict[str, int]:
    """Private_Clean + Private_Dirty kB per mapping name (libraries by file name)."""
    totals: collections.Counter[str] = collections.Counter()
    name = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if MAPPING.match(line):
            parts = line.split(None, 5)
            path = parts[5].strip() if len(parts) > 5 else "[anon]"
            name = os.path.basename(path) if path.startswith("/") else path
        elif line.startswith(("Private_Clean:", "Private_Dirty:")):
            totals[name] += int(line.split()[1])
    return dict(totals)


async def _measure(settle_s: float) -> tuple[dict[str, int], dict[str, int]]:
    import ray

    from cluster.config import AnalysisConfig, CameraConfig, SourceConfig

    @ray.remote(num_cpus=0.01)
    class Bare:
        def pid(self) -> int:
            return os.getpid()

    clip = str(shared_dir() / "media" / "car-detection.mp4")
    configs = [
        CameraConfig(
            id="memory-0", source=SourceConfig(url=clip, loop=True, realtime=True), analysis=AnalysisConfig(fps=5)
        )
    ]
    async with running_cameras("bench-memory-map", configs, 300.0) as live:
        bare = Bare.remote()  # type: ignore[attr-defined]
        bare_pid = await bare.pid.remote()
        await asyncio.sleep(settle_s)
        return private_kb_by_mapping(live.pids[0]), private_kb_by_mapping(bare_pid)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=40.0, help="seconds the camera runs before reading")
    parser.add_argument("--top", type=int, default=10, help="mappings listed by name (the rest summed)")
    args = parser.parse_args(argv)
    with local_ray(2, "bench-memory-map"):
        camera, bare = asyncio.run(_measure(args.settle))
    named = sorted(camera, key=lambda n: -camera[n])[: args.top]
    rows = [[name, f"{camera.get(name, 0) / 1024:.1f}", f"{bare.get(name, 0) / 1024:.1f}"] for name in named]
    rest_camera = sum(v for n, v in camera.items() if n not in named)
    rest_bare = sum(v for n, v in bare.items() if n not in named)
    rows.append(["everything else", f"{rest_camera / 1024:.1f}", f"{rest_bare / 1024:.1f}"])
    rows.append(["USS in all", f"{sum(camera.values()) / 1024:.1f}", f"{sum(bare.values()) / 1024:.1f}"])
    print_table(
        f"private memory by mapping, MB, after {args.settle:g} s",
        ["mapping", "camera actor", "bare Ray actor"],
        rows,
    )


if __name__ == "__main__":
    main()
