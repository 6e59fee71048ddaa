"""A bounded ring of detection batches with dense sequence numbers.

Readers long-poll with the last sequence they saw; the ring never blocks the
writer, and a reader that fell further behind than the ring holds can tell from
`oldest_sequence` that it lost batches.
"""

from __future__ import annotations

import collections
import itertools
import threading
from dataclasses import replace

from ..domain import DetectionBatch, DetectionPull


class DetectionRing:
    def __init__(self, camera_id: str, capacity: int):
        if capacity < 1:
            raise ValueError(f"ring capacity must be >= 1, got {capacity}")
        self.camera_id = camera_id
        self._batches: collections.deque[DetectionBatch] = collections.deque(maxlen=capacity)
        self._next_sequence = 1
        self._cond = threading.Condition()

    def resize(self, capacity: int) -> None:
        """Keep at most `capacity` batches from now on (the newest ones if it shrinks)."""
        if capacity < 1:
            raise ValueError(f"ring capacity must be >= 1, got {capacity}")
        with self._cond:
            if capacity != self._batches.maxlen:
                self._batches = collections.deque(self._batches, maxlen=capacity)

    def publish(self, batch: DetectionBatch) -> DetectionBatch:
        """Store `batch` under the next sequence number and wake readers."""
        with self._cond:
            stored = replace(batch, sequence=self._next_sequence)
            self._next_sequence += 1
            self._batches.append(stored)
            self._cond.notify_all()
        return stored

    @property
    def newest_sequence(self) -> int:
        with self._cond:
            return self._next_sequence - 1

    def pull(self, after_sequence: int, max_batches: int, timeout_s: float = 0.0) -> DetectionPull:
        """Batches with sequence > after_sequence, oldest first; waits up to
        `timeout_s` for the first one if there is none yet."""
        max_batches = max(1, max_batches)
        with self._cond:
            self._cond.wait_for(lambda: self._next_sequence - 1 > after_sequence, max(0.0, timeout_s))
            oldest = self._batches[0].sequence if self._batches else self._next_sequence
            start = max(0, after_sequence + 1 - oldest)
            picked = tuple(itertools.islice(self._batches, start, start + max_batches))
            return DetectionPull(
                camera_id=self.camera_id,
                batches=picked,
                oldest_sequence=oldest,
                newest_sequence=self._next_sequence - 1,
            )
