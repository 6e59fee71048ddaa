"""CaptureLoop against a real RTSP server (GStreamer, in a child process)."""

from __future__ import annotations

import psutil
import pytest

from cluster.domain import CameraState

pytestmark = pytest.mark.rtsp

# Generous: an RTSP open here takes about a second, on a busy 2-core machine more.
LIVE_WITHIN_S = 20.0
FAST_RECONNECT = {"initial_s": 0.2, "max_s": 1.0, "multiplier": 2.0, "jitter": 0.1}


def test_two_cameras_on_one_server_both_go_live_and_deliver_frames(rtsp_server, make_loop):
    clip, clip_log = make_loop(rtsp_server.url("/clip"), camera_id="clip", open_timeout_s=10)
    live, live_log = make_loop(rtsp_server.url("/live"), camera_id="live", open_timeout_s=10)

    clip_log.wait_for(CameraState.LIVE, LIVE_WITHIN_S)
    live_log.wait_for(CameraState.LIVE, LIVE_WITHIN_S)
    clip_frame = clip.wait_frame(0, timeout=10)
    live_frame = live.wait_frame(0, timeout=10)

    assert clip_frame is not None, f"no frame from the file mount; state {clip.state()}"
    assert live_frame is not None, f"no frame from the test pattern mount; state {live.state()}"
    assert clip_frame.image.shape == (432, 768, 3), f"file mount frame has shape {clip_frame.image.shape}"
    assert live_frame.image.shape == (240, 320, 3), f"testsrc frame has shape {live_frame.image.shape}"
    later = live.wait_frame(live_frame.sequence, timeout=10)
    assert later is not None and later.sequence > live_frame.sequence, "the live mount stopped delivering"


def local_udp_ports() -> set[int]:
    return {c.laddr.port for c in psutil.Process().net_connections(kind="udp") if c.laddr}


def test_udp_transport_delivers_frames(rtsp_server, make_loop):
    before = local_udp_ports()
    loop, log = make_loop(rtsp_server.url("/live"), camera_id="udp", rtsp_transport="udp", open_timeout_s=10)

    log.wait_for(CameraState.LIVE, LIVE_WITHIN_S)
    first = loop.wait_frame(0, timeout=10)
    second = loop.wait_frame(first.sequence if first else 0, timeout=10)
    opened = local_udp_ports() - before

    assert first is not None and second is not None, f"no frames over UDP; state {loop.state()}"
    # RTP over UDP receives on an even port with RTCP on the next one: FFmpeg opened that pair
    # for this session. Had the option not reached FFmpeg, it would stream over the TCP
    # connection and open no such pair (any other UDP socket of the process does not count).
    pairs = sorted(p for p in opened if p % 2 == 0 and p + 1 in opened)
    assert pairs, f"no RTP/RTCP port pair opened for the session; new UDP ports {sorted(opened)}"
    assert loop.stats().reconnects == 0, f"UDP stream needed reconnects: {loop.stats()}"


def test_server_restart_is_survived_by_reconnecting(rtsp_server_factory, make_loop):
    server = rtsp_server_factory({"/live": "testsrc"})
    loop, log = make_loop(
        server.url("/live"),
        camera_id="restart",
        open_timeout_s=5,
        read_timeout_s=1,
        stall_timeout_s=2,
        reconnect=FAST_RECONNECT,
    )
    live_index, _ = log.wait_for(CameraState.LIVE, LIVE_WITHIN_S)
    before = loop.wait_frame(0, timeout=10)
    assert before is not None, f"no frame before the restart; state {loop.state()}"

    server.kill()
    # The killed server's sockets close: the stream ends at once, nothing to wait out.
    reconnect_index, then = log.wait_for(CameraState.RECONNECTING, 20, after=live_index)
    assert then.startswith("connection lost:"), f"the first retry should say why: {then!r}"

    server.restart()
    log.wait_for(CameraState.LIVE, 30, after=reconnect_index)
    after = loop.wait_frame(before.sequence, timeout=10)

    assert after is not None and after.sequence > before.sequence, f"frames did not resume; {loop.state()}"
    assert loop.stats().reconnects >= 1, f"reconnects not counted: {loop.stats()}"
    assert after.pts > before.pts, f"media time went back across the reconnect: {before.pts} then {after.pts}"


def test_stalling_stream_reads_as_stalled_not_unreachable(rtsp_server, make_loop):
    loop, log = make_loop(
        rtsp_server.url("/stall"),
        camera_id="stall",
        open_timeout_s=10,
        read_timeout_s=1,
        stall_timeout_s=1.5,
        reconnect=FAST_RECONNECT,
    )

    live_index, _ = log.wait_for(CameraState.LIVE, LIVE_WITHIN_S)
    index, reason = log.wait_for(CameraState.STALLED, 20, after=live_index)
    _, then = log.wait_for(CameraState.RECONNECTING, 10, after=index)

    assert reason.startswith("stalled: no frame") and "since the last frame" in reason, f"stall reason {reason!r}"
    assert then.startswith("stalled"), f"the reconnect after a stall should say so: {then!r}"
    unreachable = [r for state, r in log.changes[: index + 2] if r.startswith("unreachable")]
    assert not unreachable, f"a server that answers but sends nothing is not unreachable: {unreachable}"
    assert loop.stats().frames_received > 0, "the stall mount should have sent frames first"
