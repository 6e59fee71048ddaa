"""CaptureLoop: files, MJPEG, the state machine (with scripted sources), frame hand-off,
sampling by media time, the frame hook."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

from cluster.actors.capture import CaptureLoop
from cluster.config.source import SourceConfig
from cluster.domain import CameraState
from cluster.video.sources import SourceError
from tests.actors.conftest import wait_until

FAST_RECONNECT = {"initial_s": 0.01, "max_s": 0.05, "multiplier": 2.0, "jitter": 0.0}
SLOW_ENOUGH_RECONNECT = {"initial_s": 0.2, "max_s": 1.0, "multiplier": 2.0, "jitter": 0.1}


class ScriptedSource:
    """A VideoSource stand-in: `frames` frames, then silence (or the end of a file)."""

    def __init__(
        self, frames: int, *, ends: bool = False, grab_error: SourceError | None = None, drops: str | None = None
    ) -> None:
        self.remaining = frames
        self.ends = ends
        self.grab_error = grab_error
        self.drops = drops  # after the frames, the connection is lost for this reason
        self.end_of_file = False
        self.connection_lost: str | None = None
        self.description = "scripted"
        self.fps = 50.0
        self.size = (32, 24)
        self.pts = 0.0
        self.released = threading.Event()

    def grab(self) -> bool:
        if self.remaining > 0:
            self.remaining -= 1
            self.pts += 1.0 / self.fps
            time.sleep(0.005)
            return True
        if self.grab_error is not None:
            raise self.grab_error
        if self.ends:
            self.end_of_file = True
        self.connection_lost = self.drops
        time.sleep(0.01)  # like a read that waited a little
        return False

    def retrieve(self) -> np.ndarray:
        return np.zeros((24, 32, 3), dtype=np.uint8)

    def release(self) -> None:
        self.released.set()


class ScriptedOpener:
    """Hands out the scripted outcomes in order (an exception is raised), then repeats the last."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self, config: SourceConfig, **_: object) -> ScriptedSource:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def unreachable() -> SourceError:
    return SourceError("could not open rtsp://cam/x: no answer within 1 s", permanent=False)


# ---- files ----------------------------------------------------------------------------


def test_realtime_file_is_delivered_at_roughly_its_frame_rate(make_loop, car_clip):
    loop, log = make_loop(car_clip, realtime=True, loop=True, retrieve_fps=0)
    log.wait_for(CameraState.LIVE, 10)
    wait_until(lambda: loop.stats().frames_received >= 3, 10, "no frames from the clip")

    first, started = loop.stats().frames_received, time.monotonic()
    time.sleep(2.0)
    received, elapsed = loop.stats().frames_received - first, time.monotonic() - started

    expected = 12.5 * elapsed
    # A loose band: this checks pacing happens at all, not how precise it is.
    assert 0.5 * expected <= received <= 1.5 * expected, f"{received} frames in {elapsed:.1f} s at 12.5 fps"


def test_looping_file_keeps_going_past_its_end(make_loop, short_clip):
    loop, _log = make_loop(short_clip, realtime=False, loop=True, retrieve_fps=0)

    wait_until(lambda: loop.stats().frames_received > 3 * 23, 20, lambda: f"stats {loop.stats()}")

    assert loop.state()[0] is CameraState.LIVE, f"state {loop.state()}"
    assert loop.stats().reconnects == 0, "looping should not need a reopen"


def test_end_of_non_looping_file_is_stopped_not_failed(make_loop, short_clip):
    loop, log = make_loop(short_clip, realtime=False, loop=False)

    log.wait_for(CameraState.STOPPED, 20)
    state, reason = loop.state()

    assert state is CameraState.STOPPED and loop.end_of_file, f"state {state} end_of_file {loop.end_of_file}"
    assert reason.startswith("end of file") and str(short_clip) in reason, reason
    assert loop.stats().frames_received == 23, f"stats {loop.stats()}"
    assert CameraState.FAILED not in log.states, f"changes {log.changes}"


def test_stop_after_end_of_file_keeps_the_end_of_file_reason(make_loop, short_clip):
    loop, log = make_loop(short_clip, realtime=False, loop=False)
    log.wait_for(CameraState.STOPPED, 20)

    loop.stop()

    assert loop.state()[1].startswith("end of file"), f"stop() overwrote the reason: {loop.state()}"


def test_missing_file_fails_with_the_path_in_the_reason(make_loop, tmp_path):
    missing = tmp_path / "gone.mp4"
    loop, log = make_loop(missing)

    _, reason = log.wait_for(CameraState.FAILED, 10)

    assert str(missing) in reason and "does not exist" in reason, reason
    wait_until(lambda: not loop.running, 10, "the thread should end after a permanent failure")
    assert loop.stats().reconnects == 0, "a permanent error must not be retried"


def test_truncated_file_fails_with_a_reason(make_loop, truncated_clip):
    loop, log = make_loop(truncated_clip, realtime=False, retrieve_fps=0)

    _, reason = log.wait_for(CameraState.FAILED, 20)

    assert "truncated" in reason and str(truncated_clip) in reason, reason
    assert loop.stats().frames_received > 0, "the readable part should have been delivered first"


def test_file_that_is_not_a_video_fails(make_loop, noise_file):
    _loop, log = make_loop(noise_file)

    _, reason = log.wait_for(CameraState.FAILED, 10)

    assert "not a video" in reason and str(noise_file) in reason, reason


def test_every_frame_is_decoded_when_no_rate_is_set(make_loop, short_clip):
    loop, log = make_loop(short_clip, realtime=False, loop=False, retrieve_fps=None)

    log.wait_for(CameraState.STOPPED, 20)

    stats = loop.stats()
    assert stats.frames_decoded == stats.frames_received == 23, f"stats {stats}"


# ---- grab every frame, retrieve only what is needed ------------------------------------------


def test_low_retrieve_rate_grabs_every_frame_but_decodes_few(make_loop, car_clip):
    # The rate is per second of footage: 0.2 of the clip's 30 s make 7 frames due.
    loop, log = make_loop(car_clip, realtime=False, loop=False, retrieve_fps=0.2)

    log.wait_for(CameraState.STOPPED, 30)
    stats = loop.stats()

    assert stats.frames_received == 377, f"every frame must be grabbed: {stats}"
    assert stats.frames_decoded >= 1 and stats.frames_decoded * 10 <= stats.frames_received, f"stats {stats}"


def test_sequence_gaps_show_the_frames_a_reader_skipped(make_loop, car_clip):
    # 5 of the clip's 12.5 frames per second are due: the others are never decoded.
    loop, _log = make_loop(car_clip, realtime=False, loop=True, retrieve_fps=5)
    sequences: list[int] = []
    while len(sequences) < 5:
        frame = loop.wait_frame(sequences[-1] if sequences else 0, timeout=10)
        assert frame is not None, f"frames stopped coming; state {loop.state()}"
        sequences.append(frame.sequence)

    gaps = [later - earlier for earlier, later in itertools.pairwise(sequences)]
    assert all(gap >= 1 for gap in gaps), f"sequences must increase: {sequences}"
    assert max(gaps) > 1, f"skipped frames should show as sequence gaps: {sequences}"
    stats = loop.stats()
    assert stats.frames_decoded < stats.frames_received, f"stats {stats}"


def test_request_frame_decodes_one_frame_on_demand(make_loop, car_clip):
    loop, _log = make_loop(car_clip, realtime=True, loop=True, retrieve_fps=0)
    wait_until(lambda: loop.stats().frames_received >= 5, 10, lambda: f"stats {loop.stats()}")
    assert loop.stats().frames_decoded == 0, "nothing should be decoded before a request"

    loop.request_frame()
    frame = loop.wait_frame(0, timeout=10)

    assert frame is not None, f"no frame after request_frame(); state {loop.state()}"
    assert loop.stats().frames_decoded == 1, f"one request, one decode: {loop.stats()}"
    assert not frame.image.flags.writeable, "a shared frame must be read-only"


def test_wait_frame_returns_none_when_nothing_newer_comes(make_loop):
    source = ScriptedSource(frames=1)
    loop, _log = make_loop("rtsp://cam.local/x", opener=ScriptedOpener(source), stall_timeout_s=60)
    first = loop.wait_frame(0, timeout=10)
    assert first is not None, f"the scripted frame never arrived; {loop.state()}"

    assert loop.wait_frame(first.sequence, timeout=0.3) is None, "no newer frame exists"
    assert loop.latest() is first


def test_retrieve_rate_can_be_changed_while_running(make_loop, car_clip):
    loop, _log = make_loop(car_clip, realtime=True, loop=True, retrieve_fps=0)
    wait_until(lambda: loop.stats().frames_received >= 3, 10, "no frames")
    assert loop.stats().frames_decoded == 0

    loop.set_retrieve_fps(None)

    assert loop.wait_frame(0, timeout=10) is not None, "frames should be decoded after raising the rate"


def test_negative_retrieve_rate_is_refused():
    with pytest.raises(ValueError, match="retrieve_fps"):
        CaptureLoop("cam", SourceConfig(url="/x.mp4"), retrieve_fps=-1)


# ---- media time across reconnects -------------------------------------------------------


def test_media_time_continues_across_reconnects(make_loop):
    timelines = []

    def opener(config: SourceConfig, *, timeline, **_: object) -> ScriptedSource:
        timelines.append(timeline)
        return ScriptedSource(frames=3 if len(timelines) == 1 else 1000)

    _loop, log = make_loop("rtsp://cam.local/x", opener=opener, stall_timeout_s=0.3, reconnect=FAST_RECONNECT)
    wait_until(lambda: len(timelines) >= 2, 10, lambda: f"no reconnect; changes {log.changes}")

    assert timelines[0] is not None and timelines[1] is timelines[0], (
        "every open must get the camera's one media timeline, so pts never goes back"
    )


# ---- MJPEG ----------------------------------------------------------------------------


def test_mjpeg_stream_goes_live_and_delivers_frames(make_loop, mjpeg_server):
    loop, log = make_loop(mjpeg_server.url, open_timeout_s=10)

    log.wait_for(CameraState.LIVE, 20)
    frame = loop.wait_frame(0, timeout=10)
    later = loop.wait_frame(frame.sequence if frame else 0, timeout=10)

    assert frame is not None and later is not None, f"no MJPEG frames; {loop.state()}"
    assert frame.image.shape == (240, 320, 3), f"shape {frame.image.shape}"


# ---- network sources that never answer -------------------------------------------------


def test_black_hole_url_reaches_reconnecting_as_unreachable(black_hole, make_loop):
    _loop, log = make_loop(
        black_hole.url("rtsp"),
        camera_id="void",
        open_timeout_s=1.5,
        read_timeout_s=1,
        reconnect=SLOW_ENOUGH_RECONNECT,
    )

    # Bound: the open timeout plus a wide margin for a loaded machine.
    _, reason = log.wait_for(CameraState.RECONNECTING, 1.5 + 10)

    assert reason.startswith("unreachable"), f"a silent server should read as unreachable: {reason!r}"
    assert "no answer within 1.5 s" in reason, f"the reason should say the server did not answer: {reason!r}"
    assert CameraState.STALLED not in log.states, f"an open that never answered is not a stall: {log.changes}"


def test_stop_does_not_wait_for_an_open_that_hangs(black_hole, make_loop):
    # The open would block inside FFmpeg for a minute; stop() must not wait for it.
    loop, log = make_loop(black_hole.url("rtsp"), camera_id="void", open_timeout_s=60)
    log.wait_for(CameraState.CONNECTING, 10)
    stopped = threading.Event()

    def stop() -> None:
        if loop.stop(timeout=60):
            stopped.set()

    threading.Thread(target=stop, daemon=True).start()

    assert stopped.wait(15), f"stop() still waiting for the hanging open; state {loop.state()}"
    assert loop.state()[0] is CameraState.STOPPED, f"state after stop: {loop.state()}"


# ---- state machine ------------------------------------------------------------------------


def test_transient_open_failures_are_retried_until_live(make_loop):
    opener = ScriptedOpener(unreachable(), unreachable(), ScriptedSource(frames=1000))
    loop, log = make_loop("rtsp://cam.local/x", opener=opener, reconnect=FAST_RECONNECT)

    log.wait_for(CameraState.LIVE, 10)

    reconnecting = [reason for state, reason in log.changes if state is CameraState.RECONNECTING]
    assert len(reconnecting) == 2 and all(r.startswith("unreachable") for r in reconnecting), log.changes
    assert loop.stats().reconnects == 2, f"stats {loop.stats()}"
    assert CameraState.STALLED not in log.states, "open failures are not stalls"


def test_permanent_open_error_fails_without_retrying(make_loop):
    opener = ScriptedOpener(SourceError("unsupported URL scheme 'ftp'", permanent=True))
    loop, log = make_loop("rtsp://cam.local/x", opener=opener, reconnect=FAST_RECONNECT)

    _, reason = log.wait_for(CameraState.FAILED, 10)
    wait_until(lambda: not loop.running, 10, "thread still running after FAILED")

    assert "ftp" in reason and opener.calls == 1, f"reason {reason!r}, {opener.calls} opens"


def test_source_that_opens_but_sends_nothing_stalls(make_loop):
    first = ScriptedSource(frames=0)
    _loop, log = make_loop(
        "rtsp://cam.local/x",
        opener=ScriptedOpener(first, ScriptedSource(frames=1000)),
        stall_timeout_s=0.3,
        reconnect=FAST_RECONNECT,
    )

    index, reason = log.wait_for(CameraState.STALLED, 10)
    log.wait_for(CameraState.LIVE, 10, after=index)

    assert "since the source opened" in reason, reason
    assert CameraState.LIVE not in log.states[:index], "never live before the stall"
    assert first.released.is_set(), "the stalled source must be closed before reopening"


def test_live_source_that_goes_silent_stalls_then_reconnects(make_loop):
    loop, log = make_loop(
        "rtsp://cam.local/x",
        opener=ScriptedOpener(ScriptedSource(frames=5), ScriptedSource(frames=1000)),
        stall_timeout_s=0.3,
        reconnect=FAST_RECONNECT,
    )

    index, reason = log.wait_for(CameraState.STALLED, 10)
    _, then = log.wait_for(CameraState.RECONNECTING, 10, after=index)
    log.wait_for(CameraState.LIVE, 10, after=index)

    assert "since the last frame" in reason, reason
    assert then.startswith("stalled"), then
    assert loop.stats().reconnects == 1, f"stats {loop.stats()}"


def test_a_lost_connection_reconnects_at_once_without_waiting_for_a_stall(make_loop):
    loop, log = make_loop(
        "rtsp://cam.local/x",
        opener=ScriptedOpener(ScriptedSource(frames=5, drops="the peer reset it"), ScriptedSource(frames=1000)),
        stall_timeout_s=600,  # a stall would never be declared within the test
        reconnect=FAST_RECONNECT,
    )

    index, reason = log.wait_for(CameraState.RECONNECTING, 10)
    log.wait_for(CameraState.LIVE, 10, after=index)

    assert reason.startswith("connection lost: the peer reset it"), reason
    assert CameraState.STALLED not in [state for state, _ in log.changes], f"no stall on the way: {log.changes}"
    assert loop.stats().reconnects == 1, f"stats {loop.stats()}"


def test_permanent_error_while_reading_fails(make_loop):
    broken = ScriptedSource(frames=3, grab_error=SourceError("file x ended early: truncated", permanent=True))
    _loop, log = make_loop("rtsp://cam.local/x", opener=ScriptedOpener(broken), reconnect=FAST_RECONNECT)

    _, reason = log.wait_for(CameraState.FAILED, 10)

    assert "truncated" in reason and broken.released.is_set(), reason


def test_bug_in_the_opener_fails_the_camera_visibly(make_loop):
    _loop, log = make_loop("rtsp://cam.local/x", opener=ScriptedOpener(RuntimeError("boom")))

    _, reason = log.wait_for(CameraState.FAILED, 10)

    assert "crashed" in reason and "boom" in reason, reason


def test_stop_abandons_a_slow_open_and_releases_what_it_opens_later(make_loop):
    release_open = threading.Event()
    source = ScriptedSource(frames=1000)

    def slow_opener(config: SourceConfig, **_: object) -> ScriptedSource:
        release_open.wait(30)
        return source

    loop, log = make_loop("rtsp://cam.local/x", opener=slow_opener)
    log.wait_for(CameraState.CONNECTING, 10)

    assert loop.stop(timeout=10), "stop() should not wait for the open"
    assert loop.state()[0] is CameraState.STOPPED, f"state {loop.state()}"
    release_open.set()
    assert source.released.wait(10), "the source opened after stop() must be released"


def test_broken_state_callback_does_not_stop_capture():
    def explode(state: CameraState, reason: str) -> None:
        raise RuntimeError("observer bug")

    loop = CaptureLoop(
        "cam",
        SourceConfig(url="rtsp://cam.local/x"),
        opener=ScriptedOpener(ScriptedSource(frames=1000)),
        on_state_change=explode,
    )
    loop.start()
    try:
        assert loop.wait_frame(0, timeout=10) is not None, f"no frames; state {loop.state()}"
        assert loop.state()[0] is CameraState.LIVE
    finally:
        assert loop.stop(timeout=10)


def test_stop_before_start_leaves_it_stopped_and_start_twice_is_refused():
    loop = CaptureLoop("cam", SourceConfig(url="rtsp://cam.local/x"), opener=ScriptedOpener(ScriptedSource(5)))
    loop.start()
    with pytest.raises(RuntimeError, match="already started"):
        loop.start()
    assert loop.stop(timeout=10)

    idle = CaptureLoop("idle", SourceConfig(url="rtsp://cam.local/x"))
    assert idle.stop(timeout=1) and idle.state()[0] is CameraState.STOPPED


def test_file_goes_connecting_live_then_stopped_at_its_end(make_loop, short_clip):
    _loop, log = make_loop(short_clip, realtime=False)

    log.wait_for(CameraState.STOPPED, 20)

    assert log.states == [CameraState.CONNECTING, CameraState.LIVE, CameraState.STOPPED], log.changes
