"""Issue 16's benchmarks in one command: 64 cameras, the 96-camera overload, the detector
path, the district simulation and the district's fan-out through the front door (with a
real camera handle's pull cost beside it), and the profiles behind the notes on what
blocks a goal (pacing, a paced plain process per camera, Ray's memory and start-up floors),
one after another, each printing its own table.

    python -m bench.capacity              # about 55 minutes on a 2-core machine
    python -m bench.capacity --quick      # shorter windows, to check that they all run

Each runs in its own process (each starts and stops its own local Ray) with nothing else
of ours running: the figures are only worth the machine's quiet. Each table prints its
baselines beside the system in the same run (before and after it where the VM's drift
matters); the command behind every row of `docs/benchmarks.md` is the sub-command this
prints before running it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time


def plan(quick: bool) -> list[list[str]]:
    window = "30" if quick else "600"
    overload = "30" if quick else "300"
    return [
        # --headroom 0: the load, not admission (at the default 0.2 the scheduler keeps some waiting).
        ["bench.camera_throughput", "--cameras", "64", "--seconds", window, "--warmup", "20", "--headroom", "0"],
        # The overload: every camera may lower its analysis to 1 fps (analysis.min_fps) rather than wait.
        [
            "bench.camera_throughput",
            *("--cameras", "96", "--seconds", overload, "--warmup", "20", "--headroom", "0", "--min-fps", "1"),
            *("--paced-seconds", "0"),  # 96 paced plain processes alone saturate the machine
        ],
        # What a decode shortcut would buy the decoders that bound the overload.
        ["bench.decode_options", "--rounds", "1" if quick else "3"],
        ["bench.detector", "--cameras", "1", "8", "24", "--seconds", "20" if quick else "60"],
        ["bench.district_sim", *(["--steps", "10"] if quick else [])],
        [
            "bench.frontdoor_district",
            "--case",
            "16:50:10",
            "--case",
            "250:25:10",
            "--case",
            "500:50:10",
            "--seconds",
            "10" if quick else "30",
        ],
        ["bench.ray_handle_cost", "--actors", "8", "--seconds", "5" if quick else "15"],
        # The profiles behind the notes on what blocks a goal: pacing, Ray's floors.
        ["bench.paced_decode", "--rounds", "1" if quick else "3", "--seconds", "5" if quick else "15"],
        ["bench.paced_plain", "--cameras", "16", "64", "--seconds", "10" if quick else "30"],
        ["bench.actor_memory_map", "--settle", "10" if quick else "40"],
        ["bench.actor_startup", "--cameras", "16" if quick else "64"],
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows: check the benchmarks run, not figures")
    args = parser.parse_args(argv)
    failed = []
    for command in plan(args.quick):
        print(f"\n$ python -m {' '.join(command)}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", *command])
        print(f"(exit {code}, {time.monotonic() - started:.0f} s)", flush=True)
        if code:
            failed.append(command[0])
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
