"""The page's one WebSocket: every tile multiplexed, newest frame wins, a slow browser
slows nobody else, every browser is one more subscriber of the gateway's hubs, and bad
input closes with a clear code and reason."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time

import aiohttp
import pytest

from cluster.client import MatthanClient
from tests.fixtures.waiting import wait_until

from .conftest import token
from .harness import Received


def logged_in(console, who: str = "admin"):
    browser = console.browser()
    assert browser.login(token(who)).status == 200
    return browser


def produce(console, *camera_ids: str, interval_s: float = 0.05) -> None:
    for camera_id in camera_ids:
        console.call(console.control.cameras[camera_id].start_producing, interval_s)


def is_frame(camera: str | None = None):
    return lambda m: m.kind == "frame" and (camera is None or m.data["camera"] == camera)


def is_closed_channel(camera: str):
    return lambda m: m.type == "closed" and m.data.get("camera") == camera


def test_the_socket_says_hello_first(console) -> None:
    hello = logged_in(console, "viewer-w1").socket().receive()
    assert hello.type == "hello" and hello.seq == 1, f"first message: {hello}"
    assert hello.data["user"] == {"name": "viewer-w1", "role": "viewer", "scoped": True}, hello.data
    assert hello.data["window"] == console.config.web.socket_window, "the page learns the window"


def test_one_socket_carries_every_tile(console) -> None:
    produce(console, "cam-a", "cam-b", "cam-c")
    sock = logged_in(console).socket()
    for camera in ("cam-a", "cam-b", "cam-c"):
        sock.subscribe("frames", camera, size="tile")
    seen: set[str] = set()

    def all_three(message: Received) -> bool:
        if message.kind == "frame":
            seen.add(message.data["camera"])
        return seen == {"cam-a", "cam-b", "cam-c"}

    last, _ = sock.receive_until(all_three)
    assert last.jpeg.startswith(b"\xff\xd8"), "a frame message carries the camera's JPEG"
    assert last.data["size"] == "tile" and last.data["width"] == 64, f"frame header: {last.data}"
    assert len(console.server_sockets()) == 1, "three tiles, one WebSocket"


def test_tiles_and_the_large_view_get_the_consoles_two_renditions(make_console) -> None:
    console = make_console(web={"tile_width": 470, "large_width": 1300, "tile_fps": 2, "large_fps": 5})
    produce(console, "cam-a", "cam-b")
    sock = logged_in(console).socket()
    sock.subscribe("frames", "cam-a", size="tile")
    sock.subscribe("frames", "cam-b", size="large")
    sock.receive_until(is_frame("cam-a"))
    sock.receive_until(is_frame("cam-b"))
    keys = console.call(lambda: sorted((k.camera_id, k.max_width) for k in console.gateway.fanout._frame_hubs))
    assert keys == [("cam-a", 320), ("cam-b", 1280)], f"widths snap down to the gateway's ladder: {keys}"


def test_newest_frame_wins_while_the_browser_does_not_acknowledge(make_console) -> None:
    console = make_console(web={"socket_window": 2, "tile_fps": 5})
    camera = console.control.cameras["cam-a"]
    sock = logged_in(console).socket()
    sock.subscribe("frames", "cam-a")
    console.run(camera.publish_frame())
    hello, first = sock.receive(), sock.receive()
    assert (hello.type, first.type) == ("hello", "frame"), "hello and the first frame fill the window of 2"
    (server_socket,) = console.server_sockets()
    (channel,) = console.call(lambda: list(server_socket.channels.values()))
    for _ in range(5):  # the page acknowledges nothing meanwhile
        time.sleep(0.3)  # more than a tile interval apart, so the tile rate lets each one through
        console.run(camera.publish_frame())
    wait_until(lambda: channel.replaced >= 4, 10, lambda: f"older frames replaced unsent ({channel.replaced})")
    assert sock.quiet(0.3) is None, "with the window full nothing more may arrive"
    assert console.call(lambda: server_socket.outbox.pending) == 1, "one frame waits: the newest"
    sock.ack(first.seq)
    after = sock.receive()
    newest = console.call(lambda: camera.frame_sequence)
    assert after.kind == "frame" and after.data["frame_sequence"] == newest == first.data["frame_sequence"] + 5, (
        f"after the ack the newest frame ({newest}) must come, not the backlog: got {after.data}"
    )
    sock.ack(after.seq)
    assert sock.quiet(0.5) is None, "and nothing of the backlog after it"


def test_a_slow_browser_never_slows_another(make_console) -> None:
    console = make_console(web={"socket_window": 2, "tile_fps": 5})
    produce(console, "cam-a", interval_s=0.02)
    stuck = logged_in(console).socket()
    stuck.subscribe("frames", "cam-a")
    quick = logged_in(console).socket()
    quick.subscribe("frames", "cam-a")
    sequences = []
    while len(sequences) < 8:
        message, _ = quick.receive_until(is_frame("cam-a"))
        sequences.append(message.data["frame_sequence"])
        quick.ack(message.seq)
    assert sequences == sorted(set(sequences)), f"the quick browser gets fresh frames in order: {sequences}"
    stuck_got = []
    while (message := stuck.quiet(0.2)) is not None:
        stuck_got.append(message)
    assert len(stuck_got) <= 2, f"the browser that acknowledges nothing holds at most its window: {len(stuck_got)}"
    assert console.upstream_loops() == {"cam-a": 1}, "two browsers, one upstream fetch"


def test_browsers_and_grpc_clients_share_one_upstream_fetch(make_console) -> None:
    console = make_console(web={"tile_width": 480})
    produce(console, "cam-a")
    sockets = [logged_in(console).socket() for _ in range(3)]
    for sock in sockets:
        sock.subscribe("frames", "cam-a")
        sock.receive_until(is_frame("cam-a"))
    client = MatthanClient(f"127.0.0.1:{console.gateway.port}", token("admin"))
    try:
        stream = client.stream_frames("cam-a", max_fps=1, max_width=480)
        with stream:
            next(iter(stream))
            assert console.upstream_loops() == {"cam-a": 1}, (
                "three browsers and a gRPC client asking for the same picture share one upstream loop"
            )
    finally:
        client.close()


def test_detection_boxes_and_the_status_list_share_the_socket(console) -> None:
    produce(console, "cam-a", "cam-b", "cam-c")
    sock = logged_in(console, "viewer-w1").socket()
    sock.subscribe("detections", "cam-a")
    sock.subscribe("status")
    batch, _ = sock.receive_until(lambda m: m.type == "detections")
    (box,) = batch.data["detections"]
    assert box == {"class": "person", "confidence": 0.9, "box": [0.1, 0.2, 0.3, 0.4], "track": 1}, box
    listing, _ = sock.receive_until(lambda m: m.type == "cameras")
    assert [c["id"] for c in listing.data["cameras"]] == ["cam-a", "cam-c"], "only the cameras the viewer may see"
    assert listing.data["cameras"][0]["state"] == "live", listing.data


def test_the_status_list_can_be_narrowed_to_groups(console) -> None:
    sock = logged_in(console).socket()
    sock.subscribe("status", groups=["ward-2"])
    listing, _ = sock.receive_until(lambda m: m.type == "cameras")
    assert [c["id"] for c in listing.data["cameras"]] == ["cam-b"], listing.data


def test_a_scoped_viewer_cannot_watch_another_groups_camera(console) -> None:
    produce(console, "cam-a", "cam-b")
    sock = logged_in(console, "viewer-w1").socket()
    sock.subscribe("frames", "cam-b")
    closed, _ = sock.receive_until(is_closed_channel("cam-b"))
    assert closed.data["code"] == "permission_denied", f"another group's camera: {closed.data}"
    sock.subscribe("frames", "cam-zzz")
    unknown, _ = sock.receive_until(is_closed_channel("cam-zzz"))
    assert unknown.data["code"] == "permission_denied", "an unknown id gets the same answer: no probing"
    sock.subscribe("frames", "cam-a")
    sock.receive_until(is_frame("cam-a"))  # the socket and its other channels go on
    denied = [r for r in console.records.of("denied", "WebFrames")]
    assert [r["cameras"] for r in denied] == [["cam-b"], ["cam-zzz"]], f"refusals are logged: {denied}"
    assert all(r["who"] == "viewer-w1" for r in denied)


def test_an_unknown_camera_is_not_found_for_an_admin(console) -> None:
    sock = logged_in(console).socket()
    sock.subscribe("frames", "cam-zzz")
    closed, _ = sock.receive_until(is_closed_channel("cam-zzz"))
    assert closed.data["code"] == "not_found", closed.data


def test_a_viewer_whose_camera_leaves_its_groups_loses_the_tile(console) -> None:
    produce(console, "cam-a")
    sock = logged_in(console, "viewer-w1").socket()
    sock.subscribe("frames", "cam-a")
    sock.receive_until(is_frame("cam-a"))
    camera = console.control.cameras["cam-a"]
    moved = camera.config.model_copy(update={"groups": ["ward-9"]})
    console.run(console.control.update_camera(moved))
    closed, _ = sock.receive_until(is_closed_channel("cam-a"), 15)
    assert closed.data["code"] == "permission_denied" and "revoked" in closed.data["message"], closed.data


def test_a_removed_camera_closes_its_tile(console) -> None:
    produce(console, "cam-a")
    sock = logged_in(console).socket()
    sock.subscribe("frames", "cam-a")
    sock.receive_until(is_frame("cam-a"))
    console.run(console.control.remove_camera("cam-a"))
    closed, _ = sock.receive_until(is_closed_channel("cam-a"))
    assert closed.data["code"] == "not_found", closed.data


def test_unsubscribing_the_last_tile_stops_the_upstream_loop(console) -> None:
    produce(console, "cam-a")
    sock = logged_in(console).socket()
    sock.subscribe("frames", "cam-a")
    sock.receive_until(is_frame("cam-a"))
    sock.unsubscribe("frames", "cam-a")
    wait_until(lambda: console.upstream_loops() == {}, 10, "no upstream loop left once the tile is gone")
    assert console.subscriptions() == 0, "the fan-out subscription must be closed"


def test_each_tile_is_a_stream_in_the_access_log(console) -> None:
    produce(console, "cam-a")
    sock = logged_in(console, "viewer-w1").socket()
    sock.subscribe("frames", "cam-a")
    for _ in range(2):
        message, _ = sock.receive_until(is_frame("cam-a"))
        sock.ack(message.seq)
    sock.unsubscribe("frames", "cam-a")
    wait_until(lambda: console.records.of("stream_end", "WebFrames"), 10, "the stream_end record")
    (start,) = console.records.of("stream_start", "WebFrames")
    (end,) = console.records.of("stream_end", "WebFrames")
    assert start["who"] == "viewer-w1" and start["cameras"] == ["cam-a"] and start["via"] == "web", start
    assert start["peer"].startswith("ipv4:127.0.0.1:") and start["size"] == "tile", start
    assert start["session"] and len(start["session"]) == 12, "which session (a digest, never the cookie)"
    assert end["stream_id"] == start["stream_id"] and end["status"] == "CANCELLED", end
    assert end["messages"] >= 2 and end["duration_s"] >= 0, end
    cookie = sock.client.session_cookie()
    assert cookie not in str(console.records.lines), "the session id must never reach the log"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello?", "not JSON"),
        ('{"type": "subscribe", "channel": "frames", "camera": "../etc"}', "is not a camera id"),
        ('{"type": "ack", "seq": 99}', "was never sent"),
    ],
)
def test_a_malformed_message_closes_the_socket_with_4400_and_a_reason(console, text: str, reason: str) -> None:
    sock = logged_in(console).socket()
    sock.receive()
    sock.send_text(text)
    closed = sock.closed()
    assert closed.code == 4400 and reason in closed.reason, f"{closed.code} {closed.reason!r}"


def test_binary_messages_from_the_page_are_refused(console) -> None:
    sock = logged_in(console).socket()
    sock.send_bytes(b"\x00\x01")
    closed = sock.closed()
    assert closed.code == 4400 and "binary" in closed.reason, f"{closed.code} {closed.reason!r}"


def test_an_oversized_message_closes_with_1009(make_console) -> None:
    console = make_console(web={"max_request_bytes": 2048})
    sock = logged_in(console).socket()
    sock.send_text('{"type": "ack", "seq": 0, "pad": "' + "x" * 5000 + '"}')
    closed = sock.closed()
    assert closed.code == 1009, f"message too big: {closed.code} {closed.reason!r}"


def test_too_many_channels_close_the_socket_with_4429(make_console) -> None:
    console = make_console(web={"max_subscriptions_per_socket": 2})
    sock = logged_in(console).socket()
    for camera in ("cam-a", "cam-b", "cam-c"):
        sock.subscribe("frames", camera)
    closed = sock.closed()
    assert closed.code == 4429 and "at most 2 channels" in closed.reason, f"{closed.code} {closed.reason!r}"


def test_too_many_pages_per_session_are_429(make_console) -> None:
    console = make_console(web={"max_sockets_per_session": 1})
    browser = logged_in(console)
    first = browser.socket()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        browser.socket()
    assert refused.value.status == 429, f"a second page of the session: {refused.value.status}"
    assert first.receive().type == "hello", "the first page goes on"


def test_a_socket_needs_a_session_and_the_consoles_origin(console) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as anonymous:
        console.browser().socket()
    assert anonymous.value.status == 401, "no session: 401 before the upgrade"
    browser = logged_in(console)
    with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
        browser.socket(origin="http://evil.example")
    assert foreign.value.status == 403, "a foreign page must not ride the session (cross-site WebSocket hijacking)"


def test_logout_closes_the_sessions_sockets_with_4401(console) -> None:
    browser = logged_in(console)
    first, second = browser.socket(), browser.socket()
    other = logged_in(console).socket()
    browser.post("/api/logout")
    for sock in (first, second):
        closed = sock.closed()
        assert closed.code == 4401 and "logged out" in closed.reason, f"{closed.code} {closed.reason!r}"
    assert other.receive().type == "hello" and other.quiet(0.3) is None, "another session's socket stays open"


def test_an_expired_session_closes_its_socket_with_4401(make_console) -> None:
    console = make_console(web={"session_idle_s": 600, "session_max_age_s": 3600})
    sock = logged_in(console).socket()
    sock.receive()
    console.clock.advance(3600)
    closed = sock.closed()
    assert closed.code == 4401 and "expired" in closed.reason, f"{closed.code} {closed.reason!r}"


def test_an_open_page_keeps_its_session_in_use(make_console) -> None:
    console = make_console(web={"session_idle_s": 600, "session_max_age_s": 3600})
    browser = logged_in(console)
    sock = browser.socket()
    sock.receive()
    for _ in range(4):
        console.clock.advance(300)
        # Meanwhile the watchdog (every 0.05 s here) marks the session used.
        assert sock.quiet(0.3) is None, "the socket stays open"
    assert browser.get("/api/session").json["authenticated"], "1200 s with the page open: the session is in use"


def test_a_browser_that_acknowledges_nothing_is_closed_with_4408(make_console) -> None:
    console = make_console(web={"socket_window": 1, "stuck_timeout_s": 0.5, "tile_fps": 5})
    produce(console, "cam-a")
    sock = logged_in(console).socket()
    sock.subscribe("frames", "cam-a")
    message = sock.receive()
    assert message.type == "hello"
    closed = None
    while closed is None or closed.kind != "close":
        closed = sock.receive()  # never acked: the window stays full
    assert closed.code == 4408 and "acknowledged nothing" in closed.reason, f"{closed.code} {closed.reason!r}"


def test_shutdown_closes_the_pages_sockets_with_1001(console) -> None:
    sock = logged_in(console).socket()
    sock.receive()
    console.run(console.web.stop())
    closed = sock.closed()
    assert closed.code == 1001 and "shutting down" in closed.reason, f"{closed.code} {closed.reason!r}"


def test_pages_opened_at_different_moments_share_each_fetch_of_a_camera(make_console) -> None:
    console = make_console(web={"tile_fps": 1})
    produce(console, "cam-a", interval_s=0.1)
    early = logged_in(console).socket()
    early.subscribe("frames", "cam-a")
    first, _ = early.receive_until(is_frame("cam-a"))
    early.ack(first.seq)
    time.sleep(0.4)  # the second page opens 0.4 s later, out of step with the first
    late = logged_in(console).socket()
    late.subscribe("frames", "cam-a")
    seen: dict[str, list[int]] = {"early": [], "late": []}
    while len(seen["late"]) < 4:
        for name, sock in (("early", early), ("late", late)):
            message = sock.quiet(0.05)
            if message is not None:
                if message.kind == "frame":
                    seen[name].append(message.data["frame_sequence"])
                sock.ack(message.seq)
    shared = set(seen["late"][1:]) & set(seen["early"])
    assert len(shared) >= 2, (
        f"both pages' tiles must be fed the same fetched frames (one JPEG per interval for all): {seen}"
    )


def _masked_text_frame(text: str) -> bytes:
    """A client-to-server WebSocket text frame (clients must mask)."""
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def test_a_browser_that_takes_no_data_is_dropped_and_slows_nobody(make_console) -> None:
    console = make_console(web={"socket_window": 1024, "stuck_timeout_s": 1.0, "tile_fps": 5})
    big = b"\xff\xd8" + os.urandom(400_000) + b"\xff\xd9"
    console.call(console.control.cameras["cam-a"].start_producing, 0.05, True, False, 1, big)
    stuck_browser = logged_in(console)
    cookie = stuck_browser.session_cookie()
    port = console.web.port

    async def stuck_page() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window: fills at once
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=raw, limit=4096)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Cookie: matthan_session={cookie}\r\n\r\n".encode()
        )
        await reader.readuntil(b"\r\n\r\n")
        writer.write(_masked_text_frame('{"type":"subscribe","channel":"frames","camera":"cam-a"}'))
        await writer.drain()
        return reader, writer  # and never read again

    _reader, writer = console.run(stuck_page())  # the reader is kept unread
    try:
        quick = logged_in(console).socket()
        quick.subscribe("frames", "cam-a")
        wait_until(
            lambda: console.records.of("stream_end", "WebFrames"), 30, "the stuck page's tile ended by the server"
        )
        (ended,) = console.records.of("stream_end", "WebFrames")
        assert ended["status"] == "RESOURCE_EXHAUSTED" and "no write completed" in ended["detail"], ended
        got = []
        while len(got) < 5:
            message, _ = quick.receive_until(is_frame("cam-a"))
            got.append(message.data["frame_sequence"])
        assert got == sorted(set(got)), f"the other page kept getting fresh frames: {got}"
        assert len(console.server_sockets()) == 1, "the stuck page's socket is gone, the other one stays"
    finally:
        console.call(writer.close)
