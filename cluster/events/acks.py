"""Acknowledgements: someone in the duty room saw an alert and says so.

Kept in the store's `acks` table (one row per event, the first acknowledgement
wins: a second console acknowledging the same alert changes nothing), deleted with
its event by retention. `EventStore.acknowledge` writes one; `acknowledgements`
reads those of a list of events (what a page shows beside them).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LOOKUP = 1000  # event ids per `acknowledgements` call (a page of events at most)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    event_id: str
    by: str  # the token's name (the principal), as the access log writes it
    at: float  # wall clock, epoch seconds
