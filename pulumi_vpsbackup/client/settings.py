"""Client settings and where they come from (arguments, Pulumi config, environment)."""

from __future__ import annotations

import contextvars
import hashlib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import httpx

from pulumi_vpsbackup._version import __version__

from .echo import echo
from .errors import ConfigurationError
from .polling import PollPolicy
from .secret import Secret

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_BASE_URL",
    "MAX_POLL_INTERVAL_CONFIG_KEY",
    "POLL_INTERVAL_CONFIG_KEY",
    "TOKEN_CONFIG_KEY",
    "TOKEN_ENV",
    "URL_CONFIG_KEY",
    "URL_ENV",
    "ClientSettings",
    "Credentials",
    "check_token",
    "default_user_agent",
    "normalise_base_url",
    "resolve_settings",
]

DEFAULT_BASE_URL = "https://admin.vps.org/api/v1"
TOKEN_CONFIG_KEY = "vpsbackup:apiToken"  # noqa: S105 - a config key name
URL_CONFIG_KEY = "vpsbackup:apiUrl"
TOKEN_ENV = "VPS_API_TOKEN"  # noqa: S105 - a variable name
URL_ENV = "VPS_API_URL"
POLL_INTERVAL_CONFIG_KEY = "vpsbackup:pollInterval"
MAX_POLL_INTERVAL_CONFIG_KEY = "vpsbackup:maxPollInterval"
#: Every stack setting this package reads; `resolve_settings` reads them all.
CONFIG_KEYS = (
    TOKEN_CONFIG_KEY,
    URL_CONFIG_KEY,
    POLL_INTERVAL_CONFIG_KEY,
    MAX_POLL_INTERVAL_CONFIG_KEY,
)
MIN_POLL_SECONDS = 0.01  # zero would poll in a tight loop against the API
MAX_POLL_SECONDS = 3600.0

MISSING_TOKEN_MESSAGE = (
    "No VPS.org API token is configured. Provide one of: "
    f"`pulumi config set --secret {TOKEN_CONFIG_KEY} <token>` "
    f"or the environment variable {TOKEN_ENV}."
)


TOKEN_SOURCES = f"{TOKEN_CONFIG_KEY} or {TOKEN_ENV}"
_ALLOWED_IN_HEADER = (
    "a token may hold only printable ASCII characters (letters, digits and punctuation "
    "such as _ - . ~ + / =), with no spaces, line breaks or other control characters"
)


def check_token(value: str, source: str = TOKEN_SOURCES) -> str:
    """Refuse a token that cannot be sent as an HTTP header value; return it as is.

    Bearer tokens are printable ASCII (RFC 6750). A control character (a
    newline, carriage return or NUL pasted with a secret), a space or a
    non-ASCII character would make the HTTP library fail with an error that
    quotes the header, token and all. The message names where the token came
    from and what is allowed, and shows no part of the token.
    """
    if not value:
        raise ConfigurationError(MISSING_TOKEN_MESSAGE)
    problems = []
    if any(not c.isascii() for c in value):
        problems.append("a non-ASCII character")
    if any(c.isascii() and not c.isprintable() for c in value):
        problems.append("a control character (such as a line break, tab or NUL)")
    if " " in value:
        problems.append("a space")
    if problems:
        raise ConfigurationError(
            f"The VPS.org API token ({source}) contains {' and '.join(problems)} and cannot "
            f"be sent in an HTTP header; {_ALLOWED_IN_HEADER}. Set it again, for example "
            f"`pulumi config set --secret {TOKEN_CONFIG_KEY} <token>`, copying only the token."
        )
    return value


def default_user_agent() -> str:
    """``pulumi-vpsbackup/<version> httpx/<version>``."""
    return f"pulumi-vpsbackup/{__version__} httpx/{httpx.__version__}"


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


API_PATH = "/api/v1"
URL_SOURCES = f"{URL_CONFIG_KEY} or {URL_ENV}"
#: How a refusal names where a URL came from, by the key it was found under.
_URL_SOURCE_NAMES = {"apiUrl": URL_CONFIG_KEY, URL_ENV: f"the {URL_ENV} environment variable"}


def normalise_base_url(url: str, source: str = URL_SOURCES) -> str:
    """Validate the API URL and drop trailing slashes.

    Only ``https`` is accepted, except plain ``http`` to a loopback host (a
    local fake). A URL with credentials, a query or a fragment is refused, and
    so is one whose path does not end in ``/api/v1``: every other path answers
    404 to every call, which would read as "server N does not exist".
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(f"The VPS.org API URL ({source}) is empty.")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # such as "Invalid IPv6 URL" for a stray "[" in the host
        raise ConfigurationError(
            f"The VPS.org API URL {echo(url.strip())} ({source}) is not a valid URL ({exc})."
        ) from None
    scheme = parts.scheme.lower()
    # Echo only scheme, host and path: credentials or a query may hold a secret.
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        port = ""
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    shown = urlunsplit((parts.scheme, host + port, parts.path, "", ""))
    if scheme not in ("https", "http"):
        raise ConfigurationError(
            f"The VPS.org API URL {echo(shown)} ({source}) must start with https://."
        )
    if not parts.hostname:
        raise ConfigurationError(f"The VPS.org API URL {echo(shown)} ({source}) has no host.")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            f"The VPS.org API URL ({source}) must not contain credentials; pass the token as "
            f"{TOKEN_CONFIG_KEY} or {TOKEN_ENV} instead."
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            f"The VPS.org API URL {echo(shown)} ({source}) must not have a query or fragment."
        )
    if scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigurationError(
            f"The VPS.org API URL {echo(shown)} ({source}) uses plain http to a host that is "
            "not this machine, which would send the API token in clear text; use https:// "
            "there (plain http is allowed only for 127.0.0.1, ::1 and localhost)."
        )
    try:
        _ = parts.port
    except ValueError as exc:
        raise ConfigurationError(
            f"The VPS.org API URL {echo(shown)} ({source}) has an invalid port."
        ) from exc
    path = parts.path.rstrip("/")
    if not path.endswith(API_PATH):
        netloc = parts.netloc.lower()
        cut = path.find(API_PATH + "/")
        fixed = path[: cut + len(API_PATH)] if cut >= 0 else path + API_PATH
        suggestion = urlunsplit((scheme, netloc, fixed, "", ""))
        raise ConfigurationError(
            f"The VPS.org API URL {echo(shown)} ({source}) must be the API's base URL, ending in "
            f"{API_PATH}, such as {DEFAULT_BASE_URL} (or http://127.0.0.1:8787{API_PATH} for "
            f"the local fake); did you mean {echo(suggestion)}? Every other path answers 404 to "
            "every call."
        )
    return urlunsplit((scheme, parts.netloc.lower(), path, "", ""))


class Credentials:
    """An API base URL and token, checked and normalised once, where they enter.

    Build one at each edge (stack config or environment in
    :func:`resolve_settings`, a resource's ``Account``, a stored ``account``
    value): the URL is normalised (:func:`normalise_base_url`), surrounding
    whitespace is dropped from the token and the rest refused if it cannot
    be sent (:func:`check_token`), each error naming ``url_source`` or
    ``token_source`` and never the token. After that the value is trusted:
    :class:`ClientSettings` built from it (:func:`resolve_settings` with
    ``credentials=``) checks nothing again, and a provider caches its
    clients by it. Equal credentials (same URL and token) are one key;
    :attr:`key` is a hash of both for where a text is needed. The repr shows
    the URL only, and pickling is refused.
    """

    __slots__ = ("base_url", "token")
    base_url: str
    token: Secret

    def __init__(
        self,
        base_url: str,
        token: str | Secret,
        *,
        url_source: str = URL_SOURCES,
        token_source: str = TOKEN_SOURCES,
    ) -> None:
        text = token.reveal() if isinstance(token, Secret) else token
        if not isinstance(text, str):
            raise ConfigurationError(f"The VPS.org API token ({token_source}) must be a string.")
        object.__setattr__(self, "base_url", normalise_base_url(base_url, url_source))
        object.__setattr__(self, "token", Secret(check_token(text.strip(), token_source)))

    @property
    def key(self) -> str:
        """A hash of URL and token: what identifies the account where a text is needed."""
        return hashlib.sha256(f"{self.base_url}\0{self.token.reveal()}".encode()).hexdigest()

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Credentials are immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self.base_url == other.base_url and self.token == other.token

    def __hash__(self) -> int:
        return hash((Credentials, self.base_url, self.token))

    def __repr__(self) -> str:
        return f"Credentials(base_url={self.base_url!r}, token={self.token!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "refusing to pickle Credentials: they hold the API token, which must not be "
            "stored in Pulumi state; build them inside the provider process"
        )


def _trusted(base_url: str, token: Secret) -> Credentials:
    """Credentials of a URL and token that were checked when they entered."""
    made = object.__new__(Credentials)
    object.__setattr__(made, "base_url", base_url)
    object.__setattr__(made, "token", token)
    return made


#: The credentials a `ClientSettings` is being built from, already checked
#: (`_settings_of`); its `__post_init__` then trusts its token and URL.
_building_from: contextvars.ContextVar[Credentials | None] = contextvars.ContextVar(
    "vpsbackup_settings_credentials", default=None
)


@dataclass(frozen=True)
class ClientSettings:
    """Everything a :class:`~pulumi_vpsbackup.client.VpsClient` needs.

    ``token`` is a :class:`Secret` (a plain ``str`` is wrapped). ``base_url`` is
    validated and normalised (see :func:`normalise_base_url`). ``timeout`` applies
    to every request; ``max_attempts`` and ``max_retry_seconds`` bound retries;
    ``poll`` shapes waiting; ``verify`` is ``True`` (system trust) or the path of
    a CA bundle: TLS verification cannot be turned off.

    Settings refuse to be pickled because the token would go with them.
    """

    token: Secret
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0
    max_attempts: int = 5
    max_retry_seconds: float = 60.0
    poll: PollPolicy = field(default_factory=PollPolicy)
    user_agent: str = field(default_factory=default_user_agent)
    verify: bool | str = True

    def __post_init__(self) -> None:
        token: object = self.token
        if isinstance(token, str):
            object.__setattr__(self, "token", Secret(token))
        elif not isinstance(token, Secret):
            raise ConfigurationError("ClientSettings.token must be a Secret or a str.")
        trusted = _building_from.get()
        if trusted is None or (trusted.token, trusted.base_url) != (self.token, self.base_url):
            if not self.token.reveal().strip():
                raise ConfigurationError(MISSING_TOKEN_MESSAGE)
            check_token(self.token.reveal())
            object.__setattr__(
                self, "base_url", normalise_base_url(self.base_url, "ClientSettings.base_url")
            )
        if not self.timeout > 0:
            raise ConfigurationError("timeout must be a positive number of seconds.")
        if int(self.max_attempts) < 1:
            raise ConfigurationError("max_attempts must be at least 1.")
        object.__setattr__(self, "max_attempts", int(self.max_attempts))
        if self.max_retry_seconds < 0:
            raise ConfigurationError("max_retry_seconds must be >= 0.")
        if self.verify is False:
            raise ConfigurationError(
                "TLS verification cannot be disabled; pass the path of a CA bundle as verify "
                "to trust a private certificate authority."
            )
        if not (self.verify is True or (isinstance(self.verify, str) and self.verify)):
            raise ConfigurationError("verify must be True or the path of a CA bundle.")
        if not isinstance(self.poll, PollPolicy):
            raise ConfigurationError("poll must be a PollPolicy.")

    @property
    def credentials(self) -> Credentials:
        """The URL and token these settings send to (checked when they were built)."""
        return _trusted(self.base_url, self.token)


def _settings_of(credentials: Credentials, **overrides: Any) -> ClientSettings:
    """Settings for `credentials`, which are not checked again."""
    building = _building_from.set(credentials)
    try:
        return ClientSettings(token=credentials.token, base_url=credentials.base_url, **overrides)
    finally:
        _building_from.reset(building)


def _lookup(source: Mapping[str, Any] | None, *keys: str) -> tuple[str, str] | None:
    """The first non-blank value among `keys`, stripped, and the key it came from."""
    if not source:
        return None
    for key in keys:
        value = source.get(key)
        if value is None:
            continue
        text = value.reveal() if isinstance(value, Secret) else str(value)
        if text.strip():
            return text.strip(), key
    return None


def _poll_seconds(key: str, value: Any, default: float) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not MIN_POLL_SECONDS <= seconds <= MAX_POLL_SECONDS:
        raise ConfigurationError(
            f"{key} must be a number of seconds from {MIN_POLL_SECONDS} to "
            f"{MAX_POLL_SECONDS:g}, got {echo(value)}"
        )
    return seconds


def poll_policy(config: Mapping[str, Any] | None) -> PollPolicy | None:
    """The schedule that `vpsbackup:pollInterval` / `maxPollInterval` ask for; None if neither.

    The ceiling is never below the first interval.
    """
    config = config or {}
    interval = config.get(POLL_INTERVAL_CONFIG_KEY)
    ceiling = config.get(MAX_POLL_INTERVAL_CONFIG_KEY)
    if interval in (None, "") and ceiling in (None, ""):
        return None
    default = PollPolicy()
    initial = _poll_seconds(POLL_INTERVAL_CONFIG_KEY, interval, default.initial)
    maximum = _poll_seconds(MAX_POLL_INTERVAL_CONFIG_KEY, ceiling, default.max_interval)
    # A schedule the user set is kept to exactly: no polling around predictions.
    return PollPolicy(initial=initial, max_interval=max(initial, maximum), predictive=False)


_OVERRIDABLE = {f.name for f in fields(ClientSettings)} - {"token", "base_url"}


def resolve_settings(
    *,
    token: str | Secret | None = None,
    base_url: str | None = None,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    credentials: Credentials | None = None,
    **overrides: Any,
) -> ClientSettings:
    """Build settings from, in order: the arguments, Pulumi config, the environment.

    Config keys are ``vpsbackup:apiToken`` and ``vpsbackup:apiUrl`` (the
    un-namespaced ``apiToken``/``apiUrl`` are accepted too), and
    ``vpsbackup:pollInterval`` / ``vpsbackup:maxPollInterval`` for the polling
    schedule (they apply even when ``token`` and ``base_url`` are given, as for
    a resource's own account); environment variables are ``VPS_API_TOKEN`` and
    ``VPS_API_URL``; ``environ`` defaults to ``os.environ``. The URL defaults
    to ``https://admin.vps.org/api/v1``. ``overrides`` sets any other
    :class:`ClientSettings` field, and wins over the config. ``credentials``
    (a :class:`Credentials`, already checked) stand for ``token`` and
    ``base_url``, and neither the config's nor the environment's are read.
    """
    unknown = set(overrides) - _OVERRIDABLE
    if unknown:
        raise TypeError(f"unknown client settings: {', '.join(sorted(unknown))}")
    if credentials is not None:
        if token is not None or base_url is not None:
            raise TypeError("pass credentials, or token and base_url, not both")
        return _settings_of(credentials, **_with_polling(config, overrides))
    env = os.environ if environ is None else environ

    # Whitespace around a token (the newline of a pasted or `cat`-ed secret) is
    # dropped; anything else that cannot go in a header is refused by name.
    given = token.reveal() if isinstance(token, Secret) else token
    found = (
        (given.strip(), "the token argument") if isinstance(given, str) and given.strip() else None
    )
    found = found or _lookup(config, TOKEN_CONFIG_KEY, "apiToken") or _lookup(env, TOKEN_ENV)
    if found is None:
        raise ConfigurationError(MISSING_TOKEN_MESSAGE)
    text, source = found
    url, url_source = (
        ((base_url.strip(), "the base_url argument") if base_url and base_url.strip() else None)
        or _lookup(config, URL_CONFIG_KEY, "apiUrl")
        or _lookup(env, URL_ENV)
        or (DEFAULT_BASE_URL, "the default")
    )
    # Errors name where the token and the URL came from.
    checked = Credentials(
        url, text, url_source=_URL_SOURCE_NAMES.get(url_source, url_source), token_source=source
    )
    return _settings_of(checked, **_with_polling(config, overrides))


def _with_polling(config: Mapping[str, Any] | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """`overrides` with the config's polling schedule, unless they set `poll` themselves."""
    policy = None if "poll" in overrides else poll_policy(config)
    return overrides if policy is None else {**overrides, "poll": policy}
