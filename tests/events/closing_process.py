"""Closes stores while threads read them, for `test_close.py`, in a child process
because the defect it pins killed the whole process (SIGSEGV), pytest with it.

    python -m tests.events.closing_process DIR --rounds N

Each round stores events, starts reader threads that query until the store refuses
with an `EventStoreError`, closes the store after a delay that varies by round (so
the close lands at every point of a running query), and joins them. Prints
"survived N" at the end.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

from cluster.events import EventStore
from cluster.events.errors import EventStoreError

from .factory import JPEG, event

READERS = 8


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--rounds", type=int, default=120)
    args = parser.parse_args()
    for round_ in range(args.rounds):
        store = EventStore(args.dir / f"events-{round_}.sqlite3")
        store.write([event(i, thumbnail=JPEG) for i in range(100)])

        def read_until_closed(store: EventStore = store) -> None:
            while True:
                try:
                    store.query(page_size=200)
                except EventStoreError:
                    return

        readers = [threading.Thread(target=read_until_closed) for _ in range(READERS)]
        for reader in readers:
            reader.start()
        time.sleep(0.001 * (round_ % 20))
        store.close()
        for reader in readers:
            reader.join()
    print(f"survived {args.rounds}", flush=True)


if __name__ == "__main__":
    main()
