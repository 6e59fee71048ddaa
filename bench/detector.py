"""The detector path: Yolo-Fastest 1.1 at 320 in camera actors vs the same `cv2.dnn` call in a plain loop.

    python -m bench.detector --cameras 1 4 --seconds 60

Issue 16's detector goal: detections per second per core at least 0.9x the same
`cv2.dnn` call in a plain loop, and with many cameras sharing the node, the detector
work spread so that no camera's budget starves (per-camera detector fps).

Side by side in one run, each baseline before and after the system (the VM's speed
drifts; the system is compared with the pooled mean):

- **forward only**: one process, one OpenCV thread, `blobFromImage` + `net.forward`
  on one decoded frame over and over: the DNN floor, nothing else.
- **plain loop**: what a user would write: `cap.grab()` every frame of the clip (12.5
  fps of footage), `cap.retrieve()` + `blobFromImage` + `net.forward` on the frames due
  at `--detector-fps` of media time; the same share of decoding per detection as a
  camera has.
- **Mắt Thần**: N camera actors placed by the scheduler (as `matthan serve` runs them),
  each playing the clip in real time with the detector on every analysed frame
  (`motion.gate_detector: false`, analysis and detector at `--detector-fps`).
  Detections per second per core = detector runs of all cameras / their actors' CPU.
  The cameras do more than the plain loop per detection (letterbox, NMS, tracking,
  events, the JPEG of the latest frame, status), all of it counted.

N cameras that together ask for more detections than the node can give show how the
work is shared: the lowest camera's detector fps against the mean.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import cv2
import numpy as np

from .common import CpuSample, local_ray, machine_busy_seconds, print_table, running_cameras, shared_dir

INPUT_SIZE = 320
SOURCE_FPS = 12.5  # car-detection.mp4
START_TIMEOUT_S = 300.0


def _net(model_dir: Path) -> tuple[cv2.dnn.Net, list[str]]:
    net = cv2.dnn.readNetFromDarknet(
        str(model_dir / "yolo-fastest-1.1.cfg"), str(model_dir / "yolo-fastest-1.1.weights")
    )
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    return net, list(net.getUnconnectedOutLayersNames())


def _forward(net: cv2.dnn.Net, outputs: list[str], frame: np.ndarray) -> None:
    blob = cv2.dnn.blobFromImage(frame, 1 / 255.0, (INPUT_SIZE, INPUT_SIZE), swapRB=True, crop=False)
    net.setInput(blob)
    net.forward(outputs)


def forward_only(clip: str, model_dir: Path, seconds: float) -> dict:
    """The DNN floor: one frame through the network again and again."""
    cv2.setNumThreads(1)
    net, outputs = _net(model_dir)
    cap = cv2.VideoCapture(clip, cv2.CAP_FFMPEG)
    ok, frame = cap.read()
    cap.release()
    if not ok:
        raise RuntimeError(f"cannot read a frame of {clip}")
    _forward(net, outputs, frame)  # the first call allocates
    runs, cpu0, t0 = 0, time.process_time(), time.monotonic()
    while time.monotonic() - t0 < seconds:
        _forward(net, outputs, frame)
        runs += 1
    return {"runs": runs, "cpu_s": time.process_time() - cpu0}


def plain_loop(clip: str, model_dir: Path, seconds: float, detector_fps: float) -> dict:
    """Every frame decoded, the ones due at `detector_fps` of media time detected."""
    cv2.setNumThreads(1)
    net, outputs = _net(model_dir)
    cap = cv2.VideoCapture(clip, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    interval = 1.0 / detector_fps
    frames, runs, media_s, next_due = 0, 0, 0.0, 0.0
    cpu0, t0 = time.process_time(), time.monotonic()
    while time.monotonic() - t0 < seconds:
        if not cap.grab():
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        frames += 1
        media_s += 1.0 / SOURCE_FPS
        if media_s + 1e-9 >= next_due:
            next_due += interval
            ok, frame = cap.retrieve()
            if ok:
                _forward(net, outputs, frame)
                runs += 1
    cap.release()
    return {"runs": runs, "frames": frames, "cpu_s": time.process_time() - cpu0}


def run_system(clip: str, model_dir: Path, cameras: int, seconds: float, warmup: float, detector_fps: float) -> dict:
    with local_ray(cameras, "bench-detector"):
        return asyncio.run(_measure(clip, model_dir, cameras, seconds, warmup, detector_fps))


async def _measure(clip: str, model_dir: Path, cameras: int, seconds: float, warmup: float, fps: float) -> dict:
    from cluster.config import AnalysisConfig, CameraConfig, DetectorConfig, MotionConfig, SourceConfig

    detector = DetectorConfig(model=model_dir / "yolo-fastest-1.1.cfg", input_size=INPUT_SIZE, max_fps=fps)
    analysis = AnalysisConfig(fps=fps, motion=MotionConfig(gate_detector=False), detector=detector)
    configs = [
        CameraConfig(id=f"det-{i}", source=SourceConfig(url=clip, loop=True, realtime=True), analysis=analysis)
        for i in range(cameras)
    ]
    # Headroom 0: this benchmark measures the detector path, not admission.
    async with running_cameras("bench-detector", configs, START_TIMEOUT_S, headroom=0.0) as live:
        await asyncio.sleep(warmup)
        before = await live.statuses()
        cpu0, busy0, t0 = CpuSample.of(live.pids), machine_busy_seconds(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu1, busy1, t1 = CpuSample.of(live.pids), machine_busy_seconds(), time.monotonic()
        after = await live.statuses()
    wall = t1 - t0
    per_camera = [(a.detector_runs - b.detector_runs) / wall for a, b in zip(after, before, strict=True)]
    received = sum(a.frames_received - b.frames_received for a, b in zip(after, before, strict=True))
    return {
        "runs": sum(a.detector_runs - b.detector_runs for a, b in zip(after, before, strict=True)),
        "actor_cpu_s": cpu1.seconds - cpu0.seconds,
        "machine_cpu_s": busy1 - busy0,
        "wall_s": wall,
        "per_camera_fps": per_camera,
        "received_fps": received / wall,
        "detector_ms": 1000 * sum(a.stage_seconds.get("detector", 0.0) for a in after) / len(after),
        "states": sorted({a.state.value for a in after}),
    }


def _pooled(runs: list[dict]) -> float:
    """Detections per CPU second over several runs of one baseline."""
    cpu = sum(r["cpu_s"] for r in runs)
    return sum(r["runs"] for r in runs) / cpu if cpu else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 4], help="camera counts to run (1-64)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window per camera count")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds after all are live before measuring")
    parser.add_argument("--detector-fps", type=float, default=4.0, help="detections per second each camera asks for")
    args = parser.parse_args(argv)
    if any(not 1 <= n <= 64 for n in args.cameras):
        parser.error("--cameras must be between 1 and 64")
    if not 0 < args.detector_fps <= SOURCE_FPS:
        parser.error(f"--detector-fps must be in (0, {SOURCE_FPS:g}]")
    clip = str(shared_dir() / "media" / "car-detection.mp4")
    model_dir = shared_dir() / "models" / "yolo-fastest-1.1"
    baseline_s = min(args.seconds, 20.0)

    floor_runs = [forward_only(clip, model_dir, baseline_s)]
    plain_runs = [plain_loop(clip, model_dir, baseline_s, args.detector_fps)]
    systems = {n: run_system(clip, model_dir, n, args.seconds, args.warmup, args.detector_fps) for n in args.cameras}
    floor_runs.append(forward_only(clip, model_dir, baseline_s))
    plain_runs.append(plain_loop(clip, model_dir, baseline_s, args.detector_fps))
    floor, plain = _pooled(floor_runs), _pooled(plain_runs)

    rows = [
        [
            "forward only (the DNN floor)",
            f"{floor:.1f}",
            " / ".join(f"{r['runs'] / r['cpu_s']:.1f}" for r in floor_runs),
            "",
            "",
            "",
        ],
        [
            f"plain loop: decode all, detect {args.detector_fps:g} fps of footage",
            f"{plain:.1f}",
            " / ".join(f"{r['runs'] / r['cpu_s']:.1f}" for r in plain_runs),
            "1.00",
            "",
            "",
        ],
    ]
    for n, system in systems.items():
        actors = system["runs"] / system["actor_cpu_s"] if system["actor_cpu_s"] else float("nan")
        machine = system["runs"] / system["machine_cpu_s"] if system["machine_cpu_s"] else float("nan")
        fps = system["per_camera_fps"]
        mean = sum(fps) / len(fps)
        rows.append(
            [
                f"Mắt Thần, {n} camera(s) asking {args.detector_fps:g} fps each",
                f"{actors:.1f} (machine CPU: {machine:.1f})",
                "-",
                f"{actors / plain:.2f} (machine: {machine / plain:.2f})",
                f"{mean:.2f} / {min(fps):.2f} ({min(fps) / mean if mean else float('nan'):.2f} of the mean)",
                f"{system['detector_ms']:.1f} ms; {system['received_fps']:.1f} frames/s in; "
                + ", ".join(system["states"]),
            ]
        )
    print_table(
        f"Yolo-Fastest 1.1 at {INPUT_SIZE} on car-detection.mp4 (768x432, 12.5 fps), {args.seconds:g} s per run",
        [
            "run",
            "detections / s / core",
            "baseline before / after",
            "vs plain loop",
            "detector fps per camera: mean / lowest",
            "detector stage (smoothed) ; input ; states",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
