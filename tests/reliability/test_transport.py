"""Transport safety: no clear-text token, no silent TLS opt-out, no token to other hosts.

Findings (see the final assertions of each test):

* plain ``http://`` is refused for every host that is not loopback, with a
  ``ConfigurationError`` that says the token would travel in clear text;
* ``verify=False`` is refused outright (``ConfigurationError``: "TLS
  verification cannot be disabled"); ``verify`` accepts only ``True`` or the
  path of a CA bundle, and the underlying httpx client verifies certificates
  and host names;
* redirects to another origin (other host, other port) are refused before
  anything is sent there, and so is a pagination ``next`` link to another
  origin: the second server never sees a request, let alone the header.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from pulumi_vpsbackup.client import (
    ClientSettings,
    ConfigurationError,
    RedirectError,
    UnexpectedResponseError,
    VpsClient,
    resolve_settings,
)
from pulumi_vpsbackup.provider import BackupProvider

from ._support import TOKEN

# -- plain http -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://admin.vps.org/api/v1",
        "http://10.0.0.7/api/v1",
        "http://0.0.0.0:8080/api/v1",
        "http://[::ffff:127.0.0.1]/api/v1",
        "http://127.0.0.1.nip.io/api/v1",
        "http://localhost.example.com/api/v1",
        "HTTP://ADMIN.VPS.ORG/api/v1",
    ],
)
def test_plain_http_to_another_machine_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(token=TOKEN, base_url=url, environ={})
    text = str(info.value)
    assert "plain http" in text and "clear text" in text and "https://" in text
    assert TOKEN not in text


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/api/v1", "http://localhost/api/v1", "http://[::1]:9/api/v1"]
)
def test_plain_http_is_allowed_for_loopback_only(url: str) -> None:
    assert resolve_settings(token=TOKEN, base_url=url, environ={}).base_url.startswith("http://")


def test_the_provider_refuses_plain_http_from_stack_config() -> None:
    provider = BackupProvider()
    provider._config = {"vpsbackup:apiToken": TOKEN, "vpsbackup:apiUrl": "http://admin.vps.org"}
    with pytest.raises(ConfigurationError, match="clear text"):
        provider.client()


# -- TLS verification ----------------------------------------------------------------


@pytest.mark.parametrize("verify", [False, 0, "", None])
def test_tls_verification_cannot_be_switched_off(verify: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        ClientSettings(token=TOKEN, verify=verify)
    assert "verify" in str(info.value) or "TLS verification" in str(info.value)
    with pytest.raises(ConfigurationError):
        resolve_settings(token=TOKEN, environ={}, verify=verify)


def test_false_is_refused_with_a_loud_reason() -> None:
    with pytest.raises(ConfigurationError, match="TLS verification cannot be disabled"):
        ClientSettings(token=TOKEN, verify=False)


def test_the_http_client_verifies_certificates_and_host_names() -> None:
    with VpsClient(ClientSettings(token=TOKEN)) as client:
        pool = client._http._client._transport._pool  # httpx -> httpcore
        context: ssl.SSLContext = pool._ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


# -- redirects and other origins -------------------------------------------------------


@dataclass
class Seen:
    requests: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def tiny_server(host: str, handler: Callable[[Request], Response]) -> Iterator[tuple[str, Seen]]:
    """A werkzeug app on ``host`` and a free port; records every request's headers."""
    seen = Seen()

    def app(environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        seen.requests.append({"path": request.full_path, **dict(request.headers.items())})
        return handler(request)(environ, start_response)

    try:
        server = make_server(host, 0, app, threaded=True)
    except OSError as exc:  # pragma: no cover - a machine without 127.0.0.2
        pytest.skip(f"cannot bind {host}: {exc}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


EMPTY = {"count": 0, "next": None, "previous": None, "results": []}


@pytest.fixture(params=["127.0.0.2", "127.0.0.1"], ids=["other-host", "other-port"])
def elsewhere(request: pytest.FixtureRequest) -> Iterator[tuple[str, Seen]]:
    with tiny_server(request.param, lambda _r: _json(EMPTY)) as served:
        yield served


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_to_another_origin_never_carries_the_token(
    status: int, elsewhere: tuple[str, Seen], leak_check: Any
) -> None:
    other_url, other_seen = elsewhere

    def redirect(request: Request) -> Response:
        return Response("", status=status, headers={"Location": other_url + request.full_path})

    with tiny_server("127.0.0.1", redirect) as (url, seen):
        client = VpsClient(resolve_settings(token=TOKEN, base_url=url + "/api/v1", environ={}))
        with client, pytest.raises(RedirectError) as info:
            client.list_backups(server_id=12345)
    assert other_seen.requests == []  # nothing at all went there
    assert seen.requests and seen.requests[0]["Authorization"] == f"Bearer {TOKEN}"
    assert "another origin" in str(info.value)
    leak_check(info.value, where="the redirect error")


def test_a_next_link_to_another_origin_is_not_followed(
    elsewhere: tuple[str, Seen], leak_check: Any
) -> None:
    other_url, other_seen = elsewhere
    page = {**EMPTY, "count": 1, "next": other_url + "/api/v1/backups/?page=2"}
    with tiny_server("127.0.0.1", lambda _r: _json(page)) as (url, _seen):
        client = VpsClient(resolve_settings(token=TOKEN, base_url=url + "/api/v1", environ={}))
        with client, pytest.raises(UnexpectedResponseError) as info:
            client.list_backups()
    assert other_seen.requests == []
    assert "another origin" in str(info.value)
    leak_check(info.value, where="the pagination error")


def test_same_origin_redirect_is_followed_with_the_header() -> None:
    def handler(request: Request) -> Response:
        if request.path == "/api/v1/backups/":
            return Response("", status=307, headers={"Location": "/api/v1/moved/backups/"})
        return _json(EMPTY)

    with tiny_server("127.0.0.1", handler) as (url, seen):
        client = VpsClient(resolve_settings(token=TOKEN, base_url=url + "/api/v1", environ={}))
        with client:
            assert client.list_backups() == []
    assert [r["path"].split("?")[0] for r in seen.requests] == [
        "/api/v1/backups/",
        "/api/v1/moved/backups/",
    ]
    assert all(r["Authorization"] == f"Bearer {TOKEN}" for r in seen.requests)
