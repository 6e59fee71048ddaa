"""`LongLivedHeap`: keep a control loop's long-lived objects out of the garbage
collector's full collections, and collect them on a schedule instead.

Python's cyclic collector scans every tracked object in a full (generation 2)
collection, which runs whenever the objects that survived into generation 2 grew by
a quarter. The scheduler holds about 150,000 long-lived objects at 2,000 cameras
(records, views, plans), so a full collection costs 50-100 ms and lands on whatever
step happens to allocate at that moment: it was the p99 of the step time
(`bench/district_sim.py`, docs/benchmarks.md).

`gc.freeze()` moves every tracked object to a permanent generation the collector
never scans. Frozen objects that become garbage are still freed by reference
counting; only cycles among them would stay. So every `every_s` the loop calls
`refresh()` between two steps: unfreeze, one full collection (the cycles go), freeze
again. One planned pause per period instead of unplanned ones inside steps, and
nothing leaks for longer than a period. The first refresh is after `first_s`, once
the start-up placement has built the bulk of the state.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


class LongLivedHeap:
    def __init__(self, *, first_s: float = 30.0, every_s: float = 300.0, clock: Callable[[], float] = time.monotonic):
        if not (0 <= first_s <= every_s and every_s > 0):
            raise ValueError(f"need 0 <= first_s <= every_s and every_s > 0, got {first_s!r}, {every_s!r}")
        self.every_s = every_s
        self._clock = clock
        self._due = clock() + first_s
        self.refreshes = 0
        self.last_pause_s = 0.0  # how long the last refresh held the loop

    def refresh_if_due(self) -> bool:
        """Collect and freeze again if the period is over (call between steps); whether it did."""
        if self._clock() < self._due:
            return False
        started = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.last_pause_s = time.perf_counter() - started
        self.refreshes += 1
        self._due = self._clock() + self.every_s
        return True
