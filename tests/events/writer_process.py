"""A writer process for the crash and concurrency tests: batches in a loop, each reported.

    python -m tests.events.writer_process DB --first B --batches N --batch-size K [--spread S]

Prints "begin B" just before writing batch B and "committed B" once `write()` has
returned, flushing each line. Batch B holds the events numbered B*K .. B*K+K-1
(`tests.events.factory.event`, so their ids are known to the test: event n has
track n), each with a thumbnail. With --spread S their start times are random in
[T0, T0 + S), so they land among events already stored (like a reprocessing job).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from cluster.events import EventStore

from .factory import JPEG, T0, event


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--batches", type=int, default=10**9)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--spread", type=float, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with EventStore(args.db) as store:
        print("open", flush=True)
        for batch in range(args.first, args.first + args.batches):
            numbers = range(batch * args.batch_size, (batch + 1) * args.batch_size)
            events = [
                event(
                    n,
                    camera=f"cam-{n % 4}",
                    thumbnail=JPEG,
                    start=None if args.spread is None else T0 + rng.uniform(0.0, args.spread),
                )
                for n in numbers
            ]
            print(f"begin {batch}", flush=True)
            store.write(events)
            print(f"committed {batch}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
