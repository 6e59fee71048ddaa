"""What the cameras' decode shortcut saves their decoder (issue 16, stretch goal).

    python -m bench.decode_options --rounds 3

Decodes the shared 768x432 12.5 fps clip (car-detection.mp4) through the cameras' own
source (`open_source`, one decoder thread, as fast as it decodes), once per value of
`source.skip_loop_filter` in turn (alternated over `--rounds` rounds, because the VM's
speed drifts), and prints frames decoded per CPU second side by side with the default
decoder. Every frame is grabbed (decoded), as a camera does; none is converted.
`all` skips H.264's deblocking filter on every frame (artefacts until the next
keyframe); `noref` only on frames nothing refers to (this clip has none: it is
Baseline H.264, I and P frames only).
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from cluster.config.source import SourceConfig
from cluster.video.opening import open_source

from .common import shared_dir

SHORTCUTS = ("none", "noref", "all")


def frames_per_cpu_second(path: str, skip_loop_filter: str, passes: int) -> float:
    """Grab every frame of `path` `passes` times; frames per CPU second of this process."""
    started, frames = time.process_time(), 0
    for _ in range(passes):
        source = open_source(
            SourceConfig(url=path, realtime=False, decode_threads=1, skip_loop_filter=skip_loop_filter)  # type: ignore[arg-type]
        )
        try:
            while source.grab():
                frames += 1
        finally:
            source.release()
    return frames / (time.process_time() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every setting (alternated)")
    parser.add_argument("--passes", type=int, default=3, help="passes over the clip per measurement")
    args = parser.parse_args(argv)
    clip = str(shared_dir() / "media" / "car-detection.mp4")
    runs: dict[str, list[float]] = {name: [] for name in SHORTCUTS}
    for _ in range(args.rounds):
        for name in SHORTCUTS:
            runs[name].append(frames_per_cpu_second(clip, name, args.passes))
    base = sum(runs["none"]) / len(runs["none"])
    title = f"camera source decode of car-detection.mp4, 1 thread, {args.rounds} rounds x {args.passes} passes"
    table = Table(title=title)
    for column in ("source.skip_loop_filter", "frames / CPU s (each round)", "mean", "vs none"):
        table.add_column(column)
    for name, values in runs.items():
        mean = sum(values) / len(values)
        table.add_row(name, " / ".join(f"{v:.0f}" for v in values), f"{mean:.0f}", f"{mean / base:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
