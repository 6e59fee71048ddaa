"""`StoreQueries` (tests/gateway/event_store_fake.py: a real SQLite store read in the
test's process, the writer actor's role) with the acknowledgement calls the console uses."""

from __future__ import annotations

from cluster.events import Acknowledgement
from tests.gateway.event_store_fake import StoreQueries


class ConsoleStoreQueries(StoreQueries):
    async def acknowledge(self, event_id: str, who: str, at: float) -> Acknowledgement:
        return await self._run("acknowledge", self.store.acknowledge, event_id, who, at)

    async def acknowledgements(self, event_ids: tuple[str, ...]) -> dict[str, Acknowledgement]:
        return await self._run("acknowledgements", self.store.acknowledgements, event_ids)
