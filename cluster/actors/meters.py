"""Small smoothed meters used for live stats (plain Python, injectable clock)."""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Callable

import psutil


class Ewma:
    """Exponentially weighted moving average; the first sample seeds it."""

    def __init__(self, alpha: float = 0.2):
        self.alpha = alpha
        self.value: float | None = None

    def add(self, sample: float) -> float:
        self.value = sample if self.value is None else self.value + self.alpha * (sample - self.value)
        return self.value

    def get(self, default: float = 0.0) -> float:
        return default if self.value is None else self.value


class RateMeter:
    """Events per second over a sliding window."""

    def __init__(self, window_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self.clock = clock
        self._times: collections.deque[float] = collections.deque()

    def tick(self) -> None:
        now = self.clock()
        self._times.append(now)
        self._trim(now)

    def rate(self) -> float:
        now = self.clock()
        self._trim(now)
        if len(self._times) < 2:
            return 0.0
        span = max(now - self._times[0], 1e-6)
        return (len(self._times) - 1) / span if span < self.window_s else len(self._times) / self.window_s

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()


class ProcessUsage:
    """CPU (percent of one core) and USS memory of this process, sampled at most
    once per `min_interval_s` because reading smaps for USS is not free."""

    def __init__(self, min_interval_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self._process = psutil.Process(os.getpid())
        self._process.cpu_percent(None)  # first call primes the counter
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._sampled_at = -1e9
        self._cpu = 0.0
        self._uss = 0

    def restart(self) -> None:
        """Start a fresh CPU window, e.g. after start-up work that is not the steady state
        (importing, loading a model): the next sample covers only what follows."""
        with self._lock:
            self._process.cpu_percent(None)
            self._sampled_at = -1e9  # the next call samples, over the fresh window

    def sample(self) -> tuple[float, int]:
        with self._lock:
            now = self._clock()
            if now - self._sampled_at >= self._min_interval_s:
                self._sampled_at = now
                self._cpu = self._process.cpu_percent(None)
                try:
                    self._uss = self._process.memory_full_info().uss
                except (psutil.AccessDenied, AttributeError):
                    self._uss = self._process.memory_info().rss
            return self._cpu, self._uss
