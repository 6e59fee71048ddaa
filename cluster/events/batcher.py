"""Events on their way to the writer: batched, and held in a bounded buffer while it is away.

Put the batcher where events are made (the camera actor's rules stage, a batch
job) and give it a `sink` that returns only once the batch is committed
(`EventStore.write`, or a call to the event-store actor that does it). An event
is *accepted* when the sink returned for its batch; until then the batcher holds
it, so a writer that restarts, is killed or cannot be reached loses nothing that
fits in the buffer: the batch is retried with exponential backoff and delivered
when the writer is back.

Buffer. At most `max_buffered` events wait (plus the one batch being delivered).
An update of an event that is waiting replaces it in place (its newer revision
wins, its thumbnail carried over if the update has none), so an ongoing event
takes one place however often it is updated. When a new event finds the buffer
full, the oldest waiting `info` event is dropped to make room; when only alerts
wait, a new `info` event is dropped, and a new alert drops the oldest alert.
Every drop is counted in `matthan_event_store_dropped_events_total{reason=
"buffer_full"}`; events still waiting when `close()` gives up are counted with
reason "shutdown". Alerts are delivered before info events.

Timing. A batch goes out when `max_events` are waiting, or when the oldest has
waited `flush_interval_s`. `step()` is one guarded, idempotent step (call it from
a loop, or use `run()`); the clock is injected.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from cluster.config.events import EventBatchConfig
from cluster.domain.events import Event, Severity
from cluster.support.backoff import Backoff

from .recorder import NullRecorder, StoreRecorder

log = logging.getLogger(__name__)

Sink = Callable[[Sequence[Event]], object]
DELIVERY_ORDER = (Severity.ALERT, Severity.INFO)
EVICTION_ORDER = (Severity.INFO, Severity.ALERT)


@dataclass(slots=True)
class _RetryPolicy:  # the shape Backoff reads (cluster.support.backoff.BackoffPolicy)
    initial_s: float
    max_s: float
    multiplier: float = 2.0
    jitter: float = 0.2


@dataclass(frozen=True, slots=True)
class FlushResult:
    delivered: int  # events the sink accepted
    failed: bool  # the sink raised; the batch waits again
    remaining: int  # events still waiting


class EventBatcher:
    """Thread-safe: `offer` from any thread, `step`/`run` from one."""

    def __init__(
        self,
        sink: Sink,
        config: EventBatchConfig | None = None,
        *,
        metrics: StoreRecorder | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ):
        self._sink = sink
        self._config = config if config is not None else EventBatchConfig.model_validate({})
        self._metrics = metrics if metrics is not None else NullRecorder()
        self._clock = clock
        self._backoff = Backoff(_RetryPolicy(self._config.retry_initial_s, self._config.retry_max_s), rng)
        self._waiting: dict[Severity, OrderedDict[str, Event]] = {s: OrderedDict() for s in Severity}
        self._in_flight = 0
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._oldest_since: float | None = None  # when the oldest waiting event arrived
        self._retry_at: float | None = None  # after a failure: not before then

    # ---- producers ---------------------------------------------------------------

    def offer(self, event: Event) -> bool:
        """Queue an event (or a newer revision of a queued one). False if it was
        dropped at once because the buffer is full of alerts."""
        if not isinstance(event, Event):
            raise TypeError(f"EventBatcher.offer takes an Event, got {type(event).__name__}")
        with self._lock:
            kept = self._add(event, front=False)
            if self._oldest_since is None:
                self._oldest_since = self._clock()
            waiting = self._waiting_count()
            self._metrics.set_buffered(waiting + self._in_flight)
        if waiting >= self._config.max_events:
            self._wake.set()
        return kept

    @property
    def buffered(self) -> int:
        """Events waiting, plus those of the batch being delivered."""
        with self._lock:
            return self._waiting_count() + self._in_flight

    # ---- delivery ----------------------------------------------------------------

    def due(self) -> bool:
        now = self._clock()
        with self._lock:
            waiting = self._waiting_count()
            if not waiting or (self._retry_at is not None and now < self._retry_at):
                return False
            if self._retry_at is not None:
                return True
            oldest = self._oldest_since if self._oldest_since is not None else now
            return waiting >= self._config.max_events or now - oldest >= self._config.flush_interval_s

    def step(self) -> FlushResult | None:
        """Deliver one batch if one is due; None if none was. Never raises for a sink
        failure (logged, counted under operation "flush", retried after a backoff)."""
        if not self.due():
            return None
        return self.flush()

    def flush(self) -> FlushResult:
        """Deliver one batch now (up to `max_events`, alerts first)."""
        with self._flushing:
            batch = self._take(self._config.max_events)
            if not batch:
                return FlushResult(0, False, self.buffered)
            try:
                self._sink(batch)
            except Exception as exc:  # whatever the writer's failure, the batch waits for it
                self._give_back(batch)
                delay = self._backoff.next_delay()
                with self._lock:
                    self._retry_at = self._clock() + delay
                self._metrics.operation_failed("flush")
                log.warning(
                    "event batch of %d not delivered (attempt %d, retry in %.1f s): %s",
                    len(batch),
                    self._backoff.failures,
                    delay,
                    exc,
                    exc_info=self._backoff.failures == 1,
                )
                return FlushResult(0, True, self.buffered)
            self._backoff.reset()
            with self._lock:
                self._in_flight = 0
                self._retry_at = None
                remaining = self._waiting_count()
                self._metrics.set_buffered(remaining)
            return FlushResult(len(batch), False, remaining)

    def run(self, stop: threading.Event, *, idle_s: float = 0.05) -> None:
        """Deliver batches until `stop` is set (then `close()` the batcher)."""
        while not stop.is_set():
            try:
                result = self.step()
            except Exception:
                log.exception("event batcher step failed; continuing")
                result = None
            if result is None or result.failed or result.remaining < self._config.max_events:
                self._wake.wait(idle_s)
                self._wake.clear()

    def close(self, timeout_s: float) -> int:
        """Deliver what waits, for up to `timeout_s`; returns how many events were left
        undelivered (counted as dropped, reason "shutdown")."""
        deadline = self._clock() + timeout_s
        while self.buffered and self._clock() < deadline:
            if self.flush().failed:
                break
        with self._lock:
            left = self._waiting_count()
            for queue in self._waiting.values():
                queue.clear()
            self._metrics.set_buffered(0)
        if left:
            self._metrics.events_dropped("shutdown", left)
            log.warning("event batcher closed with %d events undelivered", left)
        return left

    # ---- internals (callers hold self._lock unless noted) --------------------------

    def _waiting_count(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    def _add(self, event: Event, *, front: bool) -> bool:
        """Queue `event` (merged with a waiting revision of it, which keeps its place),
        then trim to the bound; whether `event`'s id is still waiting."""
        queues = self._waiting
        current = next((q[event.event_id] for q in queues.values() if event.event_id in q), None)
        winner = _merged(current, event)
        if current is not None and current.severity is winner.severity:
            queues[winner.severity][winner.event_id] = winner  # replacing a key keeps its position
        else:
            if current is not None:
                del queues[current.severity][current.event_id]
            queue = queues[winner.severity]
            queue[winner.event_id] = winner
            if front:
                queue.move_to_end(winner.event_id, last=False)
        dropped = 0
        while self._waiting_count() > self._config.max_buffered:
            victims = next(q for s in EVICTION_ORDER if (q := queues[s]))
            victims.popitem(last=False)
            dropped += 1
        if dropped:
            self._metrics.events_dropped("buffer_full", dropped)
        return winner.event_id in queues[winner.severity]

    def _take(self, limit: int) -> list[Event]:
        with self._lock:
            batch: list[Event] = []
            for severity in DELIVERY_ORDER:
                queue = self._waiting[severity]
                while queue and len(batch) < limit:
                    batch.append(queue.popitem(last=False)[1])
            self._in_flight = len(batch)
            self._oldest_since = self._clock() if self._waiting_count() else None
            return batch

    def _give_back(self, batch: list[Event]) -> None:
        with self._lock:
            self._in_flight = 0
            for event in reversed(batch):  # oldest ends up first again
                self._add(event, front=True)
            if self._oldest_since is None and self._waiting_count():
                self._oldest_since = self._clock()
            self._metrics.set_buffered(self._waiting_count())


def _merged(current: Event | None, event: Event) -> Event:
    """Of two revisions of one event, the higher (on a tie, the one already waiting),
    with the other's thumbnail if it has none: what the store would end up with."""
    if current is None:
        return event
    winner, other = (event, current) if event.revision > current.revision else (current, event)
    if winner.thumbnail is None and other.thumbnail is not None:
        return replace(winner, thumbnail=other.thumbnail)
    return winner
