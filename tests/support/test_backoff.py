"""Backoff: exponential growth, jitter within bounds, a cap, and reset."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.config.source import ReconnectConfig
from cluster.support.backoff import Backoff


@st.composite
def reconnect_configs(draw: st.DrawFn) -> ReconnectConfig:
    initial = draw(st.floats(min_value=0.01, max_value=60))
    return ReconnectConfig(
        initial_s=initial,
        max_s=draw(st.floats(min_value=initial, max_value=600)),
        multiplier=draw(st.floats(min_value=1.0, max_value=10.0)),
        jitter=draw(st.floats(min_value=0.0, max_value=1.0)),
    )


def test_without_jitter_delays_grow_geometrically_up_to_the_cap():
    backoff = Backoff(ReconnectConfig(initial_s=0.5, max_s=5.0, multiplier=2.0, jitter=0.0), random.Random(1))

    delays = [backoff.next_delay() for _ in range(6)]

    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0], f"unexpected delay sequence {delays}"


def test_reset_starts_the_sequence_over():
    backoff = Backoff(ReconnectConfig(initial_s=1.0, max_s=30.0, multiplier=3.0, jitter=0.0), random.Random(1))
    for _ in range(4):
        backoff.next_delay()

    backoff.reset()

    assert backoff.failures == 0, "reset should clear the failure count"
    assert backoff.next_delay() == 1.0, "after reset the first delay is initial_s again"


@given(config=reconnect_configs(), seed=st.integers(0, 2**32), failures=st.integers(1, 60))
def test_every_delay_stays_within_jitter_of_its_base_and_under_the_cap(config, seed, failures):
    backoff = Backoff(config, random.Random(seed))
    base = config.initial_s
    for attempt in range(failures):
        delay = backoff.next_delay()
        low = base * (1 - config.jitter)
        high = min(config.max_s, base * (1 + config.jitter))
        assert 0.0 <= delay <= config.max_s, f"delay {delay} outside [0, {config.max_s}]"
        assert low - 1e-9 <= delay <= high + 1e-9, f"attempt {attempt}: delay {delay} not in [{low}, {high}]"
        base = min(config.max_s, base * config.multiplier)


@given(config=reconnect_configs(), seed=st.integers(0, 2**32))
def test_same_seed_gives_the_same_delays(config, seed):
    first = Backoff(config, random.Random(seed))
    second = Backoff(config, random.Random(seed))

    assert [first.next_delay() for _ in range(10)] == [second.next_delay() for _ in range(10)]


def test_many_failures_do_not_overflow():
    backoff = Backoff(ReconnectConfig(initial_s=1.0, max_s=600.0, multiplier=10.0, jitter=0.5), random.Random(7))

    delays = [backoff.next_delay() for _ in range(5000)]

    assert max(delays) <= 600.0, "the cap must hold however many failures"
    assert backoff.failures == 5000


def test_jitter_actually_varies_the_delays():
    backoff = Backoff(ReconnectConfig(initial_s=10.0, max_s=10.0, multiplier=1.0, jitter=0.5), random.Random(3))

    delays = {round(backoff.next_delay(), 6) for _ in range(20)}

    assert len(delays) > 1, "with jitter 0.5 twenty delays should not all be equal"


@pytest.mark.parametrize("jitter", [0.0, 0.2, 1.0])
def test_first_delay_is_around_initial(jitter):
    backoff = Backoff(ReconnectConfig(initial_s=2.0, max_s=30.0, jitter=jitter), random.Random(5))

    delay = backoff.next_delay()

    assert 2.0 * (1 - jitter) <= delay <= 2.0 * (1 + jitter), f"first delay {delay} with jitter {jitter}"
