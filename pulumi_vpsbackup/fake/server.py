"""Serving a ``FakeVps`` over real HTTP on loopback.

``serve()`` runs werkzeug's threaded server in a daemon thread for the length
of a ``with`` block: what tests use when a separate process (the Pulumi
provider host, curl) must reach the fake. The CLI uses :func:`make_fake_server`
directly in the foreground.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .api import API_PREFIX
from .app import FakeVps

__all__ = ["FakeServer", "is_loopback", "make_fake_server", "serve"]


class _QuietHandler(WSGIRequestHandler):
    """No access log: tests stay readable; the journal records requests instead."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_fake_server(
    app: FakeVps, host: str = "127.0.0.1", port: int = 0, *, access_log: bool = False
) -> BaseWSGIServer:
    """A bound, threaded werkzeug server (not yet serving)."""
    handler = WSGIRequestHandler if access_log else _QuietHandler
    return make_server(host, port, app, threaded=True, request_handler=handler)


@dataclass(frozen=True)
class FakeServer:
    """A running fake: ``url`` is the API base, ``root_url`` the server root."""

    app: FakeVps
    host: str
    port: int

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return self.root_url + API_PREFIX

    @property
    def admin_url(self) -> str:
        return self.root_url + "/__fake"


@contextmanager
def serve(
    app: FakeVps | None = None, host: str = "127.0.0.1", port: int = 0, **kwargs: Any
) -> Iterator[FakeServer]:
    """Serve ``app`` (or a new ``FakeVps(**kwargs)``) until the block ends."""
    if app is None:
        app = FakeVps(**kwargs)
    elif kwargs:
        raise TypeError("pass either an app or FakeVps keyword arguments, not both")
    server = make_fake_server(app, host, port)
    # A short poll interval keeps shutdown (and so every test's teardown) quick.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-vps", daemon=True
    )
    thread.start()
    try:
        yield FakeServer(app=app, host=host, port=server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
