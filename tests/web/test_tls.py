"""Under TLS the console speaks HTTPS/WSS with the gateway's certificate, and its
session cookie is Secure with the __Host- prefix."""

from __future__ import annotations

import ssl

import aiohttp
import pytest

from tests.gateway.fakes import FakeControl
from tests.gateway.test_tls import make_ca, make_leaf

from .conftest import default_cameras, token, web_config
from .harness import ConsoleHarness


@pytest.fixture
def tls_console(loop_thread, tmp_path):
    ca, ca_key, ca_cert = make_ca("Mat Than web test CA")
    server = make_leaf("console", ca_key, ca_cert, server=True)
    (tmp_path / "server.pem").write_bytes(server.cert)
    (tmp_path / "server.key").write_bytes(server.key)
    (tmp_path / "ca.pem").write_bytes(ca.cert)
    config = web_config(tls={"cert_file": str(tmp_path / "server.pem"), "key_file": str(tmp_path / "server.key")})
    trust = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    control = loop_thread.call(lambda: FakeControl(default_cameras()))
    harness = ConsoleHarness(loop_thread, control, config, ssl_context=trust)
    yield harness
    harness.stop()


def test_the_console_answers_https_with_a_secure_host_prefixed_cookie(tls_console) -> None:
    assert tls_console.base_url.startswith("https://"), tls_console.base_url
    browser = tls_console.browser()
    reply = browser.login(token("admin"))
    assert reply.status == 200, f"login over TLS: {reply.status} {reply.body!r}"
    cookie = reply.cookies["__Host-matthan_session"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict", f"cookie: {cookie}"
    assert reply.headers.get("Strict-Transport-Security", "").startswith("max-age="), "HSTS under TLS"
    assert browser.get("/api/cameras").status == 200, "the Secure cookie is sent back over TLS"


def test_the_page_socket_runs_over_wss(tls_console) -> None:
    browser = tls_console.browser()
    browser.login(token("admin"))
    sock = browser.socket()
    assert sock.receive().type == "hello", "the WebSocket works over TLS"


def test_plain_http_to_the_tls_console_is_refused(tls_console) -> None:
    plain = tls_console.base_url.replace("https://", "http://", 1)

    async def plain_request(path: str, **kwargs) -> str:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.request(
                    "POST" if kwargs else "GET",
                    plain + path.lstrip("/"),
                    timeout=aiohttp.ClientTimeout(total=10),
                    **kwargs,
                ) as response:
                    return f"answered {response.status} {dict(response.headers)}"
            except aiohttp.ClientError as exc:
                return f"refused: {type(exc).__name__}"

    for path, kwargs in (("/", {}), ("/api/cameras", {}), ("/api/login", {"json": {"token": token("admin")}})):
        outcome = tls_console.run(plain_request(path, **kwargs))
        assert outcome.startswith("refused"), f"plain HTTP {path} to the TLS console: {outcome}"
    assert tls_console.browser().get("/api/session").status == 200, "HTTPS goes on being served"
