"""The plain program, one process per camera, at the camera's pace: no Ray, no threads of ours.

    python -m bench.paced_plain --cameras 64 --seconds 60

The capacity benchmarks' plain loop reads one file as fast as it decodes, which keeps
its caches hot. A live camera cannot: its frames come 12.5 times a second, and between
two of them the other cameras' work runs on the same cores (`bench.paced_decode`
measures what that costs one decoder). This baseline is the program a user would write
for N live cameras without Ray: N processes, each the video core's file driver
(`analyse_file`, the same decode, sampling and analysis as a camera actor and as the
plain loop) paced at the file's own frame rate, all started first and measured together
over the same window. It splits the camera actors' cost over the plain loop into what
pacing N processes costs anyway, and what Ray and our threads add on top of it.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import queue
import time
from typing import Any

from .common import print_table, shared_dir

SOURCE_FPS = 12.5  # car-detection.mp4
READY_TIMEOUT_S = 300.0  # N interpreters importing OpenCV and the video core on a 2-core machine


def _one_camera(path: str, seconds: float, analysis_fps: float, ready: Any, go: Any, results: Any) -> None:
    import cv2

    from cluster.config import AnalysisConfig, SourceConfig
    from cluster.video.file_driver import analyse_file

    cv2.setNumThreads(1)
    run = analyse_file(
        SourceConfig(url=path, loop=True, decode_threads=1), AnalysisConfig(fps=analysis_fps), realtime=True
    )
    frames = iter(run)
    next(frames)  # opened, and the analysis has seen a frame: its first-frame costs are not measured
    ready.put(True)
    go.wait()
    grabbed, analysed = run.frames_grabbed, run.frames_analysed
    cpu, start = time.process_time(), time.monotonic()
    for _ in frames:
        if time.monotonic() - start >= seconds:
            break
    results.put(
        {
            "frames": run.frames_grabbed - grabbed,
            "analysed": run.frames_analysed - analysed,
            "cpu_s": time.process_time() - cpu,
            "wall_s": time.monotonic() - start,
        }
    )


def paced_processes(path: str, cameras: int, seconds: float, analysis_fps: float) -> dict:
    """`cameras` paced plain processes over one window; totals pooled like `_mean_run`'s."""
    context = mp.get_context("spawn")  # no state of the caller's (Ray, threads) in the children
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(target=_one_camera, args=(path, seconds, analysis_fps, ready, go, results), daemon=True)
        for _ in range(cameras)
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            ready.get(timeout=READY_TIMEOUT_S)
        go.set()
        runs = [results.get(timeout=seconds + 60.0) for _ in workers]
    except queue.Empty as exc:
        raise RuntimeError("a paced plain process did not start or report in time") from exc
    finally:
        for worker in workers:
            worker.join(timeout=10.0)
            if worker.is_alive():
                worker.kill()
    frames, cpu = sum(r["frames"] for r in runs), sum(r["cpu_s"] for r in runs)
    wall = max(r["wall_s"] for r in runs)
    return {
        "frames": frames,
        "analysed": sum(r["analysed"] for r in runs),
        "cpu_s": cpu,
        "fps_per_core": frames / cpu if cpu else float("nan"),
        "received_fps": frames / wall if wall else float("nan"),
        "expected_fps": cameras * SOURCE_FPS,
        "analysed_fps_min": min(r["analysed"] / r["wall_s"] for r in runs),
        "analysed_fps_mean": sum(r["analysed"] / r["wall_s"] for r in runs) / cameras,
        "cores": cpu / wall if wall else float("nan"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[16, 64], help="process counts to run")
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window per count")
    parser.add_argument("--analysis-fps", type=float, default=5.0)
    args = parser.parse_args(argv)
    clip = str(shared_dir() / "media" / "car-detection.mp4")
    rows = []
    for cameras in args.cameras:
        run = paced_processes(clip, cameras, args.seconds, args.analysis_fps)
        rows.append(
            [
                str(cameras),
                f"{run['fps_per_core']:.0f}",
                f"{run['received_fps']:.1f} of {run['expected_fps']:.1f}",
                f"{run['analysed_fps_mean']:.2f} / {run['analysed_fps_min']:.2f}",
                f"{run['cores']:.2f}",
            ]
        )
    print_table(
        f"plain processes, one per camera, paced at 12.5 fps, motion at {args.analysis_fps:g} fps, {args.seconds:g} s",
        ["processes", "frames / s / core", "frames / s decoded", "analysed fps mean / lowest", "cores used"],
        rows,
    )


if __name__ == "__main__":
    main()
