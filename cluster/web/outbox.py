"""What one console WebSocket still has to send: bounded, newest wins per channel.

    channels --put(key, message)--> [one pending message per key] --next()--> sender --> browser
                                                   ^                                        |
                                                   +------------- ack(seq) ----------------+

- At most one pending message per channel key: a newer one replaces it in place
  (`replaced` counts these), keeping the key's place in line so a busy tile cannot
  starve the others (first pending, first sent).
- At most `window` messages sent and not yet acknowledged. While the window is
  full nothing is sent, so a browser that stops reading (hidden tab, slow link,
  busy machine) holds at most `window` messages in flight plus one per channel
  here, whatever the cameras produce.

Plain Python on the event loop: `put`, `discard` and `ack` never await, so the
channels never wait for a browser.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable

from .protocol import ProtocolError


class Outgoing:
    """One message to send: `encode(seq)` makes its bytes (binary) or text."""

    __slots__ = ("encode", "on_replaced", "on_sent")

    def __init__(
        self,
        encode: Callable[[int], str | bytes],
        on_sent: Callable[[], None] | None = None,
        on_replaced: Callable[[], None] | None = None,
    ):
        self.encode = encode
        self.on_sent = on_sent  # after the socket accepted it
        self.on_replaced = on_replaced  # a newer message of its channel took its place unsent


class Outbox:
    def __init__(self, window: int, monotonic: Callable[[], float]):
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.window = window
        self._monotonic = monotonic
        self._pending: OrderedDict[Hashable, Outgoing] = OrderedDict()
        self._ready = asyncio.Event()
        self.sent_seq = 0  # seq of the last message handed to the sender
        self.acked_seq = 0
        self.replaced = 0
        self._blocked_since: float | None = None  # the window has been full with data waiting since

    @property
    def in_flight(self) -> int:
        return self.sent_seq - self.acked_seq

    @property
    def pending(self) -> int:
        return len(self._pending)

    def put(self, key: Hashable, message: Outgoing) -> None:
        old = self._pending.get(key)
        self._pending[key] = message  # an existing key keeps its place
        if old is not None:
            self.replaced += 1
            if old.on_replaced is not None:
                old.on_replaced()
        self._update()

    def discard(self, key: Hashable) -> None:
        """Forget the channel's pending message (it was unsubscribed)."""
        self._pending.pop(key, None)
        self._update()

    def ack(self, seq: int) -> None:
        """The browser handled every message up to `seq`. An ack of a message never sent is
        a ProtocolError; an older ack than the last is ignored (acks may be coalesced)."""
        if seq > self.sent_seq:
            raise ProtocolError(f"ack.seq {seq} was never sent (last sent: {self.sent_seq})")
        if seq > self.acked_seq:
            self.acked_seq = seq
            self._update()

    async def next(self) -> tuple[int, Outgoing]:
        """The next message and its seq, once one is pending and the window has room."""
        while not (self._pending and self.in_flight < self.window):
            self._ready.clear()
            await self._ready.wait()
        _, message = self._pending.popitem(last=False)
        self.sent_seq += 1
        self._update()
        return self.sent_seq, message

    def stalled_for(self) -> float:
        """How long data has waited on a full window (0 when it is not waiting)."""
        if self._blocked_since is None:
            return 0.0
        return self._monotonic() - self._blocked_since

    def _update(self) -> None:
        if self._pending and self.in_flight < self.window:
            self._ready.set()
        blocked = bool(self._pending) and self.in_flight >= self.window
        if not blocked:
            self._blocked_since = None
        elif self._blocked_since is None:
            self._blocked_since = self._monotonic()
