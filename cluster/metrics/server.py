"""The scrape endpoint: prometheus_client's WSGI app on its own port, `/metrics`.

Runs on its own threads (one per request), so scrapes never wait on the
front door's event loop. `/` answers with a pointer to `/metrics`; anything else is 404.
"""

from __future__ import annotations

import logging
import socket
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # one line per scrape is noise
        pass


class MetricsServer:
    def __init__(self, registry: CollectorRegistry, host: str = "127.0.0.1", port: int = 9480):
        self.registry = registry
        self.host = host
        self._requested_port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the metrics server is already running")
        metrics_app = make_wsgi_app(self.registry)

        def app(environ, start_response):
            path = environ.get("PATH_INFO", "")
            if path == METRICS_PATH:
                return metrics_app(environ, start_response)
            if path == "/":
                start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
                return [b"Mat Than metrics: see /metrics\n"]
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [f"not found: {path}; metrics are at {METRICS_PATH}\n".encode()]

        server_class = _ThreadingServer6 if ":" in self.host else _ThreadingServer
        try:
            self._server = make_server(
                self.host.strip("[]"), self._requested_port, app, server_class, handler_class=_QuietHandler
            )
        except OSError as exc:
            raise OSError(
                exc.errno, f"cannot serve metrics on {self.host}:{self._requested_port}: {exc.strerror}"
            ) from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics-http", daemon=True)
        self._thread.start()
        logger.info("serving Prometheus metrics on %s", self.url)

    @property
    def port(self) -> int:
        """The bound port (the one picked by the OS when 0 was asked for)."""
        if self._server is None:
            raise RuntimeError("the metrics server is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{METRICS_PATH}"

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
