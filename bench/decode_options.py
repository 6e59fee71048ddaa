"""What FFmpeg's decode shortcuts would save a camera's decoder (issue 16, stretch goal).

    python -m bench.decode_options --rounds 3

Decodes the shared 768x432 12.5 fps clip (car-detection.mp4) with PyAV, one decoder
thread as the cameras run it, with each set of codec options in turn (alternated over
`--rounds` rounds, because the VM's speed drifts), and prints frames decoded per CPU
second side by side with the default decoder. Nothing here is used by the cameras yet:
it measures what a per-camera "decode shortcut" setting would buy before it is built.
`skip_loop_filter=all` skips H.264's deblocking filter (artefacts on P-frames);
`flags2=fast` allows non-spec-compliant speedups.
"""

from __future__ import annotations

import argparse
import time

import av
from rich.console import Console
from rich.table import Table

from .common import shared_dir

OPTIONS: dict[str, dict[str, str]] = {
    "default": {},
    "skip_loop_filter=all": {"skip_loop_filter": "all"},
    "flags2=fast": {"flags2": "fast"},
    "both": {"skip_loop_filter": "all", "flags2": "fast"},
}


def frames_per_cpu_second(path: str, options: dict[str, str], passes: int) -> float:
    """Decode `path` `passes` times with `options`; frames per CPU second of this process."""
    container = av.open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        stream.codec_context.thread_count = 1
        stream.codec_context.options = options
        started, frames = time.process_time(), 0
        for _ in range(passes):
            container.seek(0)
            for _frame in container.decode(stream):
                frames += 1
        return frames / (time.process_time() - started)
    finally:
        container.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every option set (alternated)")
    parser.add_argument("--passes", type=int, default=3, help="passes over the clip per measurement")
    args = parser.parse_args(argv)
    clip = str(shared_dir() / "media" / "car-detection.mp4")
    runs: dict[str, list[float]] = {name: [] for name in OPTIONS}
    for _ in range(args.rounds):
        for name, options in OPTIONS.items():
            runs[name].append(frames_per_cpu_second(clip, options, args.passes))
    base = sum(runs["default"]) / len(runs["default"])
    table = Table(title=f"PyAV decode of car-detection.mp4, 1 thread, {args.rounds} rounds x {args.passes} passes")
    for column in ("options", "frames / CPU s (each round)", "mean", "vs default"):
        table.add_column(column)
    for name, values in runs.items():
        mean = sum(values) / len(values)
        table.add_row(name, " / ".join(f"{v:.0f}" for v in values), f"{mean:.0f}", f"{mean / base:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
