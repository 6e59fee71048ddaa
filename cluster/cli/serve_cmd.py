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

    connect(config.runtime.ray, args.address)
    return asyncio.run(serve(config))


async def serve(config: MatthanConfig, stop: asyncio.Event | None = None) -> int:
    from ..actors.ray_handles import CameraActorFactory
    from ..desired_state import DesiredStateStore
    from ..fleet import CameraFleet

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    factory = CameraActorFactory(config.runtime.ray.namespace, config.runtime.camera_cpu)
    fleet = CameraFleet(factory, DesiredStateStore(config.runtime.state_dir / "cameras.json"))
    await fleet.start(config.cameras)
    logger.info("serving %d camera(s); Ctrl-C to stop. `matthan status` shows them.", len(config.cameras))
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), SUMMARY_INTERVAL_S)
            except asyncio.TimeoutError:
                await _log_summary(fleet)
    finally:
        logger.info("shutting down")
        await fleet.shutdown()
    return 0


async def _log_summary(fleet) -> None:
    try:
        views = await fleet.list_cameras()
    except Exception:
        logger.exception("could not read camera states")
        return
    states: dict[str, int] = {}
    for view in views:
        key = view.status.state.value if view.status else "unobserved"
        states[key] = states.get(key, 0) + 1
    logger.info("cameras: %s", ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none")
