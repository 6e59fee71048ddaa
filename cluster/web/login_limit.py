"""Rate limiting of failed logins, per client address.

At most `allowed` failures within `window_s`; once an address has that many, every
login attempt from it (right or wrong) is refused with 429 until its oldest failure
is older than the window. A successful login clears the address's failures. Memory
is bounded: at most `max_addresses` addresses are tracked (the least recently
failing is forgotten first).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable

DEFAULT_MAX_ADDRESSES = 10_000


class LoginLimiter:
    def __init__(
        self,
        *,
        allowed: int,
        window_s: float,
        clock: Callable[[], float],
        max_addresses: int = DEFAULT_MAX_ADDRESSES,
    ):
        self.allowed = allowed
        self.window_s = window_s
        self.clock = clock
        self.max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, address: str) -> float | None:
        """Seconds until `address` may try again, or None if it may try now."""
        failures = self._recent(address)
        if failures is None or len(failures) < self.allowed:
            return None
        return max(0.0, failures[0] + self.window_s - self.clock())

    def failed(self, address: str) -> None:
        failures = self._recent(address)
        if failures is None:
            failures = self._failures[address] = deque(maxlen=self.allowed)
        failures.append(self.clock())
        self._failures.move_to_end(address)
        while len(self._failures) > self.max_addresses:
            self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)

    def _recent(self, address: str) -> deque[float] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        cutoff = self.clock() - self.window_s
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures


def retry_after_header(seconds: float) -> str:
    """The Retry-After value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
