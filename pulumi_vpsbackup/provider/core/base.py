"""What the Backup and Restore providers share: settings, the client, diffs.

A provider object is pickled (with dill) into the stack's state as the
`__provider` property and unpickled in the provider host, where the engine
calls `configure()` once and then CRUD methods from worker threads, as many at
a time as `pulumi up --parallel` allows (see `host_pool`). So a provider
object carries nothing when pickled: no client (an `httpx.Client` cannot be
pickled) and no token (it would land in state).
The client is built in the host, on first use, from the stack configuration
handed to `configure()` or from the environment; a resource given an
`Account` gets a client of its own account (`client_for`), built from the
account stored with it, and cached under its `Credentials`.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    DiffResult,
    ResourceProvider,
    UpdateResult,
)

from ...client import (
    DEFAULT_BASE_URL,
    ClientSettings,
    ConfigurationError,
    VpsBackupError,
    VpsClient,
)
from ...client.echo import echo
from ...client.history import History
from ...client.settings import URL_CONFIG_KEY, URL_ENV, Credentials, normalise_base_url
from .account import ACCOUNT_INPUT, account_credentials, account_url
from .config import CONFIG_KEYS, known_config, settings_for, unknown_config_warnings
from .host_pool import widen_host_pool
from .validation import FieldSpec, changed_fields, check_fields

# configure() runs once per provider class in a host: warn about a key once.
_warned_keys: set[str] = set()
_warned_lock = threading.Lock()


class VpsProvider(ResourceProvider):
    """Base class of the dynamic providers; subclasses declare `fields`."""

    # Nothing secret is ever held at pickling time (see the module docstring),
    # so the serialized provider need not be a secret: a secret `__provider`
    # makes every state operation slower for no benefit.
    serialize_as_secret_always = False

    fields: list[FieldSpec] = []
    reported_fields: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._config: dict[str, Any] = {}
        self._client: VpsClient | None = None
        # One client per `Account`, keyed by its checked `Credentials`.
        self._clients: dict[Credentials, VpsClient] = {}
        # Where an unset token or URL is looked for: None is `os.environ` (the
        # stack's default provider); `{}` nowhere (see `use_environment`).
        self._environ: Mapping[str, str] | None = None
        # Set when the engine cancels (the native plugin's Cancel): every client's
        # waits stop at their next poll. Never set in the dynamic provider host.
        self._cancel = threading.Event()

    def use_cancellation(self, cancel: threading.Event) -> None:
        """The event that stops this provider's waits once set (shared by the plugin's
        providers, set by its Cancel)."""
        with self._lock:
            self._cancel = cancel
            self._client = None
            self._clients = {}

    def use_environment(self, allowed: bool) -> None:
        """Whether an unset token or URL falls back to VPS_API_TOKEN / VPS_API_URL.

        The dynamic provider host and the plugin's default provider do; an
        explicit plugin provider given any setting of its own does not: the
        environment may hold another account's token, which must never be
        sent to the URL that provider names.
        """
        with self._lock:
            self._environ = None if allowed else {}
            self._client = None
            self._clients = {}

    # Pickling: keep only the class reference, never a client or settings.
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self._reset()

    def configure(self, req: ConfigureRequest) -> None:
        # configure() runs only in the provider host: the one place to change how
        # our errors reach the CLI, and to let the host run more than four calls.
        install_error_format()
        widen_host_pool()
        config = known_config({key: req.config.get(key) for key in CONFIG_KEYS})
        # The SDK's Config offers only get(); its mapping is the whole stack config.
        raw = getattr(req.config, "_props", None)
        if isinstance(raw, Mapping):
            for message in unknown_config_warnings(raw):
                with _warned_lock:
                    if message in _warned_keys:
                        continue
                    _warned_keys.add(message)
                warn(message)
        with self._lock:
            self._config = config
            self._client = None
            self._clients = {}

    def settings(self, account: Any = None) -> ClientSettings:
        """Settings from the stack config, then the environment; or of an `account`."""
        return settings_for(
            self._config, None if account is None else account_credentials(account), self._environ
        )

    def client(self) -> VpsClient:
        """The host-wide client, built on first use; thread-safe and shared."""
        with self._lock:
            if self._client is None:
                self._client = VpsClient(
                    self.settings(), cancel=self._cancel, history=History.shared()
                )
            return self._client

    def client_for(self, account: Any) -> VpsClient:
        """The client of a resource's stored `account` (from its inputs or outputs).

        Without one it is the stack's client (`client()`). With one, a client
        of that account, shared by every resource of the same URL and token in
        this host; after a token rotation the new token gets a client of its own.
        """
        if account is None:
            return self.client()
        credentials = account_credentials(account)
        with self._lock:
            client = self._clients.get(credentials)
            if client is None:
                client = VpsClient(
                    settings_for(self._config, credentials),
                    cancel=self._cancel,
                    history=History.shared(),
                )
                self._clients[credentials] = client
            return client

    def default_url(self) -> str | None:
        """The stack's API URL (config, environment, default); None if it is invalid."""
        env = os.environ if self._environ is None else self._environ
        url = self._config.get(URL_CONFIG_KEY) or env.get(URL_ENV) or DEFAULT_BASE_URL
        try:
            return normalise_base_url(str(url).strip())
        except ConfigurationError:
            return None

    def _url_of(self, props: Mapping[str, Any]) -> str | None:
        """The API URL a resource uses: its account's, else the stack's; None if unknown."""
        if props.get(ACCOUNT_INPUT) is None:
            return self.default_url()
        return account_url(props[ACCOUNT_INPUT])

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Field validation first; the API is asked only about valid, known values."""
        inputs, errors = check_fields(self.fields, news)
        failures = [CheckFailure(e.field, e.reason) for e in errors]
        if not failures and olds:
            failures.extend(self._account_moved(olds, inputs))
        if not failures:
            failures.extend(self.check_against_api(olds, inputs))
        return CheckResult(inputs, shown_safely(news, failures))

    #: What `_account_moved` tells a user whose resource would change API URL.
    moved_hint = ""

    def _account_moved(self, olds: dict[str, Any], inputs: dict[str, Any]) -> list[CheckFailure]:
        """A change of API URL for an existing resource is refused, not carried out.

        What this resource did (a backup, a restore) lives in the account it
        was done through: replacing it would make a new one in the other
        account and delete the old one, and an in-place update would leave the
        backup behind while the stack looks for it in the wrong place. A new
        token for the same URL (rotation) is no such change: see `diff`.
        """
        old_url, new_url = self._url_of(olds), self._url_of(inputs)
        if old_url is None or new_url is None or old_url == new_url:
            return []
        return [
            CheckFailure(
                ACCOUNT_INPUT,
                f"the API URL changed from {echo(old_url, quote=False)} to "
                f"{echo(new_url, quote=False)}; {self.moved_hint} "
                "A resource is never moved between accounts by a change of its account: "
                f"keep {echo(old_url, quote=False)}, or move it explicitly (see the README, "
                "Several accounts).",
            )
        ]

    def check_against_api(self, olds: dict[str, Any], inputs: dict[str, Any]) -> list[CheckFailure]:
        """What would certainly fail at `up`, reported at preview; none by default."""
        return []

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # An update changes nothing on VPS.org (diff sends every change that
        # would to a replacement): it records the new inputs, which shape later
        # operations. Fields the API reports (`reported_fields`) keep its value.
        outs = {k: val for k, val in olds.items() if k != "__provider"}
        for spec in self.fields:
            if spec.name in self.reported_fields:
                continue
            if news.get(spec.name) is not None:
                outs[spec.name] = news[spec.name]
            else:
                outs.pop(spec.name, None)
        return UpdateResult(outs)

    def changed_names(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        """The inputs whose change `diff` acts on (the native plugin shows each one)."""
        return changed_fields(self.fields, olds, news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # `olds` are the previous outputs, which carry copies of the inputs.
        # `__provider` is never compared: its bytes change with SDK versions.
        changed = self.changed_names(olds, news)
        replaces = [name for name in changed if self._spec(name).replaces]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[],
            delete_before_replace=False,
        )

    def _spec(self, name: str) -> FieldSpec:
        return next(spec for spec in self.fields if spec.name == name)


#: The longest refused text the engine may print as the program gave it.
RAW_ECHO_LIMIT = 1000


def shown_safely(news: dict[str, Any], failures: list[CheckFailure]) -> list[CheckFailure]:
    """Failures whose refused value the terminal must not receive raw, said without it.

    The engine prints a failed property's value as the program gave it
    (``property timeout value {...} has a problem: ...``, from the program's
    inputs, whatever Check returns), except for a failure that names no
    property. So a refused text that `echo` would have to escape, or cut at
    `RAW_ECHO_LIMIT` (a 100,000-character line, a bidirectional override), is
    reported that way,
    its reason starting with the field's name; the reason shows the value
    escaped and cut.
    """
    out = []
    for failure in failures:
        value = news.get(failure.property) if failure.property else None
        if isinstance(value, str) and echo(value, RAW_ECHO_LIMIT, quote=False) != value:
            out.append(CheckFailure("", f"{failure.property}: {failure.reason}"))
        else:
            out.append(failure)
    return out


#: Where `progress` and `warn` send a message during the call in progress, if not
#: to stderr: the native plugin sets it per engine call (the engine's Log, about
#: the call's resource). Called as `sink(message, warning)`.
_sink: contextvars.ContextVar[Callable[[str, bool], None] | None] = contextvars.ContextVar(
    "vpsbackup_message_sink", default=None
)


def progress(message: str) -> None:
    """A progress line for the user: to the sink of the call in progress (`messages_to`),
    else to stderr, which the Pulumi CLI relays (the dynamic provider host's way)."""
    sink = _sink.get()
    if sink is not None:
        sink(message, False)
        return
    sys.stderr.write(f"vpsbackup: {message}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    """A warning for the user: to the sink of the call in progress, else to stderr."""
    sink = _sink.get()
    if sink is not None:
        sink(message, True)
        return
    sys.stderr.write(f"vpsbackup: warning: {message}\n")
    sys.stderr.flush()


@contextlib.contextmanager
def messages_to(sink: Callable[[str, bool], None]) -> Iterator[None]:
    """`progress` and `warn` of this thread (and context) go to `sink` meanwhile."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def first_line(exc: BaseException) -> str:
    """The part of an error a user reads first."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_HOST_MODULE = "pulumi.dynamic.__main__"
_original_format_exc = traceback.format_exc


def error_text(exc: BaseException) -> str:
    """What the CLI shows for one of our errors: its message first, then its kind."""
    text = str(exc).strip() or type(exc).__name__
    return f"{text}\n[vpsbackup {type(exc).__name__}]"


def _format_exc(limit: int | None = None, chain: bool = True) -> str:
    exc = sys.exc_info()[1]
    if isinstance(exc, VpsBackupError):
        return error_text(exc)
    return _original_format_exc(limit, chain)


def install_error_format() -> None:
    """Show our errors in the CLI as their message, not as a Python traceback.

    Pulumi's dynamic-provider host turns any exception into the text of
    `traceback.format_exc()`, so every error a user reads starts with
    "Traceback (most recent call last):" and ten lines of frames before the
    message. In that host process only (never in a program or a test
    process), errors of this package, whose messages say what went wrong and
    what to do, are shown as that message; anything else (a bug) keeps its
    traceback.
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if getattr(spec, "name", None) != _HOST_MODULE:
        return
    traceback.format_exc = _format_exc


def user_error(message: str, cause: BaseException | None = None) -> VpsBackupError:
    """An error whose first line is all the user needs (the host prints tracebacks)."""
    err = VpsBackupError(message)
    if cause is not None:
        err.__cause__ = cause
    return err
