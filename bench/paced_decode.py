"""What pacing costs a decoder: CPU per frame when frames come at a camera's rate vs. as fast as possible.

    python -m bench.paced_decode --rounds 3 --seconds 15

A live camera decodes each frame when it arrives (12.5 a second here) and sleeps in
between; the plain loop the capacity benchmarks compare with reads a file as fast as it
can. This measures the same decode + BGR conversion (of the frames due at `--analysis-fps`
of footage, as a camera converts only those) both ways, in one process, alternating the
variants over `--rounds` rounds so that the machine's drift hits them alike:

- OpenCV `VideoCapture` (`grab()` every frame, `retrieve()` the due ones), one decoder thread;
- this project's PyAV source (`cluster.video.sources`, the camera's own), one decoder thread;

each unpaced, and paced by the source's own realtime pacing (PyAV) or a sleep to the next
frame's due time (OpenCV). CPU is the process's (FFmpeg's threads included) per decoded frame.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import cv2

from .common import print_table, shared_dir

SOURCE_FPS = 12.5  # car-detection.mp4


def _due_every(analysis_fps: float) -> Callable[[int], bool]:
    """Frame n (from 0) is converted when it is the first at or after the next analysis time."""
    step = SOURCE_FPS / analysis_fps

    def due(n: int) -> bool:
        return int(n / step) != int((n - 1) / step) or n == 0

    return due


def opencv_run(clip: str, seconds: float, paced: bool, due: Callable[[int], bool]) -> tuple[int, float]:
    cap = cv2.VideoCapture(clip, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    period, frames = 1.0 / SOURCE_FPS, 0
    cpu, start = time.process_time(), time.monotonic()
    next_due = start
    while time.monotonic() - start < seconds:
        if paced:
            time.sleep(max(0.0, next_due - time.monotonic()))
            next_due += period
        if not cap.grab():
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        if due(frames):
            cap.retrieve()
        frames += 1
    used = time.process_time() - cpu
    cap.release()
    return frames, used


def pyav_run(clip: str, seconds: float, paced: bool, due: Callable[[int], bool]) -> tuple[int, float]:
    from cluster.config import SourceConfig
    from cluster.video.opening import open_source

    source = open_source(SourceConfig(url=clip, loop=True, realtime=paced, decode_threads=1))
    frames = 0
    cpu, start = time.process_time(), time.monotonic()
    while time.monotonic() - start < seconds:
        if not source.grab():
            continue
        if due(frames):
            source.retrieve()
        frames += 1
    used = time.process_time() - cpu
    source.release()
    return frames, used


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each running every variant once")
    parser.add_argument("--seconds", type=float, default=15.0, help="wall seconds per variant per round")
    parser.add_argument("--analysis-fps", type=float, default=5.0, help="frames converted to BGR per second of footage")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    clip = str(shared_dir() / "media" / "car-detection.mp4")
    due = _due_every(args.analysis_fps)
    variants = {
        ("OpenCV VideoCapture", False): lambda: opencv_run(clip, args.seconds, False, due),
        ("OpenCV VideoCapture", True): lambda: opencv_run(clip, args.seconds, True, due),
        ("PyAV source (the camera's)", False): lambda: pyav_run(clip, args.seconds, False, due),
        ("PyAV source (the camera's)", True): lambda: pyav_run(clip, args.seconds, True, due),
    }
    per_frame: dict[tuple[str, bool], list[float]] = {key: [] for key in variants}
    counts: dict[tuple[str, bool], int] = dict.fromkeys(variants, 0)
    for round_no in range(args.rounds):
        for key, run in variants.items():
            frames, cpu_s = run()
            per_frame[key].append(cpu_s / max(frames, 1) * 1000.0)
            counts[key] += frames
            print(
                f"round {round_no + 1}: {key[0]}, {'paced' if key[1] else 'unpaced'}: "
                f"{frames} frames, {per_frame[key][-1]:.2f} ms CPU/frame",
                flush=True,
            )
    rows = []
    for name in dict.fromkeys(name for name, _ in variants):
        fast, paced = statistics.median(per_frame[(name, False)]), statistics.median(per_frame[(name, True)])
        rows.append(
            [
                name,
                f"{fast:.2f} ({min(per_frame[(name, False)]):.2f}..{max(per_frame[(name, False)]):.2f})",
                f"{paced:.2f} ({min(per_frame[(name, True)]):.2f}..{max(per_frame[(name, True)]):.2f})",
                f"{paced / fast:.2f}x",
                f"{counts[(name, False)]} / {counts[(name, True)]}",
            ]
        )
    print_table(
        f"decode + BGR of {args.analysis_fps:g} fps, car-detection.mp4 (768x432, 12.5 fps), "
        f"{args.rounds} rounds of {args.seconds:g} s per variant",
        ["decoder", "unpaced ms CPU/frame: median (range)", "paced at 12.5 fps", "paced / unpaced", "frames"],
        rows,
    )


if __name__ == "__main__":
    main()
