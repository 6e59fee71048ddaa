"""The detection ring: dense sequences, bounded memory, long-poll, visible gaps."""

from __future__ import annotations

import threading

from cluster.actors.ring import DetectionRing
from cluster.domain import DetectionBatch


def batch(frame: int) -> DetectionBatch:
    return DetectionBatch("cam", 0, frame, 1000.0 + frame, 1000.1 + frame, (), False, 0.0)


def test_sequences_are_dense_from_one():
    ring = DetectionRing("cam", 8)
    stored = [ring.publish(batch(i)) for i in range(3)]
    assert [b.sequence for b in stored] == [1, 2, 3]


def test_pull_returns_batches_after_the_given_sequence_in_order():
    ring = DetectionRing("cam", 8)
    for i in range(5):
        ring.publish(batch(i))
    pull = ring.pull(after_sequence=2, max_batches=10)
    assert [b.sequence for b in pull.batches] == [3, 4, 5]
    assert (pull.oldest_sequence, pull.newest_sequence) == (1, 5)


def test_pull_respects_max_batches():
    ring = DetectionRing("cam", 8)
    for i in range(5):
        ring.publish(batch(i))
    assert [b.sequence for b in ring.pull(0, 2).batches] == [1, 2]


def test_ring_is_bounded_and_reports_lost_batches():
    ring = DetectionRing("cam", 4)
    for i in range(10):
        ring.publish(batch(i))
    pull = ring.pull(after_sequence=1, max_batches=100)
    assert [b.sequence for b in pull.batches] == [7, 8, 9, 10], "only the newest `capacity` batches are kept"
    assert pull.oldest_sequence == 7, "a reader at 1 must be able to see that 2..6 are gone"


def test_pull_waits_for_a_new_batch():
    ring = DetectionRing("cam", 4)
    ring.publish(batch(0))
    timer = threading.Timer(0.1, ring.publish, args=(batch(1),))
    timer.start()
    pull = ring.pull(after_sequence=1, max_batches=10, timeout_s=10.0)
    timer.join()
    assert [b.sequence for b in pull.batches] == [2], "long-poll should return the batch published while waiting"


def test_pull_times_out_empty():
    ring = DetectionRing("cam", 4)
    pull = ring.pull(after_sequence=0, max_batches=10, timeout_s=0.05)
    assert pull.batches == () and pull.newest_sequence == 0
