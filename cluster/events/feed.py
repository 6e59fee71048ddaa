"""Following the change feed live: long-polls that wake when the writer commits.

The store's change feed (`EventReader.changes_after`) answers at once; a reader
that follows it live would have to poll. The writer's process holds a
`ChangeNotifier` that the writer advances after every commit, and
`wait_for_changes` reads the feed, then sleeps on the notifier until the feed
moves past where it read (or the timeout ends), so a follower hears of a
commit at once without polling the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .query import ALL_EVENTS, ChangePage, EventFilter
from .reader import EventReader

MAX_WAIT_S = 60.0  # one long-poll waits at most this long


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """The store's change feed: its public id (in stream cursors) and its newest position."""

    feed_id: str
    position: int


class ChangeNotifier:
    """The newest committed change-feed position, and a way to wait for it to move. Thread-safe."""

    def __init__(self, position: int = 0):
        self._position = position
        self._cond = threading.Condition()

    @property
    def position(self) -> int:
        with self._cond:
            return self._position

    def advance(self, position: int) -> None:
        with self._cond:
            if position > self._position:
                self._position = position
                self._cond.notify_all()

    def wait_beyond(self, position: int, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the position to pass `position`; whether it did."""
        with self._cond:
            return self._cond.wait_for(lambda: self._position > position, max(0.0, timeout_s))


def wait_for_changes(
    reader: EventReader,
    notifier: ChangeNotifier,
    position: int,
    limit: int,
    *,
    filter: EventFilter = ALL_EVENTS,
    timeout_s: float = 0.0,
    monotonic: Callable[[], float] = time.monotonic,
) -> ChangePage:
    """Changes after `position` matching `filter`, waiting up to `timeout_s` (at most
    `MAX_WAIT_S`) for the first; the page's `position` is where to go on from."""
    page = reader.changes_after(position, limit, filter=filter)
    deadline = monotonic() + min(max(0.0, timeout_s), MAX_WAIT_S)
    while not page.changes:
        remaining = deadline - monotonic()
        if remaining <= 0 or not notifier.wait_beyond(page.position, remaining):
            return page
        page = reader.changes_after(page.position, limit, filter=filter)
    return page
