"""Where the store's writer is in each camera's event ring.

A camera actor keeps its event revisions in a ring (`cluster.actors.ring.EventRing`)
with dense sequences and an `epoch` that changes when the actor restarts. The
writer stores, per camera, the epoch and the last sequence it has stored; it
writes that cursor in the same transaction as the events it pulled
(`EventStore.write(events, cursors=...)`), so after any crash the stored cursor and
the stored events agree: the next pull starts right after what is in the store.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RingCursor:
    """The last `sequence` stored from the ring `epoch` of camera `camera_id` (0: none yet)."""

    camera_id: str
    epoch: str
    sequence: int

    def __post_init__(self) -> None:
        for name in ("camera_id", "epoch"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"RingCursor.{name} must be a non-empty string, got {value!r}")
        if isinstance(self.sequence, bool) or not isinstance(self.sequence, int) or self.sequence < 0:
            raise ValueError(f"RingCursor.sequence must be an integer >= 0, got {self.sequence!r}")
