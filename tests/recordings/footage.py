"""Real recordings made fast: the shared clip's own packets through the real source
and the real `RecordingSession`, with arrival times taken from the stream's clock
(as a live camera delivers them) instead of waiting for them in real time.

    record_clip(root, "cam-1", car_clip, start=T0, segment_s=4.0)  # -> <root>/cam-1/...
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cluster.config.recording import RecordingConfig
from cluster.config.source import SourceConfig
from cluster.recordings.session import RecordingSession
from cluster.video.opening import open_source
from cluster.video.packet_tap import StreamTemplate

# 2026-11-20 21:40:00 UTC: the hour of the alley collision.
T0 = 1_795_210_800.0
PLENTY_FREE = 1 << 40


class _StreamClockTap:
    """A PacketTap that feeds a session with arrival = start + the packet's stream time."""

    def __init__(self, session: RecordingSession, start: float, until_s: float) -> None:
        self.session = session
        self.start = start
        self.until_s = until_s
        self.seq = 0
        self.offset = 0.0  # stream time of earlier passes (a looping file)
        self.pass_end = 0.0
        self.last_arrival = start

    def begin(self, template: StreamTemplate) -> None:
        self.offset = self.pass_end
        self.session.begin(template, self.start + self.offset)

    def packet(self, packet: Any) -> None:
        t = float(packet.pts * packet.time_base)
        self.pass_end = max(self.pass_end, self.offset + t + 0.08)
        self.last_arrival = self.start + self.offset + t
        self.seq += 1
        self.session.packet(packet, self.last_arrival, self.seq)

    def end(self, reason: str) -> None:
        self.session.end(reason, self.last_arrival)


def recording_session(
    root: Path,
    camera_id: str,
    *,
    start: float = T0,
    mode: str = "continuous",
    segment_s: float = 4.0,
    disk_free: Callable[[Path], int] | None = None,
    **recording: Any,
) -> RecordingSession:
    config = RecordingConfig.model_validate(
        {"mode": mode, "segment_s": segment_s, "directory": str(root), "min_free_bytes": 0, **recording}
    )
    clock = {"now": start}
    session = RecordingSession(
        camera_id, config, wall_clock=lambda: clock["now"], disk_free=disk_free or (lambda _path: PLENTY_FREE)
    )
    session.clock = clock  # type: ignore[attr-defined] - play() moves it with the stream
    return session


def play(
    session: RecordingSession,
    clip: Path,
    *,
    start: float,
    seconds: float | None = None,
    activity: tuple[tuple[float, float], ...] = (),
    on_packet: Callable[[float], None] | None = None,
) -> float:
    """One pass of `clip` (looped to `seconds` of stream time if given) into `session`,
    its first packet arriving at `start`; ends the pass like a camera going away.
    `activity`: (at, until) stream seconds: at `at`, the trigger modes hear of motion
    until `until`. `on_packet(stream seconds)` runs after each frame. Returns the
    wall time of the last packet."""
    source = open_source(SourceConfig(url=str(clip), loop=seconds is not None, realtime=False))
    tap = _StreamClockTap(session, start, seconds or 0.0)
    source.set_packet_tap(tap)
    pending = sorted(activity)
    clock = getattr(session, "clock", {})
    try:
        while source.grab():
            now = tap.last_arrival - start
            clock["now"] = tap.last_arrival
            while pending and pending[0][0] <= now:
                session.activity(start + pending.pop(0)[1])
            session.tick(tap.last_arrival)
            if on_packet is not None:
                on_packet(now)
            if seconds is not None and now >= seconds:
                break
    finally:
        source.release()
    return tap.last_arrival


def record_clip(
    root: Path,
    camera_id: str,
    clip: Path,
    *,
    start: float = T0,
    seconds: float | None = None,
    activity: tuple[tuple[float, float], ...] = (),
    **settings: Any,
) -> RecordingSession:
    """Record `clip` as camera `camera_id` under `root` (see `play`); returns the closed session."""
    session = recording_session(root, camera_id, start=start, **settings)
    last = play(session, clip, start=start, seconds=seconds, activity=activity)
    session.close(last)
    return session
