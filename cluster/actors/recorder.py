"""The camera actor's recorder: the packet tap of the capture loop and a thread that
writes what it hands over.

    capture thread                          recorder thread
    source.grab() -> demux -> decode        RecordingSession (cluster.recordings):
        '-- packet --> Recorder.packet() --[bounded hand-off]--> segments, chain, gaps,
                        (never blocks)                             retention, disk checks

The capture loop never waits for the disk: `packet()` appends to a hand-off of
at most `recording.queue_packets` packets and returns; when it is full the packet
is dropped and counted (the recorder sees the hole in the sequence numbers,
cuts the segment and records a gap "disk too slow"). So a slow or failing disk
costs recording, never frames, and says so. Control items (`begin`, `end`,
`activity`, `configure`) are never dropped: they are few.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from cluster.config.recording import RecordingConfig
from cluster.domain import RecordingStatus
from cluster.recordings.session import RecordingSession
from cluster.video.packet_tap import StreamTemplate

from ..support.threads import named_thread

log = logging.getLogger(__name__)

TICK_S = 0.5  # the recorder's housekeeping (post-roll ends, retries, retention) runs at least this often

_PACKET = "packet"


class Recorder:
    """Implements `cluster.video.packet_tap.PacketTap`; thread-safe."""

    def __init__(
        self,
        camera_id: str,
        config: RecordingConfig,
        *,
        wall_clock: Callable[[], float] = time.time,
        session_factory: Callable[..., RecordingSession] = RecordingSession,
    ) -> None:
        self.camera_id = camera_id
        self._wall_clock = wall_clock
        self._session = session_factory(camera_id, config, wall_clock=wall_clock)
        self._limit = config.queue_packets
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._items: collections.deque[tuple[Any, ...]] = collections.deque()
        self._queued_packets = 0
        self._seq = 0
        self._dropped_in_handoff = 0
        self._closed = False
        self._status = self._session.status()
        self._thread = named_thread(self._run, name=f"recorder-{camera_id}")
        self._thread.start()

    # ---- the tap (capture thread) -----------------------------------------------------

    def begin(self, template: StreamTemplate) -> None:
        self._put(("begin", template, self._wall_clock()))

    def packet(self, packet: Any) -> None:
        arrival = self._wall_clock()
        with self._lock:
            self._seq += 1
            if self._closed:
                return
            if self._queued_packets >= self._limit:
                self._dropped_in_handoff += 1
                return
            self._items.append((_PACKET, packet, arrival, self._seq))
            self._queued_packets += 1
            self._wake.notify()

    def end(self, reason: str) -> None:
        self._put(("end", reason, self._wall_clock()))

    # ---- the camera ----------------------------------------------------------------------

    def activity(self, until: float) -> None:
        """Motion or an open event: trigger modes record until `until` (wall clock) + post-roll."""
        self._put(("activity", until))

    def configure(self, config: RecordingConfig) -> None:
        with self._lock:
            self._limit = config.queue_packets
        self._put(("configure", config))

    def status(self) -> RecordingStatus:
        with self._lock:  # the session counts the hand-off's drops by the holes they leave
            return self._status

    def stop(self, timeout: float = 10.0) -> bool:
        """Finish the open segment and end the thread; True if it ended in time."""
        self._put(("close",))
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _put(self, item: tuple[Any, ...]) -> None:
        with self._lock:
            if self._closed:
                return
            if item[0] == "close":
                self._closed = True
            self._items.append(item)
            self._wake.notify()

    # ---- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        session = self._session
        next_tick = 0.0
        while True:
            with self._lock:
                if not self._items:
                    self._wake.wait(TICK_S)
                item = self._items.popleft() if self._items else None
                if item is not None and item[0] == _PACKET:
                    self._queued_packets -= 1
            try:
                if item is not None:
                    if item[0] == "close":
                        session.close(self._wall_clock())
                        self._publish(session)
                        return
                    self._handle(session, item)
                now = self._wall_clock()
                if now >= next_tick:
                    next_tick = now + TICK_S
                    session.tick(now)
            except Exception:  # a bug must not end recording silently, nor the camera
                log.exception("camera %s: recorder step failed", self.camera_id)
            self._publish(session)

    def _handle(self, session: RecordingSession, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == _PACKET:
            session.packet(item[1], item[2], item[3])
        elif kind == "begin":
            session.begin(item[1], item[2])
        elif kind == "end":
            session.end(item[1], item[2])
        elif kind == "activity":
            session.activity(item[1])
        elif kind == "configure":
            session.configure(item[1])

    def _publish(self, session: RecordingSession) -> None:
        status = session.status()
        with self._lock:
            self._status = status
