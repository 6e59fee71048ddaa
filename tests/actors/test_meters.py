"""Live-stat meters: smoothed values, rates by an injected clock, process usage windows."""

from __future__ import annotations

import time

from cluster.actors.meters import Ewma, ProcessUsage, RateMeter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_ewma_is_seeded_by_its_first_sample():
    ewma = Ewma(alpha=0.5)
    assert ewma.get(7.0) == 7.0, "no sample yet: the default"
    ewma.add(10.0)
    ewma.add(20.0)
    assert ewma.get() == 15.0


def test_rate_meter_counts_events_per_second_of_the_clock():
    clock = Clock()
    meter = RateMeter(window_s=5.0, clock=clock)
    for _ in range(11):
        meter.tick()
        clock.now += 0.5
    assert abs(meter.rate() - 2.0) < 0.25, f"2 events per second, got {meter.rate()}"


def test_rate_meter_forgets_events_older_than_its_window():
    clock = Clock()
    meter = RateMeter(window_s=5.0, clock=clock)
    for _ in range(10):
        meter.tick()
    clock.now += 60
    assert meter.rate() == 0.0


def test_process_usage_restart_leaves_start_up_work_out_of_the_next_sample():
    usage = ProcessUsage(min_interval_s=0.0)
    deadline = time.process_time() + 0.6
    while time.process_time() < deadline:  # start-up work: a busy core
        pass
    usage.restart()
    time.sleep(0.2)  # the steady state of an idle camera
    cpu, uss = usage.sample()
    assert cpu < 40.0, f"the busy start-up leaked into the first sample: {cpu:.0f}% of a core"
    assert uss > 0
