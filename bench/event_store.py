"""The event store against plain sqlite3: insert rate and query latency at a million events.

    python -m bench.event_store --events 1000000

Generates N events (64 cameras over 30 days, a realistic mix of types, classes and
severities, in start-time order as live cameras produce them) and, in one run:

1. Inserts them twice, interleaved block by block so both see the same machine: into
   an `EventStore` (`write()` of `Event` batches: the store's conversion, its "which
   of these exist?" lookup, revision planning, change-feed counter and metrics), and
   with plain `sqlite3` `executemany` of the same rows, already converted to tuples,
   into a second file with the same schema and settings (WAL, the same `synchronous`).
2. Runs each query through the store's API and the same SQL by hand on the store's
   file (plain `sqlite3` connection), alternating, with the same random arguments:
   - camera + time range: one camera, one day, newest first, a page of 100;
   - class filter: one class (common or rare), newest first before a random time, 100;
   - count by hour: every event of one day, per local hour (Asia/Ho_Chi_Minh);
   - the issue's example: one camera's crossings of one line by one class, per hour
     and direction, over a day;
   - a viewer's scope: 16 cameras, newest first, a page of 100, within one day and
     without a time range (camera_id IN (...): SQLite walks each camera's index range
     in order and stops early, so no sort of every matching row).

Prints rates, p50/p99 latencies and the ratios store / plain, and whether the issue's
goals hold: the store at >= 0.8x the raw insert rate, each query under 50 ms p99.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import percentile, print_table
from cluster.domain import Box, Event, EventType
from cluster.events import Bucket, EventFilter, EventStore
from cluster.events.rows import INSERT_SQL, to_row
from cluster.events.schema import Synchronous

T0 = 1_790_000_000.0
DAY = 86400.0
HCMC_OFFSET_S = 7 * 3600
CLASSES = (("person", 0.35), ("motorbike", 0.30), ("car", 0.25), ("bicycle", 0.05), ("truck", 0.05))
TYPES = (
    ("line_crossing", 0.45),
    ("zone_enter", 0.2),
    ("zone_leave", 0.2),
    ("loitering", 0.05),
    ("occupancy", 0.05),
    ("tamper_black", 0.01),
    ("stream_lost", 0.02),
    ("tamper_moved", 0.02),
)
HEALTH = {"tamper_black", "stream_lost", "tamper_moved"}
BLOCK_BATCHES = 20  # insert blocks alternate between the two files


def generate(n: int, cameras: int, days: float, seed: int) -> list[Event]:
    rng = random.Random(seed)
    class_names, class_weights = [c for c, _ in CLASSES], [w for _, w in CLASSES]
    type_names, type_weights = [t for t, _ in TYPES], [w for _, w in TYPES]
    starts = sorted(T0 + rng.uniform(0.0, days * DAY) for _ in range(n))
    events = []
    for i, start in enumerate(starts):
        camera = f"cam-{rng.randrange(cameras):02d}"
        kind = rng.choices(type_names, type_weights)[0]
        health = kind in HEALTH
        crossing = kind == "line_crossing"
        events.append(
            Event.new(
                camera,
                kind,
                "alert" if health or rng.random() < 0.15 else "info",
                "health" if health else ("ramp" if crossing else rng.choice(("alley", "gate", "parking"))),
                start_time=start,
                start_pts=float(i),
                class_name=None if health else rng.choices(class_names, class_weights)[0],
                track_id=None if health else i,
                direction=rng.choice(("a_to_b", "b_to_a")) if crossing else None,
                dwell_s=rng.uniform(1.0, 600.0) if kind in ("zone_leave", "loitering") else None,
                count=rng.randint(3, 12) if kind == "occupancy" else None,
                end_time=start + rng.uniform(0.5, 60.0),
                peak_confidence=None if health else rng.uniform(0.3, 0.99),
                peak_box=None if health else Box(rng.random() * 0.8, rng.random() * 0.8, 0.1, 0.2),
            )
        )
    return events


def open_raw(path: Path, synchronous: Synchronous) -> sqlite3.Connection:
    EventStore(path, synchronous=synchronous).close()  # the same schema, indexes and file settings
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    return conn


def insert_both(events: list[Event], batch: int, store: EventStore, raw: sqlite3.Connection) -> tuple[float, float]:
    """Seconds spent inserting, (store, plain), alternating blocks of batches."""
    rows = [to_row(e, i + 1, i + 1) for i, e in enumerate(events)]
    batches = [(events[i : i + batch], rows[i : i + batch]) for i in range(0, len(events), batch)]
    store_s = raw_s = 0.0
    for b in range(0, len(batches), BLOCK_BATCHES):
        block = batches[b : b + BLOCK_BATCHES]
        started = time.perf_counter()
        for event_batch, _ in block:
            store.write(event_batch)
        store_s += time.perf_counter() - started
        started = time.perf_counter()
        for _, row_batch in block:
            raw.execute("BEGIN IMMEDIATE")
            raw.executemany(INSERT_SQL, row_batch)
            raw.execute("COMMIT")
        raw_s += time.perf_counter() - started
    return store_s, raw_s


class Query:
    """One query shape: the store's call and the same SQL by hand, from the same arguments."""

    def __init__(
        self,
        name: str,
        arguments: Callable[[random.Random], dict],
        via_store: Callable[[EventStore, dict], object],
        sql: str,
        sql_params: Callable[[dict], list],
    ):
        self.name, self.arguments, self.via_store, self.sql, self.sql_params = (
            name,
            arguments,
            via_store,
            sql,
            sql_params,
        )


def queries(cameras: int, days: float) -> list[Query]:
    def day(rng):
        return T0 + rng.randrange(int(days)) * DAY

    def camera(rng):
        return f"cam-{rng.randrange(cameras):02d}"

    columns = (
        "seq, change_seq, event_id, camera_id, type, severity, rule, start_time, end_time, start_pts, "
        "end_pts, class_name, track_id, direction, dwell_s, count, peak_confidence, box_x, box_y, box_w, "
        "box_h, job_id, revision"
    )
    hour = f"CAST((start_time + {HCMC_OFFSET_S}) / 3600.0 AS INTEGER)"
    scope_size = min(16, cameras)
    return [
        Query(
            "camera + time range (page of 100)",
            lambda rng: {"camera": camera(rng), "day": day(rng)},
            lambda s, a: s.query(
                EventFilter(cameras={a["camera"]}, time_from=a["day"], time_to=a["day"] + DAY), page_size=100
            ),
            f"SELECT {columns} FROM events WHERE camera_id = ? AND start_time >= ? AND start_time < ? "
            "ORDER BY start_time DESC, seq DESC LIMIT 101",
            lambda a: [a["camera"], a["day"], a["day"] + DAY],
        ),
        Query(
            "class filter (page of 100)",
            lambda rng: {"class": rng.choice([c for c, _ in CLASSES]), "before": T0 + rng.uniform(0, days * DAY)},
            lambda s, a: s.query(EventFilter(classes={a["class"]}, time_to=a["before"]), page_size=100),
            f"SELECT {columns} FROM events WHERE class_name = ? AND start_time < ? "
            "ORDER BY start_time DESC, seq DESC LIMIT 101",
            lambda a: [a["class"], a["before"]],
        ),
        Query(
            "count by hour (one day, all cameras)",
            lambda rng: {"day": day(rng)},
            lambda s, a: s.count(
                EventFilter(time_from=a["day"], time_to=a["day"] + DAY),
                bucket=Bucket.HOUR,
                time_zone="Asia/Ho_Chi_Minh",
            ),
            f"SELECT {hour} AS h, count(*) FROM events WHERE start_time >= ? AND start_time < ? GROUP BY h ORDER BY h",
            lambda a: [a["day"], a["day"] + DAY],
        ),
        Query(
            "crossings of one line per hour and direction",
            lambda rng: {"camera": camera(rng), "day": day(rng)},
            lambda s, a: s.count(
                EventFilter(
                    cameras={a["camera"]},
                    rules={"ramp"},
                    classes={"motorbike"},
                    types={EventType.LINE_CROSSING},
                    time_from=a["day"],
                    time_to=a["day"] + DAY,
                ),
                group_by=["direction"],
                bucket="hour",
                time_zone="Asia/Ho_Chi_Minh",
            ),
            f"SELECT {hour} AS h, direction, count(*) FROM events WHERE camera_id = ? AND type = ? "
            "AND class_name = ? AND rule = ? AND start_time >= ? AND start_time < ? "
            "GROUP BY h, direction ORDER BY h, direction",
            lambda a: [a["camera"], "line_crossing", "motorbike", "ramp", a["day"], a["day"] + DAY],
        ),
        Query(
            f"viewer scope: {scope_size} cameras, one day (page of 100)",
            lambda rng: {
                "cameras": sorted(f"cam-{c:02d}" for c in rng.sample(range(cameras), scope_size)),
                "day": day(rng),
            },
            lambda s, a: s.query(
                EventFilter(cameras=set(a["cameras"]), time_from=a["day"], time_to=a["day"] + DAY), page_size=100
            ),
            f"SELECT {columns} FROM events WHERE camera_id IN ({', '.join('?' * scope_size)}) "
            "AND start_time >= ? AND start_time < ? ORDER BY start_time DESC, seq DESC LIMIT 101",
            lambda a: [*a["cameras"], a["day"], a["day"] + DAY],
        ),
        Query(
            f"viewer scope: {scope_size} cameras, newest (page of 100)",
            lambda rng: {"cameras": sorted(f"cam-{c:02d}" for c in rng.sample(range(cameras), scope_size))},
            lambda s, a: s.query(EventFilter(cameras=set(a["cameras"])), page_size=100),
            f"SELECT {columns} FROM events WHERE camera_id IN ({', '.join('?' * scope_size)}) "
            "ORDER BY start_time DESC, seq DESC LIMIT 101",
            lambda a: list(a["cameras"]),
        ),
    ]


def time_queries(store: EventStore, path: Path, shapes: list[Query], repeats: int, seed: int):
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rng = random.Random(seed)
    results = []
    for shape in shapes:
        store_ms: list[float] = []
        raw_ms: list[float] = []
        for i in range(repeats):
            arguments = shape.arguments(rng)
            runs = [
                ("store", lambda a=arguments, q=shape: q.via_store(store, a)),
                ("raw", lambda a=arguments, q=shape: raw.execute(q.sql, q.sql_params(a)).fetchall()),
            ]
            for which, run in runs if i % 2 == 0 else runs[::-1]:
                started = time.perf_counter()
                run()
                (store_ms if which == "store" else raw_ms).append((time.perf_counter() - started) * 1000.0)
        results.append((shape.name, store_ms, raw_ms))
    raw.close()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate and insert")
    parser.add_argument("--cameras", type=int, default=64)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=500, help="events per write (events.batch.max_events)")
    parser.add_argument("--queries", type=int, default=300, help="runs of each query shape")
    parser.add_argument("--synchronous", choices=("normal", "full"), default="normal")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="where the two files go (default: a temp dir)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    events = generate(args.events, args.cameras, args.days, args.seed)
    print(
        f"generated {len(events)} events in {time.perf_counter() - started:.1f} s; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        store_path, raw_path = Path(tmp) / "store.sqlite3", Path(tmp) / "raw.sqlite3"
        raw = open_raw(raw_path, args.synchronous)
        with EventStore(store_path, synchronous=args.synchronous) as store:
            store_s, raw_s = insert_both(events, args.batch, store, raw)
            raw.close()
            store_rate, raw_rate = len(events) / store_s, len(events) / raw_s
            size_mb = store.size_bytes() / 2**20
            timings = time_queries(store, store_path, queries(args.cameras, args.days), args.queries, args.seed)
        load = os.getloadavg()[0]

    rows = [
        [
            "insert rate (events/s)",
            f"{raw_rate:,.0f}",
            f"{store_rate:,.0f}",
            f"{store_rate / raw_rate:.2f}",
            "ok" if store_rate >= 0.8 * raw_rate else "MISSED (goal 0.8x)",
        ]
    ]
    for name, store_ms, raw_ms in timings:
        p99 = percentile(store_ms, 99)
        rows.append(
            [
                f"{name}: p50 / p99 ms",
                f"{percentile(raw_ms, 50):.2f} / {percentile(raw_ms, 99):.2f}",
                f"{percentile(store_ms, 50):.2f} / {p99:.2f}",
                f"{percentile(store_ms, 50) / percentile(raw_ms, 50):.2f} / {p99 / percentile(raw_ms, 99):.2f}",
                "ok" if p99 < 50.0 else "MISSED (goal p99 < 50 ms)",
            ]
        )
    print_table(
        f"{len(events):,} events, {args.cameras} cameras, {args.days:g} days, batches of {args.batch}, "
        f"synchronous={args.synchronous}; store file {size_mb:.0f} MiB; load average at the end {load:.1f}",
        ["measure", "plain sqlite3", "Mắt Thần store", "ratio store / plain", "goal"],
        rows,
    )


if __name__ == "__main__":
    main()
