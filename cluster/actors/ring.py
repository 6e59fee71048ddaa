"""Bounded rings with dense sequence numbers: the camera's detection batches and its
event revisions.

Readers long-poll with the last sequence they saw; the ring never blocks the
writer, and a reader that fell further behind than the ring holds can tell from
`oldest_sequence` that it lost items.
"""

from __future__ import annotations

import collections
import itertools
import secrets
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Generic, TypeVar

from ..domain import DetectionBatch, DetectionPull, Event, EventPull

Item = TypeVar("Item")


class SequencedRing(Generic[Item]):
    """The newest `capacity` items, numbered 1, 2, 3, ... in publish order, under an
    `epoch` of their own: a new ring (a restarted actor) is a new epoch."""

    def __init__(self, camera_id: str, capacity: int, *, epoch: str | None = None):
        if capacity < 1:
            raise ValueError(f"ring capacity must be >= 1, got {capacity}")
        self.camera_id = camera_id
        self.epoch = epoch if epoch is not None else secrets.token_hex(8)
        self._items: collections.deque[Item] = collections.deque(maxlen=capacity)
        self._next_sequence = 1
        self._cond = threading.Condition()

    def resize(self, capacity: int) -> None:
        """Keep at most `capacity` items from now on (the newest ones if it shrinks)."""
        if capacity < 1:
            raise ValueError(f"ring capacity must be >= 1, got {capacity}")
        with self._cond:
            if capacity != self._items.maxlen:
                self._items = collections.deque(self._items, maxlen=capacity)

    @property
    def newest_sequence(self) -> int:
        with self._cond:
            return self._next_sequence - 1

    def _append(self, items: Sequence[Item]) -> int:
        """Store `items` under the next sequence numbers, wake readers; the first number."""
        with self._cond:
            first = self._next_sequence
            self._items.extend(items)
            self._next_sequence += len(items)
            if items:
                self._cond.notify_all()
            return first

    def _take(self, after_sequence: int, max_items: int, timeout_s: float) -> tuple[tuple[Item, ...], int, int, int]:
        """(items with sequence > after_sequence oldest first, the first one's sequence,
        oldest held, newest), waiting up to `timeout_s` for one if there is none yet."""
        max_items = max(1, max_items)
        with self._cond:
            self._cond.wait_for(lambda: self._next_sequence - 1 > after_sequence, max(0.0, timeout_s))
            oldest = self._next_sequence - len(self._items)
            start = max(0, after_sequence + 1 - oldest)
            picked = tuple(itertools.islice(self._items, start, start + max_items))
            return picked, oldest + start, oldest, self._next_sequence - 1


class DetectionRing(SequencedRing[DetectionBatch]):
    def publish(self, batch: DetectionBatch) -> DetectionBatch:
        """Store `batch` under the next sequence number and wake readers."""
        with self._cond:  # the number goes into the batch, so take it under the lock
            stored = replace(batch, sequence=self._next_sequence)
            self._append((stored,))
        return stored

    def pull(self, after_sequence: int, max_batches: int, timeout_s: float = 0.0) -> DetectionPull:
        """Batches with sequence > after_sequence, oldest first; waits up to
        `timeout_s` for the first one if there is none yet."""
        batches, _, oldest, newest = self._take(after_sequence, max_batches, timeout_s)
        return DetectionPull(
            camera_id=self.camera_id,
            batches=batches,
            oldest_sequence=oldest,
            newest_sequence=newest,
            epoch=self.epoch,
        )


class EventRing(SequencedRing[Event]):
    """The camera's event revisions, for the event store's writer to pull.

    The writer pulls with the last sequence it stored (its cursor, kept with the
    ring's `epoch`) and may pull the same revisions again after a crash: delivery
    is at least once, and event ids and revisions make the store keep each
    revision once. A camera actor that restarts starts a new ring: a new epoch,
    sequences from 1.

    How long the ring covers: a revision is one event start, update or end, so
    `capacity` (output.event_ring_size, 1024 by default) is what a writer may
    fall behind by without losing any. A quiet residential camera makes a few
    events an hour (days of cover); a counting line on a busy road, about one
    crossing every few seconds, fills 1024 in about an hour; a loitering or
    occupancy event adds one revision per `rules.update_interval_s` (10 s) while it
    goes on. A thumbnail (about 10 to 20 KB at 320 px) rides only on the revisions
    that bring a new picture, so the ring holds some tens of MB at most.
    """

    def publish(self, events: Sequence[Event]) -> int:
        """Store `events` in order; the sequence of the first (the next one if none)."""
        return self._append(tuple(events))

    def pull(self, after_sequence: int, max_events: int, timeout_s: float = 0.0) -> EventPull:
        """Revisions with sequence > after_sequence, oldest first; waits up to
        `timeout_s` for the first one if there is none yet."""
        events, first, oldest, newest = self._take(after_sequence, max_events, timeout_s)
        return EventPull(
            camera_id=self.camera_id,
            epoch=self.epoch,
            events=events,
            first_sequence=first,
            oldest_sequence=oldest,
            newest_sequence=newest,
        )
