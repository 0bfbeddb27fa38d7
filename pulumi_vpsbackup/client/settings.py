"""Client settings and where they come from (arguments, Pulumi config, environment)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
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
    "default_user_agent",
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
    return PollPolicy(initial=initial, max_interval=max(initial, maximum))


_OVERRIDABLE = {f.name for f in fields(ClientSettings)} - {"token", "base_url"}


def resolve_settings(
    *,
    token: str | Secret | None = None,
    base_url: str | None = None,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
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
    :class:`ClientSettings` field, and wins over the config.
    """
    unknown = set(overrides) - _OVERRIDABLE
    if unknown:
        raise TypeError(f"unknown client settings: {', '.join(sorted(unknown))}")
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
    resolved_token = Secret(check_token(text, source))

    url, url_source = (
        ((base_url.strip(), "the base_url argument") if base_url and base_url.strip() else None)
        or _lookup(config, URL_CONFIG_KEY, "apiUrl")
        or _lookup(env, URL_ENV)
        or (DEFAULT_BASE_URL, "the default")
    )
    # Errors name where the URL came from.
    url = normalise_base_url(url, _URL_SOURCE_NAMES.get(url_source, url_source))
    if "poll" not in overrides:
        policy = poll_policy(config)
        if policy is not None:
            overrides["poll"] = policy
    return ClientSettings(token=resolved_token, base_url=url, **overrides)
