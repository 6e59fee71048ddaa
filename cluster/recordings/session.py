"""The recording of one camera, as plain Python driven by one thread (the recorder's).

Inputs, in the order the capture thread produced them (`cluster.actors.recorder`
queues them): `begin(template)` when a pass of the source starts, `packet(...)`
for each packet with its arrival time and a sequence number, `end(reason)` when
the pass is over; and from the camera: `activity(until)` (motion or an open
event: the trigger modes record until `until` plus nothing more), `configure`
(live changes), `tick(now)` (retention, retries) and `close()`.

Time. Wall-clock times come from the stream's own clock, anchored to the
earliest arrival (`clock.PassClock`): a segment's start and end are exact and
its recorded length is its own playing time.

Segments start on keyframes. In continuous mode a segment is cut at the first
keyframe `segment_s` after it started; the next starts with that keyframe, so
consecutive segments meet exactly. In trigger modes (motion-only, events-only)
the packets of the last `pre_roll_s` (from a keyframe) are held in memory; when
the trigger fires, the segment starts with them, and it ends `post_roll_s`
after the last activity.

States (RecordingState):

    OFF --mode set--> WAITING (trigger mode, nothing to record) <--> RECORDING
                         ^                                             |
                         |         stream ends ------> INTERRUPTED ----+ (gap: camera down)
                         |         write fails or disk below min_free --> FAILED (gap: disk ...)
                         +--- disk takes writes again (checked every retry_s) ---+

Gaps. Footage that should have been recorded and was not becomes a `gap` entry
on the chain with its reason: the stream was down (from the end of the last
segment to the next one, or, in trigger modes, to the stream's return), the
disk failed (until it recovered and recording started again), or the disk was
too slow for the stream (packets were dropped in the hand-off). A gap that
cannot be written yet (the disk is full) waits and is written later.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cluster.config.recording import RecordingConfig, RecordingMode
from cluster.domain import RecordingState, RecordingStatus
from cluster.video.packet_tap import StreamTemplate

from .chain import EntryKind, append_entry, read_chain
from .clock import PassClock, stream_time
from .index import live_segments
from .retention import apply_retention
from .writer import WRITE_ERRORS, FinishedSegment, SegmentWriter

log = logging.getLogger(__name__)

# How often, in stream time, free space is checked while writing.
FREE_SPACE_CHECK_S = 1.0
# Shorter than this is not a gap (a file that loops, a reconnect within a frame or two):
# no picture of a camera at 4 fps or more was lost.
MIN_GAP_S = 0.25


def free_bytes(path: Path) -> int:
    """Free space for us on the filesystem of `path` (or its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return int(shutil.disk_usage(probe).free)


@dataclass
class _Pass:
    template: StreamTemplate
    clock: PassClock


@dataclass
class _Lost:
    since: float
    reason: str


class RecordingSession:
    def __init__(
        self,
        camera_id: str,
        config: RecordingConfig,
        *,
        wall_clock: Callable[[], float],
        disk_free: Callable[[Path], int] = free_bytes,
    ) -> None:
        self.camera_id = camera_id
        self._wall_clock = wall_clock
        self._disk_free = disk_free
        self._config = config
        self._camera_dir: Path | None = None
        self._pass: _Pass | None = None
        self._writer: SegmentWriter | None = None
        self._preroll: collections.deque[tuple[Any, float]] = collections.deque()
        self._active_until = float("-inf")
        self._expected_seq: int | None = None
        self._lost: _Lost | None = None
        self._pending_gaps: list[tuple[float, float, str]] = []
        self._failed: str | None = None
        self._next_retry = 0.0
        self._next_retention = 0.0
        self._next_space_check = float("-inf")
        self._status = RecordingStatus(state=RecordingState.OFF, reason="recording is off", mode=config.mode.value)
        self.configure(config)

    # ---- inputs ------------------------------------------------------------------------

    def configure(self, config: RecordingConfig) -> None:
        directory = config.directory
        camera_dir = Path(directory) / self.camera_id if directory is not None else None
        if self._writer is not None and (not config.enabled or camera_dir != self._camera_dir):
            self._finish(None)
        self._config = config
        self._camera_dir = camera_dir
        if not config.triggered:
            self._preroll.clear()
        self._status = replace(
            self._status,
            mode=config.mode.value,
            directory=str(camera_dir or ""),
            budget_bytes=config.retention.max_bytes,
        )
        if not config.enabled:
            self._failed, self._lost = None, None
            self._set_state(RecordingState.OFF, "recording is off")
        elif camera_dir is None:
            self._fail("recording.directory is not set (matthan serve sets it from `recordings:`)", None)
        else:
            self._failed = None
            self._refresh_usage()
            self._set_state(self._idle_state(), self._idle_reason())

    def begin(self, template: StreamTemplate, arrival: float) -> None:
        if self._pass is not None:  # no end() for the previous pass
            self.end("the stream started over", arrival)
        self._pass = _Pass(template, PassClock.for_rate(template.fps))
        self._expected_seq = None
        if self._lost is not None and self._config.triggered:
            self._record_gap(self._lost.since, arrival, self._lost.reason)
            self._lost = None
        if self._config.enabled and self._failed is None:
            self._set_state(self._idle_state(), self._idle_reason())

    def end(self, reason: str, arrival: float) -> None:
        current = self._pass
        if current is None:
            return
        end = current.clock.pass_end(arrival)
        if self._writer is not None:
            finished = self._finish(None)
            end = finished.end if finished is not None else end
            self._mark_lost(end, f"camera stream down: {reason}")
        elif self._config.mode is RecordingMode.CONTINUOUS and self._failed is None and self._config.enabled:
            self._mark_lost(end, f"camera stream down: {reason}")
        self._preroll.clear()
        self._close_pass_template()
        if self._config.enabled and self._failed is None:
            self._set_state(RecordingState.INTERRUPTED, f"no stream: {reason}")

    def packet(self, packet: Any, arrival: float, seq: int) -> None:
        current = self._pass
        if current is None or not self._config.enabled:
            return
        if self._expected_seq is not None and seq > self._expected_seq:
            self._on_dropped(seq - self._expected_seq, current)
        self._expected_seq = seq + 1
        wall = self._wall_time(packet, arrival, current)
        if wall is None:
            return
        if self._failed is not None:
            self._status = replace(self._status, packets_dropped=self._status.packets_dropped + 1)
            return
        if self._writer is not None and wall >= self._next_space_check:
            self._check_space(wall)
            if self._failed is not None:
                return
        wanted = self._wanted(wall)
        keyframe = bool(packet.is_keyframe)
        writer = self._writer
        if writer is not None and not wanted:
            self._finish(wall)
        elif (
            writer is not None
            and keyframe
            and self._segment_length(packet, wall, writer, current) >= self._config.segment_s
        ):
            self._finish(wall, continued=True)
        if self._writer is None and wanted:
            self._start_segment(packet, wall, keyframe, current)
            return
        if self._writer is not None:
            self._write(packet, wall, current)
        elif self._config.triggered:
            self._buffer(packet, wall, keyframe)

    def activity(self, until: float) -> None:
        """Trigger modes: record (at least) until `until`, wall clock."""
        self._active_until = max(self._active_until, until)

    def tick(self, now: float) -> None:
        if not self._config.enabled or self._camera_dir is None:
            return
        if self._writer is not None and not self._wanted(now) and self._pass is not None:
            self._finish(None)
        if self._failed is not None and now >= self._next_retry:
            self._retry(now)
        if self._pending_gaps:
            self._flush_gaps()
        if now >= self._next_retention:
            self._next_retention = now + self._config.retention.interval_s
            self._retention(now)
        if self._camera_dir is not None:
            with contextlib.suppress(OSError):
                self._status = replace(self._status, disk_free_bytes=self._disk_free(self._camera_dir))

    def close(self, now: float) -> None:
        if self._writer is not None:
            self._finish(None)
        if self._lost is not None and self._failed is not None:
            self._record_gap(self._lost.since, now, self._lost.reason)
            self._lost = None
        self._flush_gaps()
        self._preroll.clear()
        self._close_pass_template()

    def status(self) -> RecordingStatus:
        return self._status

    # ---- segments ------------------------------------------------------------------------

    def _start_segment(self, packet: Any, wall: float, keyframe: bool, current: _Pass) -> None:
        buffered = list(self._preroll) if self._config.triggered else []
        self._preroll.clear()
        first_key = next((i for i, (p, _) in enumerate(buffered) if p.is_keyframe), None)
        if first_key is not None:
            buffered = buffered[first_key:]
        elif not keyframe:
            if self._config.triggered:
                self._buffer(packet, wall, keyframe)
            return  # wait for a keyframe
        else:
            buffered = []
        start = buffered[0][1] if buffered else wall
        if not self._check_space(start):
            return
        assert self._camera_dir is not None
        current.clock.segment_started()
        try:
            self._writer = SegmentWriter(self._camera_dir, self.camera_id, current.template, start)
        except WRITE_ERRORS as exc:
            self._fail(f"cannot write in {self._camera_dir}: {exc}", start)
            return
        # A gap before this segment is put on the chain when the segment is finished,
        # up to its exact start (known then); if the segment is lost, so is the gap's end.
        self._set_state(RecordingState.RECORDING, f"writing {self._writer.name}")
        for buffered_packet, buffered_wall in buffered:
            self._write(buffered_packet, buffered_wall, current)
            if self._writer is None:
                return
        self._write(packet, wall, current)

    def _write(self, packet: Any, wall: float, current: _Pass) -> None:
        writer = self._writer
        assert writer is not None
        current.clock.written(stream_time(packet))  # before the writer rebases its timestamps
        try:
            writer.write(packet, wall + current.clock.period)
        except WRITE_ERRORS as exc:
            self._fail(f"write failed: {exc}", writer.last_end)

    def _finish(self, end: float | None, *, continued: bool = False) -> FinishedSegment | None:
        """Finish the open segment, ending at `end` (wall clock: where the next segment
        starts) or, when None, one frame period after its last packet. `continued`: the
        next segment starts with the packet that cut this one, exactly at its end."""
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        current = self._pass
        start, end_at = writer.start, end if end is not None else writer.last_end
        if current is not None:
            start, end_at = current.clock.segment_bounds(writer.start, end, writer.last_end)
            current.clock.segment_finished(None)
        try:
            segment = writer.finish(end_at, start=start)
            if continued and current is not None:
                current.clock.segment_finished(segment.end)
            if self._lost is not None:
                self._record_gap(self._lost.since, segment.start, self._lost.reason)
                self._lost = None
            assert self._camera_dir is not None
            entry = append_entry(
                self._camera_dir,
                EntryKind.SEGMENT,
                {
                    "file": segment.file,
                    "start": round(segment.start, 6),
                    "end": round(segment.end, 6),
                    "bytes": segment.bytes,
                    "sha256": segment.sha256,
                    "mode": self._config.mode.value,
                    "codec": self._pass.template.codec if self._pass else "",
                    "width": self._pass.template.width if self._pass else 0,
                    "height": self._pass.template.height if self._pass else 0,
                    "packets": segment.packets,
                },
            )
        except WRITE_ERRORS as exc:
            writer.abandon()
            self._fail(f"finishing a segment failed: {exc}", writer.start)
            return None
        log.info(
            "camera %s: segment %s (%.1f s, %d bytes, chain entry %d)",
            self.camera_id,
            segment.file,
            segment.end - segment.start,
            segment.bytes,
            entry.index,
        )
        self._status = replace(
            self._status,
            bytes_written=self._status.bytes_written + segment.bytes,
            segments_written=self._status.segments_written + 1,
            disk_used_bytes=self._status.disk_used_bytes + segment.bytes,
            last_segment_end=segment.end,
        )
        if self._failed is None:
            self._set_state(self._idle_state(), self._idle_reason())
        if self._config.retention.max_bytes and self._status.disk_used_bytes > self._config.retention.max_bytes:
            self._retention(self._wall_clock())
        return segment

    # ---- failures, gaps, retention --------------------------------------------------------

    def _check_space(self, at: float) -> bool:
        assert self._camera_dir is not None
        self._next_space_check = at + FREE_SPACE_CHECK_S
        try:
            free = self._disk_free(self._camera_dir)
        except OSError as exc:
            self._fail(f"cannot read the free space of {self._camera_dir}: {exc}", at)
            return False
        self._status = replace(self._status, disk_free_bytes=free)
        if free < self._config.min_free_bytes:
            self._fail(
                f"disk full: {free // (1024 * 1024)} MiB free in {self._camera_dir}, below min_free_bytes "
                f"({self._config.min_free_bytes // (1024 * 1024)} MiB)",
                at,
            )
            return False
        return True

    def _fail(self, reason: str, at: float | None) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.abandon()
            at = writer.start if at is None else min(at, writer.start)  # its footage is lost from its start
            if self._pass is not None:
                self._pass.clock.segment_finished(None)
        if at is not None and self._lost is None:
            self._lost = _Lost(at, reason)
        self._preroll.clear()
        first = self._failed is None
        self._failed = reason
        self._next_retry = self._wall_clock() + self._config.retry_s
        if first:
            log.error(
                "camera %s: recording stopped: %s (live analysis goes on; retrying every %.0f s)",
                self.camera_id,
                reason,
                self._config.retry_s,
            )
        self._set_state(RecordingState.FAILED, reason)

    def _retry(self, now: float) -> None:
        self._next_retry = now + self._config.retry_s
        camera_dir = self._camera_dir
        if camera_dir is None:
            return
        self._retention(now)  # deleting old footage may be what makes room
        try:
            camera_dir.mkdir(parents=True, exist_ok=True)
            probe = camera_dir / ".write-probe"
            with open(probe, "wb") as fh:
                fh.write(b"\0" * 4096)
                fh.flush()
                os.fsync(fh.fileno())
            probe.unlink()
            free = self._disk_free(camera_dir)
        except OSError as exc:
            self._failed = (
                f"{self._failed.split(' (still')[0] if self._failed else 'write failed'} (still: {exc.strerror or exc})"
            )
            self._set_state(RecordingState.FAILED, self._failed)
            return
        if free < self._config.min_free_bytes:
            return
        log.info("camera %s: the disk takes writes again: recording resumes", self.camera_id)
        self._failed = None
        if self._lost is not None and self._config.triggered:
            self._record_gap(self._lost.since, now, self._lost.reason)
            self._lost = None
        self._set_state(self._idle_state() if self._pass is not None else RecordingState.INTERRUPTED, "disk ok again")

    def _on_dropped(self, count: int, current: _Pass) -> None:
        self._status = replace(self._status, packets_dropped=self._status.packets_dropped + count)
        if self._writer is not None:
            finished = self._finish(None)
            end = finished.end if finished is not None else current.clock.pass_end(0.0)
            self._mark_lost(end, f"recording fell behind the stream: {count} packets dropped (disk too slow)")
        self._preroll.clear()

    def _mark_lost(self, since: float, reason: str) -> None:
        if self._lost is None:
            self._lost = _Lost(since, reason)

    def _record_gap(self, start: float, end: float, reason: str) -> None:
        if end - start < MIN_GAP_S:
            return
        self._pending_gaps.append((start, end, reason))
        self._flush_gaps()

    def _flush_gaps(self) -> None:
        if self._camera_dir is None:
            return
        while self._pending_gaps:
            start, end, reason = self._pending_gaps[0]
            try:
                append_entry(
                    self._camera_dir, EntryKind.GAP, {"start": round(start, 6), "end": round(end, 6), "reason": reason}
                )
            except OSError:
                return  # the disk is still full: later
            self._pending_gaps.pop(0)
            self._status = replace(self._status, gaps_recorded=self._status.gaps_recorded + 1)

    def _retention(self, now: float) -> None:
        if self._camera_dir is None or not (self._camera_dir / "chain.jsonl").exists():
            return
        try:
            deleted = apply_retention(self._camera_dir, self._config.retention, now)
        except OSError as exc:
            log.warning("camera %s: retention could not run: %s", self.camera_id, exc)
            return
        if deleted:
            self._status = replace(self._status, retention_deleted=self._status.retention_deleted + len(deleted))
        self._refresh_usage()

    def _refresh_usage(self) -> None:
        if self._camera_dir is None:
            return
        try:
            used = sum(int(e.fields.get("bytes", 0)) for e in live_segments(read_chain(self._camera_dir)))
        except OSError:
            return
        self._status = replace(self._status, disk_used_bytes=used)

    # ---- helpers ---------------------------------------------------------------------

    def _wall_time(self, packet: Any, arrival: float, current: _Pass) -> float | None:
        t = stream_time(packet)
        if t is None:
            return None
        if current.clock.drifted(t, arrival) and self._writer is not None:
            self._finish(None)  # with the old anchor
        return current.clock.place(t, arrival)

    def _segment_length(self, packet: Any, wall: float, writer: SegmentWriter, current: _Pass) -> float:
        """How long the open segment would be if `packet` started the next (by the stream's clock)."""
        length = current.clock.segment_length(stream_time(packet))
        return length if length is not None else wall - writer.start

    def _wanted(self, wall: float) -> bool:
        mode = self._config.mode
        if mode is RecordingMode.CONTINUOUS:
            return True
        if mode is RecordingMode.OFF:
            return False
        return wall <= self._active_until + self._config.post_roll_s

    def _buffer(self, packet: Any, wall: float, keyframe: bool) -> None:
        self._preroll.append((packet, wall))
        # Keep from the newest keyframe that is at least pre_roll_s old (so the buffer
        # always starts on a keyframe and covers the pre-roll), and never more than
        # the hand-off's size.
        horizon = wall - self._config.pre_roll_s
        keys = [i for i, (p, w) in enumerate(self._preroll) if p.is_keyframe and w <= horizon]
        drop = keys[-1] if keys else 0
        if len(self._preroll) - drop > self._config.queue_packets:
            drop = len(self._preroll) - self._config.queue_packets
        for _ in range(drop):
            self._preroll.popleft()

    def _idle_state(self) -> RecordingState:
        if self._writer is not None:
            return RecordingState.RECORDING
        if self._pass is None:
            return RecordingState.INTERRUPTED
        return RecordingState.WAITING

    def _idle_reason(self) -> str:
        if self._pass is None:
            return "waiting for the stream"
        if self._config.mode is RecordingMode.CONTINUOUS:
            return "waiting for a keyframe"
        what = "motion" if self._config.mode is RecordingMode.MOTION_ONLY else "an event"
        return f"waiting for {what} (keeping {self._config.pre_roll_s:g} s of pre-roll)"

    def _set_state(self, state: RecordingState, reason: str) -> None:
        if (state, reason) != (self._status.state, self._status.reason):
            self._status = replace(self._status, state=state, reason=reason)

    def _close_pass_template(self) -> None:
        if self._pass is not None:
            self._pass.template.close()
            self._pass = None
