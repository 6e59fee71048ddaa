"""What the event rules cost a camera (issue 10): the rules stage's share of the camera's CPU.

Runs the live camera's analysis (the video core's file driver: decode, sampler,
motion regions, tracker, rules, tamper) over the same clip twice in one invocation,
with and without rules, and prints per analysed frame:

- each stage's time, and the rules stage's share of the camera's whole CPU (process
  CPU per analysed frame, decode of the skipped frames included);
- the CPU ratio with / without rules, side by side;
- what that means at 64 cameras at the configured analysis rate, in cores.

    .venv/bin/python -m bench.rules_stage --frames 400
"""

from __future__ import annotations

import argparse
import time

from cluster.config import CameraConfig
from cluster.video.file_driver import analyse_camera_file

from .common import print_table, shared_dir

RULES = {
    "zones": [
        {"name": "lane-near", "polygon": [[0.0, 0.55], [1.0, 0.55], [1.0, 1.0], [0.0, 1.0]], "loitering_s": 10},
        {"name": "lane-far", "polygon": [[0.0, 0.2], [1.0, 0.2], [1.0, 0.55], [0.0, 0.55]], "occupancy_max": 3},
    ],
    "lines": [
        {"name": "crossing-a", "start": [0.0, 0.6], "end": [1.0, 0.6]},
        {"name": "crossing-b", "start": [0.5, 0.0], "end": [0.5, 1.0]},
    ],
}


def camera(fps: float, rules: bool) -> CameraConfig:
    data: dict = {
        "id": "bench-rules",
        "source": {"url": str(shared_dir() / "media" / "car-detection.mp4"), "loop": True},
        "analysis": {"fps": fps, "motion": {"report_regions": True}, "tracker": {"enabled": True}},
    }
    if rules:
        data["rules"] = RULES
    return CameraConfig.model_validate(data)


def run(config: CameraConfig, frames: int) -> tuple[float, dict[str, float], int]:
    """(process CPU seconds per analysed frame, mean seconds per stage, events seen)."""
    stages: dict[str, float] = {}
    events = 0
    analysed = 0
    started = time.process_time()
    for _, result in analyse_camera_file(config):
        analysed += 1
        events += len(result.events)
        for name, seconds in result.stage_seconds.items():
            stages[name] = stages.get(name, 0.0) + seconds
        if analysed >= frames:
            break
    cpu = time.process_time() - started
    return cpu / analysed, {k: v / analysed for k, v in stages.items()}, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=400, help="analysed frames per run")
    parser.add_argument("--fps", type=float, default=5.0, help="analysis rate of the camera")
    parser.add_argument("--cameras", type=int, default=64, help="cameras to project the cost onto")
    args = parser.parse_args()

    run(camera(args.fps, True), 20)  # warm caches and imports
    base_cpu, base_stages, _ = run(camera(args.fps, False), args.frames)
    rules_cpu, rules_stages, events = run(camera(args.fps, True), args.frames)
    rules_s = rules_stages.get("rules", 0.0)

    names = sorted(set(base_stages) | set(rules_stages))
    rows = [
        [name, f"{base_stages.get(name, 0.0) * 1e3:.3f}", f"{rules_stages.get(name, 0.0) * 1e3:.3f}"] for name in names
    ]
    rows.append(["camera CPU per analysed frame", f"{base_cpu * 1e3:.3f}", f"{rules_cpu * 1e3:.3f}"])
    print_table(f"ms per analysed frame ({args.frames} frames at {args.fps:g} fps)", ["", "no rules", "rules"], rows)
    share = rules_s / rules_cpu
    fleet_cores = rules_s * args.fps * args.cameras
    print_table(
        "the rules stage",
        ["measure", "value"],
        [
            ["rules stage share of the camera's CPU", f"{share:.1%}"],
            ["camera CPU with rules / without", f"{rules_cpu / base_cpu:.2f}x"],
            [f"rules stage at {args.cameras} cameras x {args.fps:g} fps", f"{fleet_cores:.3f} cores"],
            ["events emitted with rules", str(events)],
        ],
    )


if __name__ == "__main__":
    main()
