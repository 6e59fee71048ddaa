"""`LongLivedHeap`: long-lived objects frozen out of full collections, cycles among
them still collected at each refresh."""

from __future__ import annotations

import gc
import weakref

import pytest

from cluster.support.heap import LongLivedHeap


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def unfrozen():
    yield
    gc.unfreeze()  # the rest of the test session collects as usual


def cycle() -> weakref.ref:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_nothing_happens_before_the_first_refresh_is_due():
    clock = Clock()
    heap = LongLivedHeap(first_s=30, every_s=300, clock=clock)
    clock.now = 29.9
    assert not heap.refresh_if_due(), "not due before first_s"
    assert gc.get_freeze_count() == 0, "nothing frozen yet"


def test_a_refresh_freezes_the_objects_alive_then():
    clock = Clock()
    heap = LongLivedHeap(first_s=30, every_s=300, clock=clock)
    kept = [Node() for _ in range(1000)]
    clock.now = 30
    assert heap.refresh_if_due(), "due at first_s"
    assert gc.get_freeze_count() >= len(kept), f"the live objects are frozen: {gc.get_freeze_count()}"
    assert not heap.refresh_if_due(), "the next one is a period later"
    clock.now = 330
    assert heap.refresh_if_due() and heap.refreshes == 2, "and then every every_s"


def test_a_cycle_frozen_while_alive_is_collected_at_the_next_refresh_once_garbage():
    clock = Clock()
    heap = LongLivedHeap(first_s=0, every_s=300, clock=clock)
    gone = cycle()  # garbage already, but only the collector can free a cycle
    gc.freeze()  # as if the previous refresh had frozen it while it was alive
    gc.collect()
    assert gone() is not None, "a frozen cycle is not collected by the usual collections"
    assert heap.refresh_if_due(), "due"
    assert gone() is None, "the refresh unfroze and collected it: frozen cycles do not leak past a period"


def test_bad_periods_are_refused():
    with pytest.raises(ValueError, match="first_s <= every_s"):
        LongLivedHeap(first_s=600, every_s=300)
