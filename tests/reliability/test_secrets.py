"""The API token never leaks: not in state, host output, errors, reprs, pickles or logs.

(The suite-wide log watch in ``tests/conftest.py`` checks every log record of
every test; the tests here check everything else a user or a state backend
gets to see, on purpose including error paths where the API echoes the token.)
"""

from __future__ import annotations

import base64
import logging
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_vpsbackup.client import (
    AuthenticationError,
    BackupFailedError,
    BadRequestError,
    ClientSettings,
    CreateReconciliationError,
    NotFoundError,
    PermissionDeniedError,
    PollPolicy,
    RateLimitedError,
    RestoreFailedError,
    ServerError,
    TransportError,
    VpsBackupError,
    VpsClient,
    WaitTimeoutError,
    resolve_settings,
)
from pulumi_vpsbackup.fake import FakeServer, FakeVps, serve
from pulumi_vpsbackup.provider import BackupProvider, RestoreProvider
from tests.conftest import TokenWatch
from vpsbackup_dev.engine import EngineError
from vpsbackup_dev.host import serialize_provider

from ._support import CAMPAIGN_PROGRAM, TOKEN, fast_fake, make_engine

OTHER_TOKEN = "vps_reliability_wrong_4d2a9b"  # what a stale config would send
ECHO = f"Token {TOKEN} is not valid for this call (Bearer {TOKEN})"


@pytest.fixture
def served() -> Iterator[FakeServer]:
    with serve(fast_fake()) as server:
        yield server


def client_for(server: FakeServer, token: str = TOKEN, **overrides: Any) -> VpsClient:
    overrides.setdefault("max_retry_seconds", 2.0)
    return VpsClient(resolve_settings(token=token, base_url=server.url, environ={}, **overrides))


# Each case: (name, set up the fake, call, expected error class). The API's
# error bodies echo the token where it can, to prove the client masks it.
def _fault(app: FakeVps, status: int, **extra: Any) -> None:
    app.add_fault(action="status", status=status, body={"detail": ECHO}, **extra)


CASES: list[tuple[str, Any, Any, type[VpsBackupError]]] = [
    ("401", lambda app: None, lambda c: c.list_backups(), AuthenticationError),
    ("403", lambda app: _fault(app, 403), lambda c: c.list_backups(), PermissionDeniedError),
    (
        "400 with field errors",
        lambda app: app.add_fault(
            action="status", status=400, body={"server_id": [ECHO], "description": [ECHO]}
        ),
        lambda c: c.create_backup(12345, "x"),
        BadRequestError,
    ),
    ("404", lambda app: None, lambda c: c.get_server(99999), NotFoundError),
    (
        "429 beyond the budget",
        lambda app: _fault(app, 429, retry_after=600),
        lambda c: c.list_backups(),
        RateLimitedError,
    ),
    ("500", lambda app: _fault(app, 500), lambda c: c.list_backups(), ServerError),
    (
        "503 on every retry",
        lambda app: _fault(app, 503),
        lambda c: c.list_backups(),
        ServerError,
    ),
    (
        "dropped connections",
        lambda app: app.add_fault(action="drop", method="GET"),
        lambda c: c.list_backups(),
        TransportError,
    ),
    (
        "failed backup",
        lambda app: app.set_behaviour(failure_rate=1.0),
        lambda c: c.wait_for_backup(c.create_backup(12345, "x").id, timeout=5),
        BackupFailedError,
    ),
    (
        "wait timeout",
        lambda app: app.set_behaviour(completion="time", backup_seconds=3600),
        lambda c: c.wait_for_backup(c.create_backup(12345, "x").id, timeout=0.2),
        WaitTimeoutError,
    ),
    (
        "failed restore",
        lambda app: app.set_behaviour(restore_failure_rate=1.0),
        lambda c: (c.restore_server(12345, 499), c.wait_for_restore(12345, timeout=5)),
        RestoreFailedError,
    ),
    (
        "reconciliation",
        lambda app: (
            app.add_fault(action="drop", method="POST", phase="after"),
            app.add_fault(action="status", status=500, method="GET", body={"detail": ECHO}),
        ),
        lambda c: c.create_backup(12345, "x"),
        CreateReconciliationError,
    ),
]


@pytest.mark.parametrize(
    ("setup", "call", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_error_texts_never_carry_the_token(
    served: FakeServer, setup: Any, call: Any, expected: type, leak_check: Any, log_watch: Any
) -> None:
    setup(served.app)
    token = OTHER_TOKEN if expected is AuthenticationError else TOKEN
    poll = PollPolicy(initial=0.01, max_interval=0.02)
    with client_for(served, token, poll=poll) as client, pytest.raises(VpsBackupError) as info:
        call(client)
    err = info.value
    assert isinstance(err, expected), repr(err)
    text = str(err)
    assert text.strip() and "\n" not in text.strip(), text
    leak_check(err, repr(err), where=f"{type(err).__name__}")
    if not isinstance(err, TransportError):  # see test_a_pickled_transport_error_...
        leak_check(pickle.dumps(err), where=f"pickled {type(err).__name__}")
    leak_check(err, repr(err), tokens=(token,), where="the error (token sent)")
    if isinstance(err, (PermissionDeniedError, BadRequestError)):
        assert "********" in text  # the echoed token was masked, the rest kept
    assert log_watch.texts, "the client logged nothing: the log watch would prove nothing"


def test_a_pickled_transport_error_holds_no_token(served: FakeServer) -> None:
    served.app.add_fault(action="drop", method="GET")
    with client_for(served, max_retry_seconds=0.5) as client:
        with pytest.raises(TransportError) as info:
            client.list_backups()
    assert str(info.value) and TOKEN not in str(info.value)
    assert TOKEN.encode() not in pickle.dumps(info.value)


def test_state_file_host_output_and_engine_errors_hold_no_token(
    tmp_path: Path, leak_check: Any
) -> None:
    app = fast_fake()
    with serve(app) as server:
        engine = make_engine(tmp_path / "state.json", server.url, CAMPAIGN_PROGRAM, restore="true")
        up = engine.up()
        texts: list[Any] = [up.host_output]
        # Errors of every layer through the engine: API errors echoing the token...
        app.add_fault(action="status", status=400, body={"detail": ECHO}, method="POST")
        engine.config["campaign:generation"] = "2"
        with pytest.raises(EngineError) as info:
            engine.up()
        texts += [info.value, info.value.details, info.value.result.host_output]
        app.clear_faults()
        # ...a failed backup, a failed restore, a refresh and a destroy.
        app.set_behaviour(failure_rate=1.0)
        with pytest.raises(EngineError) as info:
            engine.up()
        texts += [info.value, info.value.result.host_output]
        app.set_behaviour(failure_rate=0.0, restore_failure_rate=1.0)
        with pytest.raises(EngineError) as info:
            engine.up()
        texts += [info.value, info.value.result.host_output]
        with app.model.lock:
            app.model.servers[12346].status = "active"
        app.set_behaviour(restore_failure_rate=0.0)
        texts.append(engine.refresh().host_output)
        texts.append(engine.up().host_output)
        state_text = engine.state_path.read_text(encoding="utf-8")
        assert "__provider" in state_text  # the serialized provider is in there
        leak_check(engine.state_path, *texts, where="state file, host output and errors")
        texts.append(engine.destroy().host_output)
        leak_check(engine.state_path, *texts, where="after destroy")


def test_a_wrong_token_through_the_engine_is_not_shown(tmp_path: Path, leak_check: Any) -> None:
    app = FakeVps(token=OTHER_TOKEN)
    with serve(app) as server:
        engine = make_engine(tmp_path / "state.json", server.url, CAMPAIGN_PROGRAM)
        with pytest.raises(EngineError) as info:
            engine.up()
    assert "401" in info.value.message and "apiToken" in info.value.message
    leak_check(info.value, info.value.result.host_output, engine.state_path, where="401 run")


@pytest.mark.parametrize("provider_class", [BackupProvider, RestoreProvider])
def test_a_configured_provider_pickles_without_the_token(
    provider_class: type, served: FakeServer
) -> None:
    provider = provider_class()
    provider._config = {"vpsbackup:apiToken": TOKEN, "vpsbackup:apiUrl": served.url}
    assert provider.client().list_backups()  # a live client with the token inside
    wire = serialize_provider(provider)
    raw = base64.b64decode(wire)
    assert TOKEN.encode() not in raw and TOKEN not in wire
    assert len(raw) < 1000  # a class reference, nothing more


def test_reprs_and_pickles_hold_no_token(served: FakeServer, leak_check: Any) -> None:
    settings = resolve_settings(token=TOKEN, base_url=served.url, environ={})
    with VpsClient(settings) as client:
        things = [repr(settings), str(settings), repr(settings.token), f"{settings.token}"]
        things += [repr(client), str(client), repr(client._http), repr(served.app)]
        leak_check(*things, where="reprs")
        for obj in (settings, settings.token, client):
            with pytest.raises(TypeError):
                pickle.dumps(obj)
    assert isinstance(settings, ClientSettings)


def test_the_log_watch_catches_a_leak() -> None:
    """The suite-wide watch works: a token logged (at DEBUG, in the args) is found."""
    logger = logging.getLogger("tests.reliability.watch-self-test")
    logger.propagate = False
    watch = TokenWatch(["vps_not_a_suite_token_0000"])
    logger.addHandler(watch)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("sending %s", {"Authorization": "Bearer vps_not_a_suite_token_0000"})
        logger.info("nothing secret here")
    finally:
        logger.removeHandler(watch)
    assert len(watch.texts) == 2
    assert watch.leaks == [("tests.reliability.watch-self-test", "DEBUG", "vps_no…")]


# -- a pasted token that is no header value ------------------------------------------

PASTED_TOKENS = {
    "newline and NUL": TOKEN + "\n\x00",
    "carriage return inside": TOKEN[:9] + "\r" + TOKEN[9:],
    "non-ASCII": TOKEN + "é",
}


@pytest.mark.parametrize("case", sorted(PASTED_TOKENS))
def test_a_pasted_token_is_refused_by_name_in_preview_and_up(
    served: FakeServer, case: str, leak_check: Any
) -> None:
    """Before: httpx's header error quoted `b'Bearer vps_...\\n'` in the preview
    warning and the `up` error. Now both name the setting, and no form of the
    token (raw, escaped, or its printable core) shows anywhere."""
    import json

    from vpsbackup_dev.host import ProviderHost, urn

    from ._support import BACKUP_TYPE

    token = PASTED_TOKENS[case]
    forms = (
        token,
        repr(token)[1:-1],
        repr(token.encode())[2:-1],
        json.dumps(token)[1:-1],
        TOKEN[:9],
        TOKEN[9:],
    )
    provider = serialize_provider(BackupProvider())
    resource = urn(BACKUP_TYPE, "pasted")
    with ProviderHost(env={"VPS_API_TOKEN": "", "VPS_API_URL": ""}) as host:
        host.configure(
            {"vpsbackup:apiToken": token, "vpsbackup:apiUrl": served.url},
            secret_keys={"vpsbackup:apiToken"},
        )
        checked, failures = host.check(resource, {}, {"server_id": 12345, "__provider": provider})
        assert failures == []
        with pytest.raises(Exception) as info:
            host.create(resource, checked)
    output = host.settled_output()  # all of it: the host has stopped
    details = info.value.details()  # type: ignore[attr-defined]
    for text in (output, details):
        assert "The VPS.org API token (vpsbackup:apiToken) contains" in text, text
        assert "only printable ASCII" in text
        assert "Illegal header value" not in text and "UnicodeEncodeError" not in text
    leak_check(output, details, info.value, tokens=forms, where="host output and up error")
    assert served.app.requests() == []  # refused before anything was sent
