"""How long to wait before the next attempt to reach a source."""

from __future__ import annotations

import random
from typing import Protocol


class BackoffPolicy(Protocol):
    """The shape of `cluster.config.ReconnectConfig` (and the scheduler's restart policy)."""

    initial_s: float
    max_s: float
    multiplier: float
    jitter: float


class Backoff:
    """Exponential backoff with +/- jitter, capped at `max_s`.

    The n-th consecutive failure waits about `initial_s * multiplier**(n-1)`, never
    more than `max_s`. Jitter spreads the retries of many cameras behind one dead
    switch, so they do not all knock again at the same instant. `reset()` after a
    success starts the sequence over. Pure: the randomness comes in as an argument.
    """

    def __init__(self, config: BackoffPolicy, rng: random.Random | None = None) -> None:
        self._config = config
        self._rng = rng if rng is not None else random.Random()
        self._base = config.initial_s
        self._failures = 0

    @property
    def failures(self) -> int:
        """Consecutive failures since the last reset."""
        return self._failures

    def next_delay(self) -> float:
        """The wait, in seconds, before the next attempt; advances the sequence."""
        config = self._config
        base = self._base
        # Grow the base step by step rather than computing multiplier**n, which
        # would overflow after enough failures; it stops growing at the cap.
        self._base = min(config.max_s, base * config.multiplier)
        self._failures += 1
        jittered = base * (1.0 + self._rng.uniform(-config.jitter, config.jitter))
        return min(config.max_s, max(0.0, jittered))

    def reset(self) -> None:
        self._base = self._config.initial_s
        self._failures = 0
