"""The event store's writer loop: follows every camera's event ring and commits what it
pulls, together with the ring cursors it advances, in one transaction.

    writer = EventWriter(store, cameras, WriterSettings.from_config(config.events), metrics=m)
    task = asyncio.create_task(writer.run())      # until cancelled, or:
    await writer.close(timeout_s=5.0)             # commit what was pulled, then stop

Plain Python, no Ray: `cameras` (a `CameraDirectory`) names the cameras to follow
and gives a handle per camera with `pull_events` (in `matthan serve`, the
scheduler's desired set and `CameraActorHandle`s; see `cluster/eventwriter/`).

    camera ring --pull (after cursor)--> follower --pull--> committer --write(events, cursors)--> SQLite
       ^                                    |                    |
       '----- next pull, after commit ------'<---- committed ----'

Exactly once. One follower task per camera long-polls the camera's ring right
after the stored cursor, hands the pull to the committer and waits until it is
committed before it pulls again, so at most one pull per camera is in memory.
The committer writes the events of every waiting pull and their cursors in one
transaction (`EventStore.write(events, cursors=...)`). A crash or `kill -9` at
any moment leaves the store with a batch and its cursors or with neither; in the
second case the same revisions are pulled again after the restart (pulls are at
least once) and the store keeps each revision once (ids and revisions).

Rings. A camera actor that restarted has a new ring: another epoch, sequences
from 1. A stored cursor of another epoch is read from the new ring's start.
The rings are the buffer while the writer is down or the store fails: a ring
holds `output.event_ring_size` revisions (1024 by default; how long that lasts
is in `EventRing`'s docstring and docs/events.md). Revisions a ring dropped
before the writer got to them are lost: the next pull starts past them
(`first_sequence` > cursor + 1) and the writer counts them in
`matthan_event_store_lost_revisions_total{camera}` and logs a warning. So are
those a ring still held when its actor died, when the writer had seen them exist
(`newest_sequence`) but not pulled them yet; what an actor published after the
writer's last look is not known to have existed and cannot be counted.

Failures. A camera that is not running or not answering is retried with backoff
(its other cameras go on); a failed commit (disk full, I/O error) is retried with
backoff, its pulls kept, while the cameras wait (their rings hold the rest). Every
loop is guarded: an unexpected error is logged with its traceback and the loop
goes on. Retention runs in the background every `retention_interval_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from cluster.domain import CameraNotFound, CameraUnavailable, Event, EventPull
from cluster.support.backoff import Backoff

from .positions import RingCursor
from .recorder import NullRecorder

if TYPE_CHECKING:
    from cluster.config.events import EventsConfig

    from .store import EventStore, WriteResult

log = logging.getLogger(__name__)


class CameraEvents(Protocol):
    """What the writer needs of one camera (`cluster.control.CameraHandle` is one)."""

    async def pull_events(self, after_sequence: int, max_events: int, timeout_s: float) -> EventPull: ...


class CameraDirectory(Protocol):
    """The cameras to follow and a handle to each."""

    async def camera_ids(self) -> Collection[str]:
        """Ids of the cameras whose rings the writer should follow now."""
        ...

    async def handle(self, camera_id: str) -> CameraEvents:
        """A handle on the camera's actor; `CameraNotFound` or `CameraUnavailable` if there is none."""
        ...


class WriterRecorder(Protocol):
    """What the writer loop reports (`cluster.metrics.events.EventStoreMetrics` does)."""

    def revisions_lost(self, camera_id: str, count: int) -> None: ...

    def set_buffered(self, events: int) -> None: ...

    def set_cameras_followed(self, cameras: int) -> None: ...


@dataclass(frozen=True, slots=True)
class WriterSettings:
    max_batch_events: int = 500  # events in one transaction at most (a pull is never split)
    flush_interval_s: float = 0.5  # a batch waits this long for more pulls
    retry_initial_s: float = 0.5  # failed commits: backoff
    retry_max_s: float = 10.0
    retention_interval_s: float | None = 300.0  # None: no retention runs
    pull_max_events: int = 128  # revisions per pull (each may carry a thumbnail of some 20 KB)
    pull_timeout_s: float = 5.0  # long-poll of a ring
    refresh_s: float = 5.0  # how often the set of cameras to follow is read
    camera_retry_initial_s: float = 0.5  # a camera not running or not answering: backoff
    camera_retry_max_s: float = 10.0
    close_timeout_s: float = 5.0  # on close, how long the committer may take to commit what was pulled

    def __post_init__(self) -> None:
        for name in ("max_batch_events", "pull_max_events"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"WriterSettings.{name} must be an integer >= 1, got {value!r}")
        for name in ("flush_interval_s", "pull_timeout_s", "close_timeout_s"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"WriterSettings.{name} must be >= 0 seconds, got {getattr(self, name)!r}")
        for name in ("retry_initial_s", "retry_max_s", "refresh_s", "camera_retry_initial_s", "camera_retry_max_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"WriterSettings.{name} must be > 0 seconds, got {getattr(self, name)!r}")
        if self.retention_interval_s is not None and not self.retention_interval_s > 0:
            interval = self.retention_interval_s
            raise ValueError(f"WriterSettings.retention_interval_s must be > 0 or None, got {interval}")

    @classmethod
    def from_config(cls, config: EventsConfig, **overrides: object) -> WriterSettings:
        """Batching and retries from `events.batch`, retention's schedule from `events.retention`."""
        batch = config.batch
        values: dict = {
            "max_batch_events": batch.max_events,
            "flush_interval_s": batch.flush_interval_s,
            "retry_initial_s": batch.retry_initial_s,
            "retry_max_s": batch.retry_max_s,
            "retention_interval_s": config.retention.interval_s,
            **overrides,
        }
        return cls(**values)


@dataclass(slots=True)
class _Backoff:  # the shape Backoff reads (cluster.support.backoff.BackoffPolicy)
    initial_s: float
    max_s: float
    multiplier: float = 2.0
    jitter: float = 0.2


@dataclass(frozen=True, slots=True)
class PullStep:
    """What one pull of a ring adds to the store: its revisions, the cursor after
    them, and how many revisions the ring lost before the writer got to them."""

    events: tuple[Event, ...]
    cursor: RingCursor
    lost: int


def plan_pull(
    stored: RingCursor | None, pull: EventPull, seen_newest: tuple[str, int] | None = None
) -> PullStep | None:
    """The step a pull makes from the stored cursor; None if it adds nothing.

    `pull` must have been asked for after `stored.sequence` if it is of the stored
    epoch, after 0 otherwise. `seen_newest` is the (epoch, newest_sequence) the
    previous pull of this camera reported, if any: when the ring changed, what the
    old ring held past the stored cursor is known to be lost. Pure."""
    same_ring = stored is not None and stored.epoch == pull.epoch
    after = stored.sequence if stored is not None and same_ring else 0
    lost = max(0, pull.first_sequence - after - 1) if pull.events else 0
    if stored is not None and not same_ring and seen_newest is not None and seen_newest[0] == stored.epoch:
        lost += max(0, seen_newest[1] - stored.sequence)
    if same_ring and not pull.events:
        return None
    sequence = pull.last_sequence if pull.events else after
    return PullStep(pull.events, RingCursor(pull.camera_id, pull.epoch, sequence), lost)


@dataclass(eq=False)
class _Pending:
    step: PullStep
    committed: asyncio.Future[None]
    arrived: float  # monotonic time it was handed to the committer


@dataclass
class WriterState:
    """What the writer is doing, for `stats()` and tests."""

    cameras_followed: tuple[str, ...] = ()
    pending_events: int = 0
    cursors: dict[str, RingCursor] = field(default_factory=dict)
    last_change_seq: int = 0


class EventWriter:
    """One per store. `run()` on an event loop; `close()` from the same loop."""

    def __init__(
        self,
        store: EventStore,
        cameras: CameraDirectory,
        settings: WriterSettings | None = None,
        *,
        metrics: WriterRecorder | None = None,
        on_commit: Callable[[int], None] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ):
        self._store = store
        self._cameras = cameras
        self._settings = settings if settings is not None else WriterSettings()
        self._metrics: WriterRecorder = metrics if metrics is not None else NullRecorder()
        self._on_commit = on_commit
        self._clock = clock
        self._monotonic = monotonic
        self._rng = rng if rng is not None else random.Random()
        self._cursors: dict[str, RingCursor] = store.ring_cursors()
        self._last_change_seq = store.last_change_seq()
        self._followers: dict[str, asyncio.Task] = {}
        self._pending: list[_Pending] = []
        self._writing: list[_Pending] = []  # the batch being committed
        self._arrived = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._closing = False
        self._metrics.set_buffered(0)
        self._metrics.set_cameras_followed(0)

    # ---- life ------------------------------------------------------------------------

    async def run(self) -> None:
        """Follow, commit and enforce retention until cancelled (or `close()`)."""
        loops = [self._sync_loop(), self._commit_loop()]
        if self._settings.retention_interval_s is not None:
            loops.append(self._retention_loop(self._settings.retention_interval_s))
        self._tasks = [asyncio.get_running_loop().create_task(loop) for loop in loops]
        try:
            await asyncio.gather(*self._tasks)
        finally:
            await self._cancel_all()

    async def close(self, timeout_s: float | None = None) -> None:
        """Stop pulling, give the committer up to `timeout_s` to commit what was pulled
        (what it does not is pulled again by the next writer), then stop."""
        timeout_s = self._settings.close_timeout_s if timeout_s is None else timeout_s
        self._closing = True
        for task in list(self._followers.values()):
            task.cancel()
        deadline = self._monotonic() + timeout_s
        self._arrived.set()  # the committer stops waiting for more pulls
        while (self._pending or self._writing) and self._monotonic() < deadline:
            await asyncio.sleep(0.02)
        await self._cancel_all()

    def state(self) -> WriterState:
        return WriterState(
            cameras_followed=tuple(sorted(self._followers)),
            pending_events=self._pending_events(),
            cursors=dict(self._cursors),
            last_change_seq=self._last_change_seq,
        )

    async def _cancel_all(self) -> None:
        tasks = [*self._tasks, *self._followers.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._followers.clear()
        self._metrics.set_cameras_followed(0)

    # ---- the set of cameras ------------------------------------------------------------

    async def _sync_loop(self) -> None:
        failing = False
        while not self._closing:
            try:
                wanted = set(await self._cameras.camera_ids())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing:
                    log.warning("event writer: cannot read the cameras to follow (%s); retrying", exc, exc_info=True)
                failing = True
            else:
                if failing:
                    log.info("event writer: reading the cameras to follow works again")
                failing = False
                self._follow_only(wanted)
            await asyncio.sleep(self._settings.refresh_s)

    def _follow_only(self, wanted: set[str]) -> None:
        for camera_id in sorted(set(self._followers) - wanted):
            self._followers.pop(camera_id).cancel()
            log.info("event writer: camera %s left the desired set; no longer followed", camera_id)
        loop = asyncio.get_running_loop()
        for camera_id in sorted(wanted - set(self._followers)):
            self._followers[camera_id] = loop.create_task(self._follow(camera_id), name=f"event-writer-{camera_id}")
        self._metrics.set_cameras_followed(len(self._followers))

    # ---- one camera --------------------------------------------------------------------

    async def _follow(self, camera_id: str) -> None:
        settings = self._settings
        backoff = Backoff(_Backoff(settings.camera_retry_initial_s, settings.camera_retry_max_s), self._rng)
        handle: CameraEvents | None = None
        seen_newest: tuple[str, int] | None = None
        self._metrics.revisions_lost(camera_id, 0)  # the camera's series exists from the start
        while not self._closing:
            try:
                if handle is None:
                    handle = await self._cameras.handle(camera_id)
                stored = self._cursors.get(camera_id)
                pull = await handle.pull_events(
                    stored.sequence if stored is not None else 0, settings.pull_max_events, settings.pull_timeout_s
                )
                if stored is not None and pull.epoch != stored.epoch and stored.sequence > 0:
                    # A new ring (the actor restarted): its sequences start again; read it from its start.
                    log.info("event writer: camera %s has a new event ring; reading it from its start", camera_id)
                    pull = await handle.pull_events(0, settings.pull_max_events, 0.0)
                step = plan_pull(stored, pull, seen_newest)
                seen_newest = (pull.epoch, pull.newest_sequence)
                if step is not None:
                    await self._submit(step)
                backoff.reset()
                continue
            except asyncio.CancelledError:
                raise
            except CameraNotFound:
                log.debug("event writer: camera %s is not in the desired set (yet)", camera_id)
            except CameraUnavailable as exc:
                log_at = logging.WARNING if backoff.failures == 0 else logging.DEBUG
                log.log(log_at, "event writer: camera %s: %s; retrying", camera_id, exc)
            except Exception:
                log.exception("event writer: following camera %s failed unexpectedly; retrying", camera_id)
            handle = None
            await asyncio.sleep(backoff.next_delay())

    async def _submit(self, step: PullStep) -> None:
        """Hand a pull to the committer and wait until it is committed."""
        pending = _Pending(step, asyncio.get_running_loop().create_future(), self._monotonic())
        self._pending.append(pending)
        self._metrics.set_buffered(self._pending_events())
        self._arrived.set()
        await asyncio.shield(pending.committed)

    # ---- commits -----------------------------------------------------------------------

    async def _commit_loop(self) -> None:
        settings = self._settings
        backoff = Backoff(_Backoff(settings.retry_initial_s, settings.retry_max_s), self._rng)
        while True:
            try:
                await self._wait_for_batch()
                batch = self._take_batch()
                if not batch:
                    continue
                self._writing = batch
                try:
                    result = await asyncio.to_thread(
                        self._store.write,
                        [e for p in batch for e in p.step.events],
                        cursors=[p.step.cursor for p in batch],
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the store counted it; the batch waits for the next attempt
                    self._writing = []
                    self._pending[:0] = batch
                    delay = backoff.next_delay()
                    log.warning(
                        "event writer: committing %d pulls failed (attempt %d, retry in %.1f s): %s",
                        len(batch),
                        backoff.failures,
                        delay,
                        exc,
                        exc_info=backoff.failures == 1,
                    )
                    await asyncio.sleep(delay)
                    continue
                backoff.reset()
                self._writing = []
                self._committed(batch, result)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event writer: commit step failed unexpectedly; going on")
                await asyncio.sleep(settings.retry_initial_s)

    async def _wait_for_batch(self) -> None:
        """Until a pull waits, then until the batch is full or its oldest pull has waited
        flush_interval_s (a batch given back after a failure goes again at once)."""
        while not self._pending:
            self._arrived.clear()
            await self._arrived.wait()
        while not self._closing and self._waiting_events() < self._settings.max_batch_events:
            remaining = self._settings.flush_interval_s - (self._monotonic() - self._pending[0].arrived)
            if remaining <= 0:
                return
            self._arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def _pending_events(self) -> int:
        """Pulled and not committed yet (waiting, or in the batch being written)."""
        return sum(len(p.step.events) for p in (*self._pending, *self._writing))

    def _waiting_events(self) -> int:
        return sum(len(p.step.events) for p in self._pending)

    def _take_batch(self) -> list[_Pending]:
        batch: list[_Pending] = []
        events = 0
        while self._pending:
            size = len(self._pending[0].step.events)
            if batch and events + size > self._settings.max_batch_events:
                break
            batch.append(self._pending.pop(0))
            events += size
        return batch

    def _committed(self, batch: list[_Pending], result: WriteResult) -> None:
        for pending in batch:
            step = pending.step
            camera_id = step.cursor.camera_id
            self._cursors[camera_id] = step.cursor
            if step.lost:
                self._metrics.revisions_lost(camera_id, step.lost)
                log.warning(
                    "event writer: camera %s: %d event revisions were gone from its ring before they could be "
                    "stored (the writer was down or behind longer than the ring holds)",
                    camera_id,
                    step.lost,
                )
            if not pending.committed.done():
                pending.committed.set_result(None)
        self._last_change_seq = result.last_change_seq
        self._metrics.set_buffered(self._pending_events())
        if self._on_commit is not None:
            try:
                self._on_commit(result.last_change_seq)
            except Exception:
                log.exception("event writer: commit listener failed")

    # ---- retention ---------------------------------------------------------------------

    async def _retention_loop(self, interval_s: float) -> None:
        while True:
            try:
                result = await asyncio.to_thread(self._store.enforce_retention, self._clock())
                if result.deleted:
                    log.info(
                        "event store retention: %d events deleted (%d by age, %d by size); %d bytes in use",
                        result.deleted,
                        sum(result.deleted_by_age.values()),
                        result.deleted_by_size,
                        result.size_bytes,
                    )
            except asyncio.CancelledError:
                raise
            except Exception:  # counted by the store as a "retention" error; tried again next time
                log.exception("event store retention failed; trying again in %.0f s", interval_s)
            await asyncio.sleep(interval_s)
