"""The event writer as a Ray actor: named, detached, pinned to the node with the state.

Thin: `EventWriterService` does the work. `ensure_event_writer` (called by `matthan
serve`) finds the actor of the namespace or creates it:

- named `matthan-event-writer` in our namespace: one writer per cluster, found again
  by every `matthan serve` and by its client after a restart;
- detached: it outlives the process that created it, like the scheduler;
- pinned to the node whose disk holds `runtime.state_dir` (the creating process's node
  by default) with `NodeAffinitySchedulingStrategy(soft=False)`: SQLite wants a local disk;
- `max_restarts=-1`: Ray restarts it after a crash or `kill -9` on the same node, the
  constructor reopens the store and resumes from the stored ring cursors;
  `max_task_retries=0`: the client retries reads itself, within its deadlines;
- threaded (`max_concurrency`), reserving no CPU: queries and long-polls of the change
  feed run on Ray's call pool beside the writer loop's own thread.
"""

from __future__ import annotations

import logging
from typing import Any

import ray

from ..support.detached import find_or_create, named_actor
from .directory import SchedulerDirectory
from .service import EventWriterService
from .settings import EVENT_WRITER_ACTOR_NAME, EventWriterSettings

MAX_CONCURRENCY = 32


class EventWriterActor(EventWriterService):
    def __init__(self, settings: EventWriterSettings):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        super().__init__(settings, SchedulerDirectory(settings.namespace))


_REMOTE_WRITER = ray.remote(EventWriterActor)


def get_event_writer(namespace: str) -> Any:
    """The running event writer actor of `namespace`, or None."""
    return named_actor(EVENT_WRITER_ACTOR_NAME, namespace)


def ensure_event_writer(settings: EventWriterSettings, node_id: str | None = None) -> Any:
    """Find the event writer of `settings.namespace`, or create it on `node_id` (default:
    this process's node, where `settings.state_dir` is). An existing actor keeps the
    settings it was created with."""
    return find_or_create(
        _REMOTE_WRITER,
        settings,
        name=EVENT_WRITER_ACTOR_NAME,
        namespace=settings.namespace,
        max_concurrency=MAX_CONCURRENCY,
        node_id=node_id,
    )
