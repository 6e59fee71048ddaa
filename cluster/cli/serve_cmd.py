"""`matthan serve`: run the live cluster until Ctrl-C, then shut down cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from ..config import MatthanConfig, load_config

logger = logging.getLogger("matthan.serve")

SUMMARY_INTERVAL_S = 30.0


def register(sub) -> None:
    parser = sub.add_parser("serve", help="run the live cluster (the demo when no --config is given)")
    parser.add_argument("--config", type=Path, help="cameras.yaml; omit to run the embedded demo")
    parser.add_argument("--address", help="join an existing Ray cluster ('auto' or host:port) instead of starting one")
    parser.add_argument("--state-dir", type=Path, help="override runtime.state_dir")
    parser.add_argument(
        "--exit-when-unreachable",
        type=float,
        metavar="SECONDS",
        help="with --address: exit (status 1) once the scheduler has not answered for this long, so that a "
        "supervisor (Kubernetes) restarts the front door and it reconnects; default: keep trying",
    )
    parser.set_defaults(func=run)


def resolve_config(args) -> MatthanConfig:
    if args.config is not None:
        config = load_config(args.config)
        if args.state_dir:
            config.runtime.state_dir = args.state_dir
        return config
    from ..demo import demo_config

    return demo_config(args.state_dir or Path("var/demo"))


def run(args) -> int:
    config = resolve_config(args)
    from ..ray_runtime import connect

    joined = (args.address or config.runtime.ray.address) is not None
    connect(config.runtime.ray, args.address)
    return asyncio.run(serve(config, owns_cluster=not joined, exit_when_unreachable_s=args.exit_when_unreachable))


async def serve(
    config: MatthanConfig,
    stop: asyncio.Event | None = None,
    *,
    owns_cluster: bool = True,
    exit_when_unreachable_s: float | None = None,
) -> int:
    """Find or create the scheduler and the event writer actors and serve until `stop`.

    The scheduler (a detached actor) owns the cameras; the event writer (detached,
    on this node, where `runtime.state_dir` is) follows their event rings into the
    event store. When this process started Ray itself (`owns_cluster`), the cluster
    ends with it, so the writer commits what it pulled and the cameras are stopped
    cleanly first; when it joined a running cluster, they all keep running after it
    exits, and the next `matthan serve` finds them again. With
    `exit_when_unreachable_s`, a scheduler silent that long (the Ray head was lost)
    ends this process with status 1, for its supervisor to start it again.
    """
    from ..scheduler.actor import ensure_scheduler
    from ..scheduler.client import SchedulerClient
    from ..scheduler.settings import SchedulerSettings

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    # Absolute: the scheduler actor's working directory is not ours.
    settings = SchedulerSettings(
        namespace=config.runtime.ray.namespace,
        state_dir=config.runtime.state_dir.resolve(),
        **config.scheduler.model_dump(),
    )
    from ..config import with_recording_directories

    config = with_recording_directories(config)  # camera actors cannot resolve state_dir themselves
    control = SchedulerClient(ensure_scheduler(settings), settings.namespace)
    events = _event_writer(config, config.runtime.state_dir.resolve())
    if await control.seed(config.cameras):
        logger.info("first start: %d camera(s) from the config", len(config.cameras))
    else:
        logger.info("resuming the scheduler's camera set (the config file only seeds the first start)")
    jobs = _ensure_job_manager(config)
    from ..frontdoor import FrontDoor

    front_door = FrontDoor(
        config, control, scheduler_report=control.report, events=events, event_stats=events, jobs=jobs
    )
    await front_door.start()
    if front_door.web_url is not None:
        print(f"Mắt Thần web console: {front_door.web_url}", flush=True)
    logger.info(
        "serving; Ctrl-C to stop. `matthan watch`, `matthan status` and `matthan cluster status` show the cameras."
    )
    code = 0
    last_answer = loop.time()
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), SUMMARY_INTERVAL_S)
            except asyncio.TimeoutError:
                if await _log_summary(control):
                    last_answer = loop.time()
                elif exit_when_unreachable_s is not None and loop.time() - last_answer >= exit_when_unreachable_s:
                    logger.error(
                        "the scheduler has not answered for %.0f s: exiting, to be restarted and reconnect",
                        loop.time() - last_answer,
                    )
                    code = 1
                    break
    finally:
        logger.info("shutting down")
        await front_door.stop()
        if owns_cluster:
            await events.shutdown()
            await control.shutdown(stop_cameras=True)
        else:
            logger.info("the scheduler, its cameras and the event writer keep running in the cluster")
    return code


def _event_writer(config: MatthanConfig, state_dir: Path):
    """The event writer actor's client (the actor found, or created on this node)."""
    from ..eventwriter.actor import ensure_event_writer
    from ..eventwriter.client import EventWriterClient
    from ..eventwriter.settings import EventWriterSettings

    settings = EventWriterSettings(namespace=config.runtime.ray.namespace, state_dir=state_dir, events=config.events)
    return EventWriterClient(ensure_event_writer(settings), settings.namespace)


def _ensure_job_manager(config: MatthanConfig):
    """Batch reprocessing: the job manager actor (and the event writer it writes
    through), on this node, where `runtime.state_dir` is. Returns its client."""
    from ..eventwriter.actor import ensure_event_writer
    from ..eventwriter.settings import EventWriterSettings
    from ..jobrunner.actor import ensure_job_manager
    from ..jobrunner.client import JobManagerClient
    from ..jobrunner.settings import JobRunnerSettings

    namespace, state_dir = config.runtime.ray.namespace, config.runtime.state_dir.resolve()
    ensure_event_writer(EventWriterSettings(namespace=namespace, state_dir=state_dir, events=config.events))
    settings = JobRunnerSettings(namespace=namespace, state_dir=state_dir, batch=config.batch)
    return JobManagerClient(ensure_job_manager(settings), namespace)


async def _log_summary(fleet) -> bool:
    """Log the cameras' states; False when they could not be read."""
    try:
        views = await fleet.list_cameras()
    except Exception:
        logger.exception("could not read camera states")
        return False
    states: dict[str, int] = {}
    for view in views:
        key = view.status.state.value if view.status else "unobserved"
        states[key] = states.get(key, 0) + 1
    logger.info("cameras: %s", ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none")
    return True
