"""The control plane's singleton actors (scheduler, event writer, job manager): one
named, detached actor per Ray namespace, found or created by whoever needs it first.

All three share one shape, so it is written once here: no CPU of Ray's accounting,
pinned to a node (where its state directory is), restarted by Ray without end when
it crashes (each reloads its state), and no task retried for it (every caller has
its own deadline and retry policy). Creating races with another process creating
the same actor; the loser finds the winner's.
"""

from __future__ import annotations

from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy


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
