"""`StoreQueries` (tests/gateway/event_store_fake.py: a real SQLite store read in the
test's process, the writer actor's role) with the acknowledgement calls the console uses,
and `close()`, which waits for the calls still running in threads (a feed's long-poll
outlives the console that cancelled it by up to its timeout) before closing the store:
closing SQLite connections under a running query can crash the process."""

from __future__ import annotations

import threading
import time

from cluster.events import Acknowledgement, EventStore
from tests.gateway.event_store_fake import StoreQueries


class ConsoleStoreQueries(StoreQueries):
    def __init__(self, store: EventStore):
        super().__init__(store)
        self._running = 0
        self._lock = threading.Lock()

    async def _run(self, method: str, fn, *args, **kwargs):
        def counted():
            with self._lock:
                self._running += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self._running -= 1

        return await super()._run(method, counted)

    async def acknowledge(self, event_id: str, who: str, at: float) -> Acknowledgement:
        return await self._run("acknowledge", self.store.acknowledge, event_id, who, at)

    async def acknowledgements(self, event_ids: tuple[str, ...]) -> dict[str, Acknowledgement]:
        return await self._run("acknowledgements", self.store.acknowledgements, event_ids)

    def close(self, timeout_s: float = 10.0) -> None:
        self.down = True  # no new calls
        self.notifier.advance(self.store.last_change_seq() + 1)  # wake the long-polls
        deadline = time.monotonic() + timeout_s
        while self._running and time.monotonic() < deadline:
            time.sleep(0.01)
        self.store.close()
