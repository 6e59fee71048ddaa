"""`SchedulerRoom`: the scheduler's node reports, kept fresh for the executor's capacity.

A daemon thread asks the scheduler for its report every `refresh_s`, each ask
bounded by `deadline_s` (`SchedulerClient.report` with that read deadline), and
keeps the nodes of the newest answer. `nodes()` never waits: it returns the newest
answer if it is younger than `max_age_s`, else None, and None makes the capacity
the conservative fallback (`capacity.py`). So the job manager's loop never holds
its lock while the scheduler is asked, and a frozen scheduler costs the batch at
most `max_age_s` of stale room before the fallback applies.

The thread never dies: every ask is guarded (`SchedulerUnavailable` is logged as a
warning when it starts and when it ends, anything else with its traceback).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence

from ..control import SchedulerUnavailable
from ..scheduler.actor import get_scheduler
from ..scheduler.client import SchedulerClient
from ..scheduler.report import NodeReport
from ..support.threads import named_thread

log = logging.getLogger(__name__)

AskNodes = Callable[[], Sequence[NodeReport]]  # raises SchedulerUnavailable without an answer


def ask_scheduler(namespace: str, deadline_s: float) -> AskNodes:
    """One bounded ask of the scheduler of `namespace` for its node reports."""

    def ask() -> Sequence[NodeReport]:
        actor = get_scheduler(namespace)
        if actor is None:
            raise SchedulerUnavailable(f"no scheduler actor in Ray namespace {namespace!r}")
        client = SchedulerClient(actor, namespace, read_attempt_s=deadline_s, read_deadline_s=deadline_s)

        async def report() -> Sequence[NodeReport]:
            return (await client.report()).nodes

        return asyncio.run(report())

    return ask


class SchedulerRoom:
    def __init__(
        self,
        ask: AskNodes,
        *,
        refresh_s: float,
        max_age_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (refresh_s > 0 and max_age_s >= refresh_s):
            raise ValueError(f"need refresh_s > 0 and max_age_s >= refresh_s, got {refresh_s!r}, {max_age_s!r}")
        self._ask = ask
        self.refresh_s = refresh_s
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._nodes: tuple[NodeReport, ...] | None = None
        self._answered_at: float | None = None
        self._unavailable = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def nodes(self) -> tuple[NodeReport, ...] | None:
        """The newest node reports, or None if there is none younger than `max_age_s`."""
        with self._lock:
            if self._answered_at is None or self._clock() - self._answered_at > self.max_age_s:
                return None
            return self._nodes

    def refresh(self) -> bool:
        """Ask once (the thread's step); whether the scheduler answered."""
        try:
            nodes = tuple(self._ask())
        except SchedulerUnavailable as exc:
            if not self._unavailable:
                log.warning("batch capacity: the scheduler did not answer (%s); using the fallback", exc)
            self._unavailable = True
            return False
        except Exception:
            log.exception("batch capacity: asking the scheduler failed; using the fallback")
            return False
        if self._unavailable:
            log.warning("batch capacity: the scheduler answers again")
        self._unavailable = False
        with self._lock:
            self._nodes, self._answered_at = nodes, self._clock()
        return True

    def start(self) -> None:
        """Ask now, then every `refresh_s` on a daemon thread (idempotent)."""
        if self._thread is not None:
            return
        self._thread = named_thread(self._run, name="batch-room")
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.refresh_s)
