"""The control plane's singleton actors (scheduler, event writer, job manager): one
named, detached actor per Ray namespace, found or created by whoever needs it first.

All three share one shape, so it is written once here: no CPU of Ray's accounting,
pinned to a node (where its state directory is), restarted by Ray without end when
it crashes (each reloads its state), and no task retried for it (every caller has
its own deadline and retry policy). Creating races with another process creating
the same actor; the loser finds the winner's. Every call on them goes through a
`SingletonCaller`: a deadline on each, cancelled when nobody waits any more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import ray
from ray.exceptions import RayActorError, RayError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

logger = logging.getLogger(__name__)


def named_actor(name: str, namespace: str) -> Any | None:
    """The running actor `name` of `namespace`, or None."""
    try:
        return ray.get_actor(name, namespace=namespace)
    except ValueError:
        return None


def find_or_create(
    remote_class: Any, *args: Any, name: str, namespace: str, max_concurrency: int, node_id: str | None = None
) -> Any:
    """The actor `name` of `namespace`, created from `remote_class(*args)` on `node_id`
    (default: this process's node) if there is none. An existing actor keeps the
    arguments it was created with."""
    existing = named_actor(name, namespace)
    if existing is not None:
        return existing
    node_id = node_id or ray.get_runtime_context().get_node_id()
    try:
        return remote_class.options(
            max_concurrency=max_concurrency,
            num_cpus=0,
            name=name,
            namespace=namespace,
            lifetime="detached",
            max_restarts=-1,
            max_task_retries=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
        ).remote(*args)
    except ValueError:  # another process created it between our lookup and our create
        found = named_actor(name, namespace)
        if found is None:
            raise
        return found


# ---- calls, each bounded ----------------------------------------------------------------

Call = Callable[[Any], Any]  # given the actor's current handle: `lambda a: a.query.remote(...)`

RETRY_PAUSE_S = 0.5
_MIN_ATTEMPT_S = 0.05


class Unanswered(Exception):
    """No answer to `method` within `waited_s` (the actor died, is restarting, or is
    busy or frozen). Each client raises its own Unavailable error from it."""

    def __init__(self, method: str, waited_s: float, cause: BaseException) -> None:
        self.method = method
        self.waited_s = waited_s
        self.cause = describe(cause)
        super().__init__(f"no answer to {method} within {waited_s:g} s: {self.cause}")


class SingletonCaller:
    """Calls on one named control-plane actor, each with a deadline. A call that finds
    no answer in time is cancelled (a call nobody waits for need not run, if it has not
    started). `retrying` repeats a call that is safe to repeat (a read, an idempotent
    write) until its deadline, looking the actor up again before each retry (Ray may
    have re-created it: a new handle); `once` tries once (a write that may take effect
    late must not be sent twice)."""

    def __init__(self, actor: Any, name: str, namespace: str) -> None:
        self.actor = actor
        self.name = name
        self.namespace = namespace

    async def once(self, method: str, call: Call, timeout_s: float) -> Any:
        try:
            return await self._attempt(method, call, timeout_s)
        except (RayActorError, asyncio.TimeoutError) as exc:
            raise Unanswered(method, timeout_s, exc) from None

    async def retrying(self, method: str, call: Call, *, attempt_s: float, deadline_s: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadline_s
        while True:
            try:
                return await self._attempt(method, call, min(attempt_s, max(_MIN_ATTEMPT_S, deadline - loop.time())))
            except (RayActorError, asyncio.TimeoutError) as exc:
                if loop.time() + RETRY_PAUSE_S >= deadline:
                    raise Unanswered(method, deadline_s, exc) from None
            await asyncio.sleep(RETRY_PAUSE_S)
            self.actor = named_actor(self.name, self.namespace) or self.actor

    async def _attempt(self, method: str, call: Call, timeout_s: float) -> Any:
        ref = call(self.actor)
        try:
            return await asyncio.wait_for(_result(ref), timeout_s)
        except asyncio.TimeoutError:
            try:
                ray.cancel(ref)
            except (RayError, ValueError) as exc:
                logger.debug("could not cancel %s: %r", method, exc)
            raise


async def _result(ref: Any) -> Any:
    return await ref


def describe(exc: BaseException) -> str:
    """The first line of an exception's text, or its type's name: Ray's errors carry
    whole tracebacks that do not belong in a one-line reason."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
