"""Stream health events from the capture loop's state changes.

An outage starts when the camera is not LIVE: it left LIVE for STALLED,
RECONNECTING or CONNECTING, or it never got there since capture started. If the
outage lasts `stream_lost_after_s` (wall clock: there are no frames to time it
by), it becomes an event, which ends when the camera is LIVE again:

    LIVE --leaves LIVE--> outage --lasts stream_lost_after_s--> event start
    outage or event --LIVE again--> over (the event, if any, ends then)

The type is how the outage began: STREAM_STALLED when the source stopped sending
frames while connected (STALLED), STREAM_LOST when it could not be reached or
dropped the connection. A FAILED camera (permanent error) stays in its outage;
a stop on purpose ends it. Events carry no track and no thumbnail (there is no
frame); their media time is that of the last frame before the outage, on the
run's axis (see `cluster.video.emitter`).

`tick()` must be called now and then (the analysis thread does, about twice a
second), because an outage ripens into an event without any state change.
Thread-safe: state changes come from the capture thread, ticks from the
analysis thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..config import HealthConfig
from ..domain import CameraState, Event, EventType
from ..video.emitter import EventEmitter

STREAM_RULE = "stream"
_OUTAGE_STATES = (CameraState.CONNECTING, CameraState.STALLED, CameraState.RECONNECTING, CameraState.FAILED)


class StreamHealth:
    def __init__(
        self,
        config: HealthConfig,
        emitter: EventEmitter,
        *,
        publish: Callable[[tuple[Event, ...]], object],
        last_pts: Callable[[], float],
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self.config = config
        self._emitter = emitter
        self._publish = publish
        self._last_pts = last_pts
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        # An outage from the start: a camera that never gets LIVE is reported too.
        self._outage_since: float | None = clock()
        self._outage_wall = wall_clock()
        self._outage_pts = 0.0
        self._outage_type = EventType.STREAM_LOST
        self._event: Event | None = None

    def configure(self, config: HealthConfig) -> None:
        with self._lock:
            self.config = config
        self.tick()

    def on_state(self, state: CameraState, reason: str) -> None:
        with self._lock:
            if state is CameraState.LIVE or state is CameraState.STOPPED:
                self._end_locked()
            elif state in _OUTAGE_STATES and self._outage_since is None:
                self._outage_since, self._outage_wall = self._clock(), self._wall_clock()
                self._outage_pts = self._last_pts()
                stalled = state is CameraState.STALLED or reason.startswith("stalled")
                self._outage_type = EventType.STREAM_STALLED if stalled else EventType.STREAM_LOST
            events = self._emitter.drain()
        self._send(events)
        self.tick()

    def tick(self) -> None:
        with self._lock:
            since = self._outage_since
            if since is not None and self._event is None and self._clock() - since >= self.config.stream_lost_after_s:
                self._event = self._emitter.start(
                    self._outage_type,
                    self.config.stream_severity,
                    STREAM_RULE,
                    start_pts=self._outage_pts,
                    start_time=self._outage_wall,
                )
            events = self._emitter.drain()
        self._send(events)

    def stop(self) -> None:
        """Capture stops on purpose: an open event ends now."""
        with self._lock:
            self._end_locked()
            events = self._emitter.drain()
        self._send(events)

    def _end_locked(self) -> None:
        """The outage is over; its event, if it became one, ends now."""
        if self._event is not None:
            self._emitter.end(self._event, end_pts=self._last_pts(), end_time=self._wall_clock())
            self._event = None
        self._outage_since = None

    def _send(self, events: tuple[Event, ...]) -> None:
        if events:
            self._publish(events)
