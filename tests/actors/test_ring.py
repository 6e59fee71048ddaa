"""The detection ring: dense sequences, bounded memory, long-poll, visible gaps."""

from __future__ import annotations

import threading

from cluster.actors.ring import DetectionRing, EventRing
from cluster.domain import DetectionBatch, Event, EventType


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


# ---- the event ring ------------------------------------------------------------------


def revision(n: int) -> Event:
    return Event.new("cam", EventType.LINE_CROSSING, "info", "line", start_time=1000.0 + n, start_pts=float(n))


def test_event_revisions_get_dense_sequences_and_the_pull_says_where_to_resume():
    ring = EventRing("cam", 8)
    assert ring.publish([revision(0), revision(1)]) == 1 and ring.publish([revision(2)]) == 3
    pull = ring.pull(after_sequence=1, max_events=10)
    assert [e.start_pts for e in pull.events] == [1.0, 2.0], "revisions after the cursor, oldest first"
    assert (pull.first_sequence, pull.last_sequence) == (2, 3), "events[i] has sequence first_sequence + i"
    assert (pull.oldest_sequence, pull.newest_sequence) == (1, 3)


def test_an_empty_pull_keeps_the_cursor():
    ring = EventRing("cam", 8)
    ring.publish([revision(0)])
    pull = ring.pull(after_sequence=1, max_events=10)
    assert pull.events == () and pull.last_sequence == 1, "nothing new: the stored cursor stays"


def test_a_reader_behind_the_ring_sees_what_it_lost():
    ring = EventRing("cam", 4)
    ring.publish([revision(n) for n in range(10)])
    pull = ring.pull(after_sequence=2, max_events=100)
    assert pull.first_sequence == pull.oldest_sequence == 7, "revisions 3..6 are gone and the pull shows it"
    assert len(pull.events) == 4


def test_each_ring_has_its_own_epoch():
    first, second = EventRing("cam", 4), EventRing("cam", 4)
    assert first.epoch != second.epoch, "a restarted camera's ring is told apart from the old one"
    assert first.pull(0, 1).epoch == first.epoch


def test_an_event_pull_waits_for_revisions():
    ring = EventRing("cam", 4)
    timer = threading.Timer(0.1, ring.publish, args=([revision(0)],))
    timer.start()
    pull = ring.pull(after_sequence=0, max_events=10, timeout_s=10.0)
    timer.join()
    assert len(pull.events) == 1, "the long-poll returns once a revision arrives"
