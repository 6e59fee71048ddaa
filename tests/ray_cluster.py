"""Starting a multi-node `ray.cluster_utils.Cluster` that survives Ray's start-up race.

Ray waits a fixed 30 s (not configurable, `ray/_private/node.py`) for a new raylet to
register with the GCS and raises "timed out during startup" otherwise. On a loaded
2-core machine the head's raylet sometimes misses that window although nothing is
wrong with it, and a whole module's tests then error at set-up (a clean-clone CI run
lost 8 tests this way); the GCS's own port file has a similar wait, missed once by another
clean-clone run. A node that timed out is torn down, with every process it
left behind, and started again, as an operator would restart a pod; any other error
is raised at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import psutil
from ray.cluster_utils import Cluster

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Ray's two start-up waits that a loaded machine can miss: the raylet registering with the
# GCS (node.py, 30 s), and the GCS writing its port file (seen in a clean-clone CI run).
STARTUP_TIMEOUTS = ("timed out during startup", "Timed out waiting for file")
ATTEMPTS = 3


def _startup_timeout(error: Exception) -> bool:
    return any(text in str(error) for text in STARTUP_TIMEOUTS)


def _descendants() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True)}


def _kill_new_processes(before: set[int]) -> None:
    """Kill what the failed attempt started (its GCS, raylet, reaper, workers)."""
    for pid in _descendants() - before:
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()


def _started_again_on_timeout(what: str, start: Callable[[], T], undo: Callable[[], None] = lambda: None) -> T:
    """`start()`; when Ray's start-up wait times out, `undo()`, kill what it started, try again."""
    for attempt in range(1, ATTEMPTS + 1):
        before = _descendants()
        try:
            return start()
        except Exception as error:
            if not _startup_timeout(error) or attempt == ATTEMPTS:
                raise
            logger.warning("%s timed out at start-up (attempt %d of %d); starting it again", what, attempt, ATTEMPTS)
            undo()
            _kill_new_processes(before)
    raise AssertionError("unreachable")


def add_node(cluster: Cluster, **node_args: Any):
    """`cluster.add_node`, started again when Ray's start-up wait times out."""
    return _started_again_on_timeout("a Ray node", lambda: cluster.add_node(**node_args))


def init_local(**init_args: Any) -> None:
    """`ray.init(address="local", ...)`, started again when Ray's start-up wait times out."""
    import ray

    _started_again_on_timeout("local Ray", lambda: ray.init(address="local", **init_args), undo=ray.shutdown)


def start_cluster(head_node_args: Mapping[str, Any], workers: Iterable[Mapping[str, Any]] = ()) -> Cluster:
    """A head and `workers`, every node started with `add_node`'s retry, all registered."""
    cluster = Cluster(initialize_head=False)
    try:
        add_node(cluster, **head_node_args)
        for worker_args in workers:
            add_node(cluster, **worker_args)
        cluster.wait_for_nodes()
    except BaseException:
        cluster.shutdown()
        raise
    return cluster
