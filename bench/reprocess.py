"""Batch reprocessing throughput: the cluster's job path beside the program a user would write.

    python -m bench.reprocess --copies 120 --rounds 3   # one hour of 768x432 footage (the 30 s clip x 120)

Prints, side by side in one run over the same file and the same analysis (the
road camera of the batch tests: motion regions, tracker, a line and a zone, 5
analysed frames per second of footage):

- decode floor: one process, `cv2.VideoCapture.grab()` over every frame;
- plain loop: one process, `cap.read()` every frame and the same `AnalysisPipeline`
  on the frames due at 5 fps (what a user would write with OpenCV and our video core);
- job, 1 worker / 2 workers: `matthan reprocess` as it runs, on a local Ray with that
  many CPUs: scheduler, event writer and job manager actors, segments as Ray tasks
  (warm-up included), every event written to the store; time to first progress is
  from the submission to the first progress report with frames done.

The machine drifts (the same plain loop's CPU seconds moved by up to 20% within an
hour on this VM), so the runs are interleaved: plain loop, the jobs, plain loop, the
jobs, ... Each job is compared with the mean of the two plain loops just around it,
and the summary table gives the median of each ratio over the rounds, with its range.

Frames per second count the file's frames (decoded, as the live camera decodes
them all); "x real time" is seconds of footage per second of wall time. The
machine is shared: the load average is printed at the start and the end, and
each run's CPU seconds are measured too (the plain loops: their process; a job:
every process of its Ray session, driver included, by kind), so "per CPU s"
compares the work done per core-second whatever the other sessions took. "per
worker CPU s" counts a job's segment workers alone: the analysis as the cluster runs
it, without the cluster's own fixed cost (Ray's daemons, the idle actors' timers,
the job manager, scheduler and event writer), which the other column includes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2

from .common import SessionCpuMeter, print_table, shared_dir

ROAD_RULES = {
    "lines": [{"name": "middle", "start": [0.0, 0.5], "end": [1.0, 0.5]}],
    "zones": [{"name": "left", "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}],
}


@dataclass
class Run:
    name: str
    frames: int
    footage_s: float
    wall_s: float
    cpu_s: float | None = None
    worker_cpu_s: float | None = None  # a job's segment workers alone (the rest is the cluster's own)
    first_progress_s: float | None = None
    events: int | None = None

    def row(self, plain: Run | None, one_worker: Run | None) -> list[str]:
        fps = self.frames / self.wall_s
        cells = [self.name, f"{self.wall_s:.1f}", f"{fps:,.0f}", f"x{self.footage_s / self.wall_s:.1f}"]
        cells.append(f"{fps / (plain.frames / plain.wall_s):.2f}" if plain else "")
        cells.append(f"{self.cpu_s:.1f}" if self.cpu_s is not None else "")
        for used in (self.cpu_s, self.worker_cpu_s):
            if plain is not None and plain.cpu_s and used:
                cells.append(f"{(self.frames / used) / (plain.frames / plain.cpu_s):.2f}")
            else:
                cells.append("")
        cells.append(f"{fps / (one_worker.frames / one_worker.wall_s):.2f}" if one_worker else "")
        cells.append(f"{self.first_progress_s:.1f}" if self.first_progress_s is not None else "")
        cells.append(str(self.events) if self.events is not None else "")
        return cells


def build_footage(copies: int, directory: Path) -> Path:
    clip = shared_dir() / "media" / "car-detection.mp4"
    listing = directory / "list.txt"
    listing.write_text("".join(f"file '{clip}'\n" for _ in range(copies)))
    out = directory / f"road_x{copies}.mp4"
    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", "-an", str(out)],
        check=True,
    )
    return out


def road_camera(path: Path):
    from cluster.config import CameraConfig

    return CameraConfig.model_validate(
        {"id": "road", "enabled": False, "source": {"url": str(path)}, "rules": ROAD_RULES}
    )


def decode_floor(path: Path, duration: float) -> Run:
    cv2.setNumThreads(1)
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    frames, cpu, start = 0, time.process_time(), time.monotonic()
    while cap.grab():
        frames += 1
    cap.release()
    return Run("decode floor (grab)", frames, duration, time.monotonic() - start, time.process_time() - cpu)


def plain_loop(path: Path, duration: float) -> Run:
    from cluster.domain import Frame
    from cluster.video.pipeline import AnalysisPipeline
    from cluster.video.sampler import FrameSampler
    from cluster.video.settings import EventSettings

    camera = road_camera(path)
    cv2.setNumThreads(1)
    pipeline = AnalysisPipeline(camera.id, camera.analysis, events=EventSettings.of(camera, job_id="plain"))
    sampler = FrameSampler(camera.analysis.fps)
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    frames, cpu, start = 0, time.process_time(), time.monotonic()
    events: set[str] = set()
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames += 1
        pts = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if sampler.due(pts):
            result = pipeline.process(Frame(sequence=frames, capture_time=time.time(), image=image, pts=pts))
            events.update(e.event_id for e in result.events)
    events.update(e.event_id for e in pipeline.finish())
    cap.release()
    return Run(
        "plain loop (read + pipeline)",
        frames,
        duration,
        time.monotonic() - start,
        time.process_time() - cpu,
        events=len(events),
    )


async def job(path: Path, frames: int, duration: float, workers: int, segment_s: float, state_dir: Path) -> Run:
    import uuid

    from cluster.batch.planning import ReprocessRequest
    from cluster.config.batch import BatchConfig
    from cluster.eventwriter.actor import ensure_event_writer
    from cluster.eventwriter.settings import EventWriterSettings
    from cluster.jobrunner.actor import ensure_job_manager
    from cluster.jobrunner.client import JobManagerClient
    from cluster.jobrunner.settings import JobRunnerSettings
    from cluster.scheduler.actor import ensure_scheduler
    from cluster.scheduler.client import SchedulerClient
    from cluster.scheduler.settings import SchedulerSettings

    namespace = f"bench-reprocess-{uuid.uuid4().hex[:6]}"
    # No live camera here: the scheduler keeps no headroom, so the batch capacity (the
    # scheduler's usable CPU minus its cameras') is every CPU of this Ray.
    scheduler = SchedulerClient(
        ensure_scheduler(SchedulerSettings(namespace=namespace, state_dir=state_dir, headroom=0.0)), namespace
    )
    await scheduler.seed([road_camera(path)])
    ensure_event_writer(EventWriterSettings(namespace=namespace, state_dir=state_dir))
    batch = BatchConfig(
        allowed_dirs=[path.parent],
        segment_s=segment_s,
        max_in_flight=workers,
        live_reserve_cpus=0.0,
        cpus_per_segment=1.0,
    )
    jobs = JobManagerClient(
        ensure_job_manager(JobRunnerSettings(namespace=namespace, state_dir=state_dir, batch=batch)), namespace
    )
    try:
        await _until_up(jobs)  # the manager is up: not part of the job's time
        await asyncio.sleep(2 * JobRunnerSettings.model_fields["capacity_refresh_s"].default)  # its first report
        meter = SessionCpuMeter()
        start = time.monotonic()
        view = await jobs.submit(
            ReprocessRequest("road", (str(path),), start_time="2026-11-28T22:00:00"), submitted_by="bench"
        )
        first = None
        while not view.state.final:
            # Often until the first progress (it is measured), then as `matthan jobs watch` does.
            await asyncio.sleep(0.1 if first is None else 0.5)
            view = await jobs.get(view.job_id)
            if first is None and view.frames_done > 0:
                first = time.monotonic() - start
        wall = time.monotonic() - start
        # Process by process, sampled all along: a prestarted idle worker that became the
        # segment task brings only the job's CPU, not its start-up before the submission,
        # and a worker that exits when its task is over still counts.
        used = meter.stop()
        # A segment worker is titled by its task while it runs and ray::IDLE before and after;
        # the prestarted idle workers that got no task use next to nothing.
        workers_s = sum(s for kind, s in used.items() if kind == "ray::IDLE" or kind.startswith("ray::matthan-segment"))
        shown = ", ".join(f"{kind} {seconds:.1f}" for kind, seconds in sorted(used.items(), key=lambda i: -i[1]))
        print(f"job, {workers} worker(s): CPU s by process kind: {shown}")
        return Run(
            f"job, {workers} worker(s)",
            frames,
            duration,
            wall,
            cpu_s=sum(used.values()),
            worker_cpu_s=workers_s,
            first_progress_s=first,
            events=view.events,
        )
    finally:
        await scheduler.shutdown(stop_cameras=True)


async def _until_up(jobs, wait_s: float = 180.0) -> None:
    from cluster.jobrunner.client import JobManagerUnavailable

    deadline = time.monotonic() + wait_s
    while True:
        try:
            await jobs.jobs()
            return
        except JobManagerUnavailable:
            if time.monotonic() > deadline:
                raise


def start_local_ray(cpus: int, attempts: int = 3) -> None:
    """A local Ray of `cpus` CPUs; on a loaded machine its fixed 30 s start-up wait can
    time out, so the start is tried again."""
    import ray

    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                address="local",
                num_cpus=cpus,
                include_dashboard=False,
                logging_level=logging.WARNING,
                log_to_driver=False,
            )
            return
        except Exception:  # Ray raises a bare Exception for the start-up timeout
            ray.shutdown()
            if attempt == attempts:
                raise


def _mean_of(before: Run, after: Run) -> Run:
    """The baseline a job is compared with: the mean of the plain loops just before and after it."""
    return Run(
        "plain loop (mean)",
        before.frames,
        before.footage_s,
        (before.wall_s + after.wall_s) / 2,
        ((before.cpu_s or 0.0) + (after.cpu_s or 0.0)) / 2,
    )


@dataclass
class Round:
    """One round: a plain loop, the jobs, a plain loop again (the next round's first)."""

    plain_before: Run
    jobs: list[Run]
    plain_after: Run

    @property
    def baseline(self) -> Run:
        return _mean_of(self.plain_before, self.plain_after)

    def one_worker(self) -> Run | None:
        return next((r for r in self.jobs if r.name.startswith("job, 1 ")), None)

    def per_cpu_vs_plain(self, job: Run, used: float | None) -> float:
        plain = self.baseline
        return (job.frames / (used or float("nan"))) / (plain.frames / (plain.cpu_s or float("nan")))

    def vs_one_worker(self, job: Run) -> float | None:
        one = self.one_worker()
        if one is None or job is one:
            return None
        return one.wall_s / job.wall_s


def run_job(path: Path, frames: int, duration: float, workers: int, segment_s: float, state: Path) -> Run:
    import ray

    start_local_ray(workers)
    try:
        run = asyncio.run(job(path, frames, duration, workers, segment_s, state))
    finally:
        ray.shutdown()
    print(f"{run.name}: {run.wall_s:.1f} s, {run.cpu_s or 0:.1f} CPU s", flush=True)
    return run


def timed_plain(path: Path, duration: float) -> Run:
    run = plain_loop(path, duration)
    print(f"{run.name}: {run.wall_s:.1f} s, {run.cpu_s or 0:.1f} CPU s", flush=True)
    return run


COLUMNS = [
    "run",
    "wall s",
    "frames/s",
    "x real time",
    "vs plain",
    "CPU s",
    "per CPU s vs plain",
    "per worker CPU s vs plain",
    "vs 1 worker",
    "first progress s",
    "events",
]


def _median(values: list[float]) -> float:
    return statistics.median(values)


def summary_rows(rounds: list[Round], floor: Run) -> list[list[str]]:
    """Medians over the rounds: each job's ratios are taken in its own round first."""
    plain_runs = [rounds[0].plain_before] + [r.plain_after for r in rounds]
    plain_wall = _median([r.wall_s for r in plain_runs])
    plain_cpu = _median([r.cpu_s or 0.0 for r in plain_runs])
    frames, footage = floor.frames, floor.footage_s
    rows = [floor.row(None, None)]
    rows.append(
        [
            f"plain loop (median of {len(plain_runs)})",
            f"{plain_wall:.1f}",
            f"{frames / plain_wall:,.0f}",
            f"x{footage / plain_wall:.1f}",
            "",
            f"{plain_cpu:.1f}",
            "",
            "",
            "",
            "",
            str(plain_runs[0].events),
        ]
    )
    for name in [j.name for j in rounds[0].jobs]:
        pairs = [(r, next(j for j in r.jobs if j.name == name)) for r in rounds]
        wall = _median([j.wall_s for _, j in pairs])
        vs_plain = _median([r.baseline.wall_s / j.wall_s for r, j in pairs])
        per_cpu = [r.per_cpu_vs_plain(j, j.cpu_s) for r, j in pairs]
        per_worker_cpu = [r.per_cpu_vs_plain(j, j.worker_cpu_s) for r, j in pairs]
        scaling = [s for s in (r.vs_one_worker(j) for r, j in pairs) if s is not None]
        firsts = [j.first_progress_s for _, j in pairs if j.first_progress_s is not None]
        rows.append(
            [
                f"{name} (median of {len(pairs)})",
                f"{wall:.1f}",
                f"{frames / wall:,.0f}",
                f"x{footage / wall:.1f}",
                f"{vs_plain:.2f}",
                f"{_median([j.cpu_s or 0.0 for _, j in pairs]):.1f}",
                f"{_median(per_cpu):.2f} ({min(per_cpu):.2f}-{max(per_cpu):.2f})",
                f"{_median(per_worker_cpu):.2f} ({min(per_worker_cpu):.2f}-{max(per_worker_cpu):.2f})",
                f"{_median(scaling):.2f} ({min(scaling):.2f}-{max(scaling):.2f})" if scaling else "",
                f"{max(firsts):.1f} (worst)" if firsts else "",
                str(pairs[-1][1].events),
            ]
        )
    return rows


def round_rows(number: int, one: Round) -> list[list[str]]:
    rows = []
    for run in [one.plain_before, *one.jobs, one.plain_after]:
        is_job = run.name.startswith("job")
        cells = run.row(one.baseline if is_job else None, one.one_worker() if run.name.startswith("job, 2") else None)
        cells[0] = f"round {number}: {cells[0]}"
        rows.append(cells)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=120, help="plays of the 30 s clip (120: one hour)")
    parser.add_argument("--segment", type=float, default=600.0, help="segment length, seconds of footage")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of plain loop, jobs, plain loop (interleaved, so each job is compared with "
        "the plain loops just around it, and the summary takes medians over the rounds)",
    )
    args = parser.parse_args()

    from cluster.batch.media import index_media

    print(f"load average at the start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-reprocess-") as tmp:
        path = build_footage(args.copies, Path(tmp))
        index = index_media(path)
        print(
            f"footage: {path.name}, {index.duration_s / 60:.1f} min, {index.frame_count} frames, "
            f"{index.width}x{index.height} {index.codec}, keyframes every {index.keyframes[1]:.1f} s"
        )
        floor = decode_floor(path, index.duration_s)
        print(f"{floor.name}: {floor.wall_s:.1f} s, {floor.cpu_s or 0:.1f} CPU s", flush=True)
        rounds: list[Round] = []
        before = timed_plain(path, index.duration_s)
        for number in range(1, args.rounds + 1):
            jobs = [
                run_job(
                    path,
                    index.frame_count,
                    index.duration_s,
                    workers,
                    args.segment,
                    Path(tmp) / f"state-{number}-{workers}",
                )
                for workers in args.workers
            ]
            after = timed_plain(path, index.duration_s)
            rounds.append(Round(before, jobs, after))
            before = after
    print_table(
        "Batch reprocessing, round by round",
        COLUMNS,
        [r for n, one in enumerate(rounds, 1) for r in round_rows(n, one)],
    )
    print_table(
        f"Batch reprocessing, medians of {len(rounds)} rounds (ranges in brackets)",
        COLUMNS,
        summary_rows(rounds, floor),
    )
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
