"""Recording: what it costs a camera, how much disk it takes, how fast a clip exports.

    python -m bench.recording --seconds 120

In one run, on the shared 768x432 12.5 fps clip (car-detection.mp4):

1. Decode: this project's PyAV source (demux + decode every frame, BGR for every
   frame) against OpenCV's `VideoCapture` (grab + retrieve) on the same file, one
   decoder thread each, alternated over several rounds: CPU per frame.
2. CPU per recorded camera: two camera processes side by side, each a
   `CameraWorker` (motion analysis at 5 fps) playing the clip in real time,
   looping, one recording (continuous, 60 s segments) and one not; CPU of each
   process over the same window, and the recorder thread's own CPU (psutil's
   per-thread times) in the recording one.
3. Disk bytes per camera-hour of that recording.
4. Export: the recorded footage as one masked MP4 (decode, mask, libx264
   veryfast), as a multiple of real time.

The machine's load average is printed: other work on it makes the figures noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .common import print_table, shared_dir

CLIP = "car-detection.mp4"
MASK = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]


# ---- 1. decode: PyAV source vs OpenCV ------------------------------------------------


def _pyav_cpu_per_frame(path: Path, frames: int) -> float:
    from cluster.config.source import SourceConfig
    from cluster.video.opening import open_source

    source = open_source(SourceConfig(url=str(path), loop=True, realtime=False, decode_threads=1))
    start = time.process_time()
    for _ in range(frames):
        source.grab()
        source.retrieve()
    cpu = time.process_time() - start
    source.release()
    return cpu / frames


def _opencv_cpu_per_frame(path: Path, frames: int) -> float:
    import cv2

    cv2.setNumThreads(1)
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    start = time.process_time()
    done = 0
    while done < frames:
        if not capture.grab():
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        capture.retrieve()
        done += 1
    cpu = time.process_time() - start
    capture.release()
    return cpu / frames


def decode_comparison(path: Path, rounds: int, frames: int) -> dict:
    pyav, opencv = [], []
    for _ in range(rounds):  # alternated, so both see the same machine
        opencv.append(_opencv_cpu_per_frame(path, frames))
        pyav.append(_pyav_cpu_per_frame(path, frames))
    return {
        "pyav_ms": [x * 1000 for x in pyav],
        "opencv_ms": [x * 1000 for x in opencv],
    }


# ---- 2./3. a camera with and without recording, side by side --------------------------


def child(args: argparse.Namespace) -> int:
    """One camera in this process for `seconds`; prints JSON (CPU, recorder thread CPU, bytes)."""
    import psutil

    from cluster.actors.camera import CameraWorker
    from cluster.config import CameraConfig

    recording = {"mode": "continuous", "segment_s": 60.0, "directory": args.directory} if args.record else {}
    config = CameraConfig.model_validate(
        {
            "id": "bench-rec" if args.record else "bench-plain",
            "source": {"url": args.clip, "loop": True, "realtime": True},
            "analysis": {"fps": 5.0},
            "recording": recording,
        }
    )
    worker = CameraWorker(config)
    worker.start()
    time.sleep(args.warmup)
    process = psutil.Process()
    cpu0 = sum(process.cpu_times()[:2])
    threads0 = {t.id: t.user_time + t.system_time for t in process.threads()}
    wall0 = time.monotonic()
    time.sleep(args.seconds)
    cpu1 = sum(process.cpu_times()[:2])
    threads1 = {t.id: t.user_time + t.system_time for t in process.threads()}
    wall = time.monotonic() - wall0
    recorder = next((t.native_id for t in threading.enumerate() if t.name.startswith("recorder-")), None)
    status = worker.status()
    worker.stop()
    result = {
        "cpu_cores": (cpu1 - cpu0) / wall,
        "frames": status.frames_received,
        "analysed": status.frames_analysed,
        "recorder_cores": (threads1.get(recorder, 0.0) - threads0.get(recorder, 0.0)) / wall if recorder else 0.0,
    }
    if args.record:
        from cluster.recordings.chain import EntryKind, read_chain

        camera_dir = Path(args.directory) / "bench-rec"
        segments = [e for e in read_chain(camera_dir) if e.kind is EntryKind.SEGMENT]
        result["recorded_s"] = sum(e.end - e.start for e in segments)
        result["bytes"] = sum(int(e.fields["bytes"]) for e in segments)
        result["segments"] = len(segments)
    print(json.dumps(result))
    return 0


def side_by_side(clip: Path, directory: Path, seconds: float, warmup: float) -> tuple[dict, dict]:
    def spawn(record: bool) -> subprocess.Popen[str]:
        command = [
            sys.executable,
            "-m",
            "bench.recording",
            "--child",
            "--clip",
            str(clip),
            "--seconds",
            str(seconds),
            "--warmup",
            str(warmup),
            "--directory",
            str(directory),
        ]
        return subprocess.Popen([*command, *(["--record"] if record else [])], stdout=subprocess.PIPE, text=True)

    recorded, plain = spawn(True), spawn(False)
    outputs = [p.communicate(timeout=seconds + warmup + 120)[0] for p in (recorded, plain)]
    return json.loads(outputs[0].strip().splitlines()[-1]), json.loads(outputs[1].strip().splitlines()[-1])


# ---- 4. export ------------------------------------------------------------------------


def export_speed(camera_dir: Path, scratch: Path) -> dict:
    from cluster.config import CameraConfig
    from cluster.recordings.chain import read_chain
    from cluster.recordings.export import export_clip
    from cluster.recordings.index import live_segments
    from cluster.video.frame_hook import frame_hook_for

    segments = live_segments(read_chain(camera_dir))
    start, end = segments[0].start, segments[-1].end
    camera = CameraConfig.model_validate(
        {"id": "bench-rec", "source": {"url": "/dev/null"}, "privacy": {"masks": [MASK]}}
    )
    wall0, cpu0 = time.monotonic(), time.process_time()
    result = export_clip(
        camera_dir,
        "bench-rec",
        start,
        end,
        scratch / "clip.mp4",
        hook=frame_hook_for(camera),
        masked=True,
        exported_by="bench",
        reason="benchmark",
        now=time.time(),
    )
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    return {"footage_s": end - start, "wall_s": wall, "cpu_s": cpu, "frames": result.manifest["clip"]["frames"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120.0, help="measured window of the side-by-side run")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument("--rounds", type=int, default=5, help="decode comparison rounds")
    parser.add_argument("--frames", type=int, default=750, help="frames per decode round")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--record", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clip", help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    clip = shared_dir() / "media" / CLIP
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    decode = decode_comparison(clip, args.rounds, args.frames)
    with tempfile.TemporaryDirectory(prefix="bench-recording-") as scratch:
        recorded, plain = side_by_side(clip, Path(scratch) / "recordings", args.seconds, args.warmup)
        export = export_speed(Path(scratch) / "recordings" / "bench-rec", Path(scratch))
    load = os.getloadavg()

    pyav, opencv = statistics.median(decode["pyav_ms"]), statistics.median(decode["opencv_ms"])
    spread = lambda xs: f"{min(xs):.2f}..{max(xs):.2f}"  # noqa: E731
    print_table(
        f"Decode + BGR of every frame, 768x432 H.264, one thread ({args.rounds} rounds x {args.frames} frames)",
        ["source", "CPU ms/frame (median)", "range"],
        [
            ["OpenCV VideoCapture grab+retrieve", f"{opencv:.2f}", spread(decode["opencv_ms"])],
            ["PyAV source grab+retrieve (ours)", f"{pyav:.2f}", spread(decode["pyav_ms"])],
            ["difference", f"{(pyav - opencv) / opencv * 100:+.1f} %", ""],
        ],
    )
    difference = recorded["cpu_cores"] - plain["cpu_cores"]
    print_table(
        f"One camera, realtime 12.5 fps, motion at 5 fps, {args.seconds:.0f} s side by side",
        ["camera", "CPU (% of a core)", "frames", "analysed"],
        [
            ["without recording", f"{plain['cpu_cores'] * 100:.2f}", str(plain["frames"]), str(plain["analysed"])],
            [
                "with recording",
                f"{recorded['cpu_cores'] * 100:.2f}",
                str(recorded["frames"]),
                str(recorded["analysed"]),
            ],
            ["difference (process)", f"{difference * 100:+.2f}", "", ""],
            ["recorder thread alone", f"{recorded['recorder_cores'] * 100:.2f}", "", ""],
        ],
    )
    per_hour = recorded["bytes"] / recorded["recorded_s"] * 3600 if recorded.get("recorded_s") else float("nan")
    print_table(
        "Disk and export",
        ["figure", "value"],
        [
            ["recorded", f"{recorded['recorded_s']:.1f} s in {recorded['segments']} segment(s), {recorded['bytes']} B"],
            ["disk per camera-hour", f"{per_hour / 1e6:.0f} MB"],
            [
                "export (masked, libx264 veryfast)",
                f"{export['footage_s']:.1f} s of footage in {export['wall_s']:.1f} s wall, "
                f"{export['cpu_s']:.1f} s CPU: "
                f"{export['footage_s'] / export['wall_s']:.1f}x real time",
            ],
        ],
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
