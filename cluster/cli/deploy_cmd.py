"""`matthan deploy --address ADDR --config FILE`: make a Ray cluster we did not start
run the config (a Kubernetes Job or Helm hook runs it; see docs/deploy.md).

Idempotent: it ensures the detached scheduler and event writer actors (pinned to the
Ray head node, where the state directory is: scheduler state, event store) and makes
the scheduler's desired camera set equal to the config's (`cluster/deploy/rollout.py`:
add, update, remove). A second run changes nothing; a changed config rolls forward,
restarting only the cameras it changes. It never starts Ray and never stops what it did not change; the front door
(`matthan serve --address ADDR`) runs elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from ..config import MatthanConfig, load_config
from ..control import ControlError

logger = logging.getLogger("matthan.deploy")

EXIT_FAILED = 1
NAME_RELEASE_S = 30.0  # after ending the scheduler, how long its name may stay taken


def register(sub) -> None:
    from ..deploy.rollout import DEFAULT_CONCURRENCY

    parser = sub.add_parser(
        "deploy",
        help="on a running Ray cluster: ensure the scheduler and roll the config's camera set out (idempotent)",
    )
    parser.add_argument(
        "--address", required=True, help="the Ray cluster: 'auto', host:port, or ray://host:10001 (Ray Client)"
    )
    parser.add_argument("--config", type=Path, required=True, help="cameras.yaml: the desired camera set")
    parser.add_argument("--state-dir", type=Path, help="override runtime.state_dir (a path on the Ray head node)")
    parser.add_argument(
        "--keep-unlisted",
        action="store_true",
        help="keep running cameras the config does not list (added with `matthan cameras add`); default: remove them",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        help=f"admin calls in flight at once (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--restart-scheduler",
        action="store_true",
        help="end the running scheduler first, so that one with the config's scheduler settings takes over "
        "(camera actors keep running; the new scheduler reloads its state and adopts them)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run(args) -> int:
    config = load_config(args.config)
    from ..ray_runtime import connect

    connect(config.runtime.ray, args.address)
    return asyncio.run(
        deploy(
            config,
            state_dir=args.state_dir,
            prune=not args.keep_unlisted,
            concurrency=args.concurrency,
            dry_run=args.dry_run,
            restart_scheduler=args.restart_scheduler,
        )
    )


async def deploy(
    config: MatthanConfig,
    *,
    state_dir: Path | None = None,
    prune: bool = True,
    concurrency: int = 8,
    dry_run: bool = False,
    restart_scheduler: bool = False,
) -> int:
    """Ensure the actors, then roll the camera set out (Ray must be connected)."""
    from ..deploy.rollout import apply_rollout, current_cameras, plan_rollout
    from ..deploy.settings import scheduler_settings
    from ..scheduler.actor import ensure_scheduler, get_scheduler
    from ..scheduler.client import SchedulerClient

    settings = scheduler_settings(config, state_dir)
    from ..config import with_recording_directories

    if state_dir is not None:
        config = config.model_copy(update={"runtime": config.runtime.model_copy(update={"state_dir": state_dir})})
    # As `matthan serve` does: camera actors run elsewhere and cannot resolve state_dir, and
    # the scheduler keeps the resolved configs, so an unchanged camera compares equal.
    config = with_recording_directories(config)
    if dry_run:
        actor = get_scheduler(settings.namespace)
        current = await current_cameras(SchedulerClient(actor, settings.namespace)) if actor is not None else []
        plan = plan_rollout(current, config.cameras, prune=prune)
        print("dry run: " + ("no scheduler yet; " if actor is None else "") + "nothing is changed")
        print("\n".join(plan.describe()))
        return 0
    try:
        if restart_scheduler:
            await _end_scheduler(settings.namespace)
        head = _head_node_id(settings.namespace)
        actor = ensure_scheduler(settings, node_id=head)
        _ensure_event_writer(config, settings.state_dir, head)
        control = SchedulerClient(actor, settings.namespace)
        current = await current_cameras(control)
    except ControlError as exc:
        print(f"matthan: deploy: cannot read the scheduler's camera set: {exc}", file=sys.stderr)
        return EXIT_FAILED
    plan = plan_rollout(current, config.cameras, prune=prune)
    print("\n".join(plan.describe()), flush=True)
    result = await apply_rollout(control, plan, concurrency=concurrency)
    for failure in result.failures:
        print(f"matthan: deploy: {failure.step} {failure.camera_id} failed: {failure.error}", file=sys.stderr)
    if not result.ok:
        return EXIT_FAILED
    print("deployed" if plan.changes else "up to date: nothing changed")
    return 0


def _ensure_event_writer(config: MatthanConfig, state_dir: Path | None, node_id: str) -> None:
    """The event store's writer, beside the scheduler: it follows the cameras' event rings
    into the SQLite file in the state directory (an existing one keeps its settings)."""
    from ..eventwriter.actor import ensure_event_writer
    from ..eventwriter.settings import EventWriterSettings

    if state_dir is None:  # the scheduler keeps no state: nor does the event store
        return
    settings = EventWriterSettings(namespace=config.runtime.ray.namespace, state_dir=state_dir, events=config.events)
    ensure_event_writer(settings, node_id=node_id)


async def _end_scheduler(namespace: str) -> None:
    """End the running scheduler (not its cameras) and wait until its name is free."""
    from ..scheduler.actor import get_scheduler
    from ..scheduler.client import SchedulerClient

    actor = get_scheduler(namespace)
    if actor is None:
        return
    # Bounded, and logs when it cannot end it cleanly: a scheduler pinned to a head node that
    # is gone (GCS fault tolerance kept the actor, Ray cannot place it) never answers.
    await SchedulerClient(actor, namespace).shutdown(stop_cameras=False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + NAME_RELEASE_S
    while (left := get_scheduler(namespace)) is not None:
        if loop.time() > deadline:
            raise ControlError(f"the old scheduler actor still holds its name after {NAME_RELEASE_S:g} s")
        import ray

        ray.kill(left, no_restart=True)  # idempotent; ends one that did not shut down cleanly
        await asyncio.sleep(0.2)
    print("ended the running scheduler; a new one takes over with the config's settings", flush=True)


def _head_node_id(namespace: str) -> str:
    """The Ray head node: the scheduler's state directory is there (the head pod's volume)."""
    from ..scheduler.ray_cluster import RayCluster

    heads = [n.node_id for n in RayCluster(namespace).list_nodes() if n.is_head and n.alive]
    if len(heads) != 1:
        raise ControlError(f"expected one alive Ray head node, found {len(heads)}")
    return heads[0]
