"""Every network failure names the origin it tried, and never the token.

Over real sockets on 127.0.0.1 (and one name in ``.invalid``, which no
resolver answers): connection refused, a read timeout, a DNS failure, a TLS
failure, a connection reset, and the retries exhausted on each. The error text
names ``scheme://host:port``; it holds no path query of the origin, no
credential and no token, nor does its repr, its chain or any log record.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from pulumi_vpsbackup.client import ClientSettings, Secret, TransportError, VpsClient
from pulumi_vpsbackup.fake import FakeVps, serve

from .conftest import TOKEN
from .test_no_token_leak import _texts


def _client(base_url: str, *, max_attempts: int = 2, timeout: float = 2.0) -> VpsClient:
    settings = ClientSettings(
        token=Secret(TOKEN), base_url=base_url, timeout=timeout, max_attempts=max_attempts
    )
    return VpsClient(settings, sleep=lambda _s: None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _listener(on_accept: Callable[[socket.socket], None]) -> Iterator[int]:
    """A loopback listener that hands every connection to ``on_accept``."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)
            on_accept(conn)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


def _silent(conn: socket.socket) -> None:
    """Accept and never answer: the client's read times out."""


def _reset(conn: socket.socket) -> None:
    """Read the request, then close with RST (SO_LINGER 0): connection reset by peer."""
    conn.settimeout(2)
    try:
        conn.recv(65536)
    except OSError:
        pass
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _assert_named_and_clean(
    err: TransportError, origin: str, caplog: pytest.LogCaptureFixture, attempts: int
) -> None:
    text = str(err)
    assert f"from {origin} after {attempts} attempts" in text, text
    assert err.origin == origin and origin.count("/") == 2 and "@" not in origin  # no path
    for t in _texts(err):
        assert TOKEN not in t
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        if record.exc_info:
            assert TOKEN not in "".join(traceback.format_exception(*record.exc_info))


def test_connection_refused_names_the_origin(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    port = _free_port()
    with _client(f"http://127.0.0.1:{port}/api/v1", max_attempts=3) as client:
        with pytest.raises(TransportError) as info:
            client.list_backups(server_id=1)
    _assert_named_and_clean(info.value, f"http://127.0.0.1:{port}", caplog, 3)
    assert "ConnectError" in str(info.value) and "?server_id=1" in info.value.path


def test_a_read_timeout_names_the_origin(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with _listener(_silent) as port:
        with _client(f"http://127.0.0.1:{port}/api/v1", timeout=0.3) as client:
            with pytest.raises(TransportError) as info:
                client.list_servers()
    _assert_named_and_clean(info.value, f"http://127.0.0.1:{port}", caplog, 2)
    assert "ReadTimeout" in str(info.value)


def test_a_connection_reset_names_the_origin(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with _listener(_reset) as port:
        with _client(f"http://127.0.0.1:{port}/api/v1") as client:
            with pytest.raises(TransportError) as info:
                client.get_account()
    _assert_named_and_clean(info.value, f"http://127.0.0.1:{port}", caplog, 2)


def test_a_tls_failure_names_the_origin(caplog: pytest.LogCaptureFixture) -> None:
    # https:// to a server that speaks plain HTTP: the TLS handshake fails.
    caplog.set_level(logging.DEBUG)
    with serve(FakeVps(token=TOKEN)) as server:
        with _client(f"https://127.0.0.1:{server.port}/api/v1") as client:
            with pytest.raises(TransportError) as info:
                client.list_backups()
    _assert_named_and_clean(info.value, f"https://127.0.0.1:{server.port}", caplog, 2)
    assert "SSL" in str(info.value) or "TLS" in str(info.value)


def test_a_dns_failure_names_the_host(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with _client("https://api.no-such-host.invalid/api/v1") as client:
        with pytest.raises(TransportError) as info:
            client.list_backups()
    _assert_named_and_clean(info.value, "https://api.no-such-host.invalid:443", caplog, 2)
    assert "ConnectError" in str(info.value)


def test_a_post_that_got_no_answer_names_the_origin(caplog: pytest.LogCaptureFixture) -> None:
    # A create that reaches nobody: never sent, so not reconciled; the origin named.
    caplog.set_level(logging.DEBUG)
    port = _free_port()
    with _client(f"http://127.0.0.1:{port}/api/v1") as client:
        with pytest.raises(TransportError) as info:
            client.create_backup(1, "nightly")
    _assert_named_and_clean(info.value, f"http://127.0.0.1:{port}", caplog, 2)
    assert info.value.outcome_unknown is False
