"""A web console in front of a control plane, driven over real HTTP and WebSockets.

`ConsoleHarness` runs a `GatewayServer` and its `WebConsole` (sharing the gateway's
fan-out, authenticator and access log, as `matthan serve` does) on a `LoopThread`;
tests on the main thread talk to it with `HttpClient` (aiohttp's client with its
own cookie jar: one "browser") and its `Socket`s. The console's clock is a
`ManualClock`, so session expiry and the login window are tested without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from cluster.config.server import ServerConfig
from cluster.control import CameraControl
from cluster.events import EventQueries
from cluster.gateway.access_log import ACCESS_LOGGER
from cluster.gateway.event_feed import EventFeedSettings
from cluster.gateway.fanout import FanoutSettings
from cluster.gateway.server import GatewayServer
from cluster.recordings import RecordingCatalog
from cluster.web.protocol import decode_frame
from cluster.web.server import WebConsole
from tests.gateway.fakes import LoopThread

RECEIVE_TIMEOUT_S = 10.0


class ManualClock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self, start: float | None = None):
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class AccessRecords(logging.Handler):
    """Collects the access log's JSON lines."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(record.getMessage()))

    def of(self, event: str | None = None, method: str | None = None) -> list[dict]:
        return [r for r in self.lines if event in (None, r["event"]) and method in (None, r["method"])]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, Any] = field(default_factory=dict)  # Set-Cookie of this reply: name -> Morsel

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_code(self) -> str | None:
        try:
            return self.json["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None


@dataclass
class Received:
    kind: str  # "text", "frame" or "close"
    data: dict | None = None  # text: the JSON; frame: the header
    jpeg: bytes = b""
    code: int | None = None  # close code
    reason: str = ""

    @property
    def seq(self) -> int:
        assert self.data is not None, f"a {self.kind} message has no seq"
        return int(self.data["seq"])

    @property
    def type(self) -> str:
        return "frame" if self.kind == "frame" else (self.data or {}).get("type", self.kind)


class Socket:
    """One page's WebSocket, as the test sees it."""

    def __init__(self, client: HttpClient, ws: aiohttp.ClientWebSocketResponse):
        self.client = client
        self.ws = ws

    def send(self, message: dict) -> None:
        self.send_text(json.dumps(message))

    def send_text(self, text: str) -> None:
        self.client.run(self.ws.send_str(text))

    def send_bytes(self, data: bytes) -> None:
        self.client.run(self.ws.send_bytes(data))

    def subscribe(self, channel: str, camera: str | None = None, **options: object) -> None:
        message: dict = {"type": "subscribe", "channel": channel, **options}
        if camera is not None:
            message["camera"] = camera
        self.send(message)

    def unsubscribe(self, channel: str, camera: str | None = None) -> None:
        message: dict = {"type": "unsubscribe", "channel": channel}
        if camera is not None:
            message["camera"] = camera
        self.send(message)

    def ack(self, seq: int) -> None:
        self.send({"type": "ack", "seq": seq})

    def receive(self, timeout: float = RECEIVE_TIMEOUT_S) -> Received:
        async def receive() -> aiohttp.WSMessage:
            return await self.ws.receive(timeout)

        message = self.client.run(receive(), timeout + 5)
        if message.type is aiohttp.WSMsgType.TEXT:
            return Received("text", json.loads(message.data))
        if message.type is aiohttp.WSMsgType.BINARY:
            header, jpeg = decode_frame(message.data)
            return Received("frame", header, jpeg)
        if message.type is aiohttp.WSMsgType.CLOSE:  # what the server sent, whatever happened to our reply
            return Received("close", code=int(message.data), reason=str(message.extra or ""))
        if message.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
            return Received("close", code=self.ws.close_code, reason=str(message.extra or ""))
        raise AssertionError(f"unexpected WebSocket message {message.type}: {message.data!r}")

    def quiet(self, seconds: float) -> Received | None:
        """The next message if one comes within `seconds`, else None."""
        try:
            return self.receive(seconds)
        except TimeoutError:
            return None

    def receive_until(
        self, predicate: Callable[[Received], bool], timeout: float = RECEIVE_TIMEOUT_S, *, ack: bool = True
    ) -> tuple[Received, list[Received]]:
        """Messages until one matches (acking each, like the page); (the match, all before it)."""
        deadline = time.monotonic() + timeout
        seen: list[Received] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching message within {timeout:g} s; got {[m.type for m in seen]}")
            message = self.receive(left)
            if predicate(message):
                return message, seen
            if message.kind == "close":
                raise AssertionError(f"socket closed ({message.code} {message.reason!r}) before a matching message")
            seen.append(message)
            if ack and not self.ws.closed:
                with contextlib.suppress(ConnectionResetError):  # the server may be closing meanwhile
                    self.ack(message.seq)

    def closed(self, timeout: float = RECEIVE_TIMEOUT_S) -> Received:
        """Read (acking) until the server closes the socket; the close message."""
        message, _ = self.receive_until(lambda m: m.kind == "close", timeout)
        return message

    def close(self) -> None:
        self.client.run(self.ws.close())


class HttpClient:
    """One browser: its own cookie jar; sends Origin like a browser unless told not to."""

    def __init__(self, harness: ConsoleHarness, *, origin: str | None = "same"):
        self.harness = harness
        self.origin = harness.base_url.rstrip("/") if origin == "same" else origin
        self.csrf: str | None = None

        async def make() -> aiohttp.ClientSession:
            return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), connector=harness.connector())

        self.session: aiohttp.ClientSession = harness.run(make())

    def run(self, coro, timeout: float = 30.0):
        return self.harness.run(coro, timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: object = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        csrf: bool = True,
        timeout: float = 30.0,
    ) -> Reply:
        sent = dict(headers or {})
        if self.origin is not None:
            sent.setdefault("Origin", self.origin)
        if csrf and self.csrf is not None and method != "GET":
            sent.setdefault("X-CSRF-Token", self.csrf)

        async def go() -> Reply:
            async with self.session.request(
                method, self.harness.base_url.rstrip("/") + path, json=json_body, data=data, headers=sent
            ) as response:
                body = await response.read()
                return Reply(response.status, dict(response.headers), body, dict(response.cookies))

        return self.run(go(), timeout)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: object = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, json_body={} if body is None else body, **kwargs)

    def login(self, token: str, **fields: object) -> Reply:
        reply = self.post("/api/login", {"token": token, **fields})
        if reply.status == 200:
            self.csrf = reply.json["csrf_token"]
        return reply

    def session_cookie(self) -> str | None:
        name = self.harness.web.services.session_cookie
        for cookie in self.session.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return None

    def socket(self, *, origin: str | None = "same") -> Socket:
        shown = self.origin if origin == "same" else origin
        url = self.harness.base_url.rstrip("/") + "/ws"  # aiohttp upgrades http(s) to ws(s)

        async def connect() -> aiohttp.ClientWebSocketResponse:
            return await self.session.ws_connect(url, origin=shown, autoping=True)

        return Socket(self, self.run(connect()))

    def close(self) -> None:
        self.run(self.session.close())


class ConsoleHarness:
    def __init__(
        self,
        loop_thread: LoopThread,
        control: CameraControl,
        config: ServerConfig,
        *,
        clock: ManualClock | None = None,
        fanout_settings: FanoutSettings | None = None,
        ssl_context: Any = None,
        events: EventQueries | None = None,
        event_feed_settings: EventFeedSettings | None = None,
        recordings: RecordingCatalog | None = None,
    ):
        self.loop_thread = loop_thread
        self.control = control
        self.config = config
        self.clock = clock or ManualClock()
        self.records = AccessRecords()
        self._ssl = ssl_context
        logger = logging.getLogger(f"{ACCESS_LOGGER}.web-test-{id(self)}")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(self.records)
        settings = fanout_settings or FanoutSettings(pull_timeout_s=0.5, retry_initial_s=0.05, retry_max_s=0.2)

        async def start() -> tuple[GatewayServer, WebConsole]:
            gateway = GatewayServer(
                control,
                config,
                fanout_settings=settings,
                access_logger=logger,
                events=events,
                event_feed_settings=event_feed_settings,
                recordings=recordings,
            )
            await gateway.start()
            web = WebConsole.beside(gateway, clock=self.clock, socket_check_s=0.05)
            try:
                await web.start()
            except BaseException:
                await gateway.stop(0)
                raise
            return gateway, web

        self.gateway, self.web = self.run(start())
        self.base_url = self.web.url
        self._clients: list[HttpClient] = []

    def run(self, coro, timeout: float = 30.0):
        return self.loop_thread.run(coro, timeout)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.loop_thread.call(fn, *args)

    def connector(self) -> aiohttp.TCPConnector:
        return aiohttp.TCPConnector(ssl=self._ssl) if self._ssl is not None else aiohttp.TCPConnector()

    def browser(self, **kwargs: Any) -> HttpClient:
        client = HttpClient(self, **kwargs)
        self._clients.append(client)
        return client

    def server_sockets(self) -> list:
        """The console's open ConsoleSockets."""
        return self.call(lambda: [s for group in self.web.services.sockets.values() for s in group])

    def upstream_loops(self) -> dict[str, int]:
        return self.call(lambda: self.gateway.fanout.upstream_loops)

    def subscriptions(self) -> int:
        return self.call(lambda: self.gateway.fanout.subscription_count)

    def stop(self) -> None:
        try:
            for client in self._clients:
                client.close()
        finally:
            self.run(self.web.stop())
            self.run(self.gateway.stop(0))


async def wait_for_async(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
