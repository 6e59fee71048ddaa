"""The per-socket outbox: newest wins per channel, a window of unacknowledged messages."""

from __future__ import annotations

import asyncio

import pytest

from cluster.web.outbox import Outbox, Outgoing
from cluster.web.protocol import ProtocolError

from .harness import ManualClock


def text(value: str, log: list | None = None) -> Outgoing:
    return Outgoing(lambda seq: f"{value}@{seq}", on_replaced=(lambda: log.append(value)) if log is not None else None)


def drain(outbox: Outbox) -> list[str]:
    """Everything the window lets out now."""

    async def take() -> list[str]:
        got = []
        while outbox.pending and outbox.in_flight < outbox.window:
            seq, message = await outbox.next()
            got.append(message.encode(seq))
        return got

    return asyncio.run(take())


def test_a_newer_message_replaces_the_unsent_one_of_its_channel() -> None:
    replaced: list = []
    outbox = Outbox(window=4, monotonic=ManualClock())
    outbox.put("tile-a", text("a1", replaced))
    outbox.put("tile-a", text("a2", replaced))
    outbox.put("tile-a", text("a3", replaced))
    assert drain(outbox) == ["a3@1"], "only the newest message of a channel may be sent"
    assert replaced == ["a1", "a2"] and outbox.replaced == 2, f"replacements must be reported: {replaced}"


def test_a_replaced_message_keeps_its_channels_place_in_line() -> None:
    outbox = Outbox(window=10, monotonic=ManualClock())
    outbox.put("a", text("a1"))
    outbox.put("b", text("b1"))
    outbox.put("a", text("a2"))
    assert drain(outbox) == ["a2@1", "b1@2"], "a busy channel must not jump the queue, nor lose its place"


def test_nothing_is_sent_beyond_the_window_until_acked() -> None:
    outbox = Outbox(window=2, monotonic=ManualClock())
    for name in "abcd":
        outbox.put(name, text(name))
    assert drain(outbox) == ["a@1", "b@2"], "two in flight at most"
    assert outbox.in_flight == 2 and outbox.pending == 2
    outbox.ack(1)
    assert drain(outbox) == ["c@3"], "one ack opens one place"
    outbox.ack(3)
    assert drain(outbox) == ["d@4"], "a cumulative ack opens every place up to it"


def test_while_the_window_is_full_every_channel_keeps_only_its_newest() -> None:
    outbox = Outbox(window=1, monotonic=ManualClock())
    outbox.put("a", text("a0"))
    assert drain(outbox) == ["a0@1"]
    for i in range(1, 100):
        outbox.put("a", text(f"a{i}"))
        outbox.put("b", text(f"b{i}"))
    assert outbox.pending == 2, "a stalled browser must hold at most one message per channel"
    outbox.ack(1)
    assert drain(outbox) == ["a99@2"], "after the ack the newest frame goes, not the backlog"


def test_an_ack_of_a_message_never_sent_is_a_protocol_error() -> None:
    outbox = Outbox(window=2, monotonic=ManualClock())
    outbox.put("a", text("a"))
    drain(outbox)
    with pytest.raises(ProtocolError, match="never sent"):
        outbox.ack(2)
    outbox.ack(1)
    outbox.ack(0)  # older than the last ack: ignored
    assert outbox.acked_seq == 1, "an older ack must not move the ack back"


def test_stalled_for_counts_while_data_waits_on_a_full_window() -> None:
    clock = ManualClock(0.0)
    outbox = Outbox(window=1, monotonic=clock)
    outbox.put("a", text("a"))
    drain(outbox)
    assert outbox.stalled_for() == 0.0, "nothing waiting: not stalled"
    outbox.put("a", text("a2"))
    clock.advance(7)
    assert outbox.stalled_for() == 7.0, "data waiting on a full window: stalled since it began waiting"
    outbox.ack(1)
    assert outbox.stalled_for() == 0.0, "an ack that opens the window ends the stall"


def test_discard_forgets_an_unsubscribed_channels_message() -> None:
    outbox = Outbox(window=2, monotonic=ManualClock())
    outbox.put("a", text("a"))
    outbox.put("b", text("b"))
    outbox.discard("a")
    assert drain(outbox) == ["b@1"], "an unsubscribed channel's pending message must not be sent"
