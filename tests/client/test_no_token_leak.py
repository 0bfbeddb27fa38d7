"""With a known token, every failure mode: the token is in no error text and no log record."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pulumi_vpsbackup.client import (
    ClientSettings,
    ConfigurationError,
    PollPolicy,
    Secret,
    VpsBackupError,
    VpsClient,
    resolve_settings,
)

from .conftest import BASE, TOKEN, Harness, backup_json, json_response, page, server_json

MakeClient = Callable[..., Harness]
ECHO = {"detail": f"Invalid token {TOKEN}", TOKEN: [f"bad value {TOKEN}"]}


def _texts(error: BaseException) -> list[str]:
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), *(repr(a) for a in current.args)]
        texts += [repr(v) for v in vars(current).values()] if hasattr(current, "__dict__") else []
        current = current.__cause__ or current.__context__
    texts.append("".join(traceback.format_exception(error)))
    return texts


# Each case: (steps for the scripted API, the call to make).
CASES: dict[str, tuple[list[Any], Callable[[VpsClient], Any]]] = {
    **{
        f"status-{status}": (
            [json_response(status, ECHO, **{"Retry-After": "9999"})] * 6
            + [json_response(200, {"account": {}, "token": {"permissions": [TOKEN]}})],
            lambda c: c.list_backups(),
        )
        for status in (400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504)
    },
    "html-echo": (
        [
            httpx.Response(500, text=f"<html><p>token={TOKEN}</p></html>"),
            httpx.Response(401, text=f"<html><p>token={TOKEN}</p></html>"),
        ],
        lambda c: c.create_backup(1, "x"),
    ),
    "not-json-success": ([httpx.Response(200, text=f"oops {TOKEN}")], lambda c: c.list_backups()),
    "bad-shape": (
        [json_response(200, {"results": [{"id": TOKEN}]})],
        lambda c: c.list_backups(),
    ),
    "redirect-elsewhere": (
        [httpx.Response(302, headers={"Location": f"https://evil.example/?t={TOKEN}"})],
        lambda c: c.list_servers(),
    ),
    "connect-errors": ([httpx.ConnectError] * 5, lambda c: c.get_account()),
    "read-timeout-post": (
        [httpx.ReadTimeout, json_response(401, ECHO)],
        lambda c: c.create_backup(1, "x"),
    ),
    "ambiguous-create": (
        [json_response(502, ECHO), json_response(401, ECHO)],
        lambda c: c.create_backup(1, "nightly"),
    ),
    "restore-lost": (
        [httpx.ReadTimeout, json_response(200, server_json(1, status="active"))],
        lambda c: c.restore_server(1, 2),
    ),
    # A 2xx the client cannot read, echoing the token, is reconciled
    # (two listings per POST) and ends in an unknown-outcome error.
    "create-unreadable-2xx": (
        [httpx.Response(200, text=f"<html><p>token={TOKEN}</p></html>"), page(), page()] * 5,
        lambda c: c.create_backup(1, "nightly", resource_key="5d0c91aa3f9a2c1e", intent="61c0de2b"),
    ),
    "restore-unreadable-2xx": (
        [
            httpx.Response(200, text=f'{{"token": "{TOKEN}"'),
            json_response(200, server_json(1, status="active")),
        ],
        lambda c: c.restore_server(1, 2),
    ),
    "create-late-unresolved": (
        [json_response(504, ECHO), page(), page()] * 5,
        lambda c: c.create_backup(1, "nightly"),
    ),
    "backup-failed": (
        [page(backup_json(5, 1, status="failed", message=f"bad {TOKEN}"))],
        lambda c: c.wait_for_backup(5, server_id=1, timeout=5),
    ),
    "restore-failed": (
        [json_response(200, server_json(1, status="error", last_restore={"message": TOKEN}))],
        lambda c: c.wait_for_restore(1, timeout=5),
    ),
    "wait-timeout": (
        [page(backup_json(5, 1, status="in_progress"))] * 3,
        lambda c: c.wait_for_backup(5, server_id=1, timeout=0.5),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_token_never_leaks(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="pulumi_vpsbackup.client")
    steps, call = CASES[case]
    h = make_client(*steps, max_attempts=5, poll=PollPolicy(initial=1, jitter=0))
    with pytest.raises(VpsBackupError) as info:
        call(h.client)
    for text in _texts(info.value):
        assert TOKEN not in text
    assert caplog.records, "the client logs every request"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        if record.exc_info:
            assert TOKEN not in "".join(traceback.format_exception(*record.exc_info))
    # The token did go where it belongs.
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in h.script.requests)


@pytest.mark.parametrize(
    "url",
    [
        f"http://admin.vps.org/api/v1?token={TOKEN}",
        f"https://user:{TOKEN}@admin.vps.org/api/v1",
        f"https://admin.vps.org/api/v1?token={TOKEN}",
        f"ftp://admin.vps.org/{TOKEN}?x",
    ],
)
def test_configuration_errors_do_not_echo_secrets_in_urls(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(token="t", base_url=url, environ={})
    if "ftp" not in url:
        for text in _texts(info.value):
            assert TOKEN not in text


def test_reprs_do_not_show_the_token(make_client: MakeClient) -> None:
    h = make_client()
    for thing in (h.client, h.client.settings, h.client.settings.token):
        assert TOKEN not in repr(thing) and TOKEN not in str(thing)
    assert BASE in repr(h.client)


def test_pickled_errors_hold_no_token(make_client: MakeClient) -> None:
    import pickle

    h = make_client(
        httpx.ConnectError, httpx.ConnectError, json_response(401, ECHO), max_attempts=2
    )
    with pytest.raises(VpsBackupError) as transport_error:
        h.client.list_servers()
    with pytest.raises(VpsBackupError) as api_error:
        h.client.list_servers()
    for error in (transport_error.value, api_error.value):
        data = pickle.dumps(error)
        assert TOKEN.encode() not in data
        assert str(pickle.loads(data)) == str(error)  # noqa: S301 - our own bytes


# -- escaped forms of the token ------------------------------------------------------

PASTED = TOKEN + "\n\x00"  # what a careless paste or `echo` can leave in a secret


def _escaped_forms(token: str) -> list[str]:
    import json
    from urllib.parse import quote

    return [
        token,
        token.strip(),
        repr(token)[1:-1],
        repr(repr(token))[2:-2],  # the repr of a message that holds the repr
        repr(token.encode())[2:-1],
        json.dumps(token)[1:-1],
        quote(token, safe=""),
        TOKEN,  # the printable core of the pasted token
    ]


@pytest.mark.parametrize(
    "template",
    [
        "Illegal header value b'Bearer {bytes}'",
        "header {repr!r} is not valid",
        'body {{"token": "{json}"}}',
        "url https://x.example/?t={pct}",
        "lowercase escapes {pct_lower}",
        "shown raw: {raw}",
    ],
)
def test_redaction_covers_escaped_forms(template: str) -> None:
    import json
    from urllib.parse import quote

    from pulumi_vpsbackup.client.secret import redact

    forms = {
        "bytes": repr(PASTED.encode())[2:-1],
        "repr": PASTED,
        "json": json.dumps(PASTED)[1:-1],
        "pct": quote(PASTED, safe=""),
        "pct_lower": quote(PASTED, safe="").replace("%0A", "%0a"),
        "raw": PASTED,
    }
    text = template.format(**forms)
    masked = redact(text, Secret(PASTED))
    assert "********" in masked
    for form in _escaped_forms(PASTED):
        assert form not in masked, (form, masked)
        assert form not in repr(masked)


def _bypass_validation(settings: ClientSettings, token: str) -> ClientSettings:
    """Settings holding a token that validation would refuse: redaction is the last
    line of defence, and must hold even if a bad token got through."""
    object.__setattr__(settings, "token", Secret(token))
    return settings


@pytest.mark.parametrize("bad", ["\n", "\r", "\x00", "\n\x00"], ids=["LF", "CR", "NUL", "LF-NUL"])
def test_an_httpx_header_error_is_masked_in_every_layer(
    caplog: pytest.LogCaptureFixture, bad: str
) -> None:
    """Over real HTTP (h11 refuses the header before sending it), the token, its
    escapes and its printable core appear in no error text, cause or log record."""
    from pulumi_vpsbackup.fake import FakeVps, serve

    token = TOKEN[:12] + bad + TOKEN[12:]
    caplog.set_level(logging.DEBUG)
    with serve(FakeVps(token=TOKEN)) as server:
        settings = resolve_settings(token=TOKEN, base_url=server.url, environ={})
        with VpsClient(_bypass_validation(settings, token)) as client:
            with pytest.raises(VpsBackupError) as info:
                client.list_backups()
    err = info.value
    assert "LocalProtocolError" in str(err) and "********" in str(err)
    texts = _texts(err)
    texts.append("".join(traceback.format_exception(err)))
    texts += [r.getMessage() for r in caplog.records]
    forms = [*_escaped_forms(token), TOKEN[:12], TOKEN[12:]]
    for text in texts:
        for form in forms:
            assert form not in text, (form, text)
    # The chain holds only the cleaned copy, not httpx's original (which also
    # holds the request and its headers).
    assert err.__cause__ is not None and err.__cause__.__cause__ is None
    assert err.__cause__.__context__ is None
