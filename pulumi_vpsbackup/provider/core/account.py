"""`Account`: the API endpoint and token of one resource or query.

Dynamic providers cannot have explicit provider instances, so the account
travels with a resource as its `account` input, token always secret (state
holds it only as ciphertext; refresh and destroy need it). Each edge (the
constructor, check's `account_input`, a stored value read by
`account_credentials`) turns URL and token into the client's `Credentials`
once; the provider host keeps one client per `Credentials`
(`VpsProvider.client_for`). Usage: docs/installation-configuration.md,
"Several accounts".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import pulumi

from ...client.echo import echo
from ...client.errors import ConfigurationError
from ...client.settings import DEFAULT_BASE_URL, Credentials, check_token, normalise_base_url
from .validation import FieldError, is_unknown

ACCOUNT_INPUT = "account"
TOKEN_SOURCE = "the Account's api_token"  # noqa: S105 - where a token came from, for errors
URL_SOURCE = "the Account's api_url"
#: Why an Account without a token is refused, and what to do (it shows no value).
NO_TOKEN = (
    "has no api_token. An Account uses only the token it is given, never "  # noqa: S105
    "vpsbackup:apiToken or the VPS_API_TOKEN environment variable (either may hold "
    "another account's token); pass one: "
    'vps.Account(api_token=config.require_secret("otherToken"), api_url=...), or leave '
    "out account= to use the stack's settings"
)


def _require_token(token: Any, where: str) -> None:
    """An Account's token that is missing or blank is refused by name, before any request."""
    if token is None or (isinstance(token, str) and not token.strip()):
        raise ConfigurationError(f"{where} {NO_TOKEN}")


class Account:
    """An API endpoint and token for the resources and queries it is passed to.

    :param api_token: The API token (``vps_...``), best from a secret:
        ``config.require_secret("otherToken")``. It is stored in the stack's
        state only as a secret, and never shown.
    :param api_url: The API's base URL, ending in ``/api/v1`` (default
        ``https://admin.vps.org/api/v1``). Like an explicit Pulumi provider, an
        Account does not read ``vpsbackup:apiUrl``.

    Resources and queries given no account use the stack configuration
    (``vpsbackup:apiToken``, ``vpsbackup:apiUrl``) or the environment, as before.
    """

    __slots__ = ("_credentials", "api_token", "api_url")

    def __init__(
        self, *, api_token: pulumi.Input[str], api_url: pulumi.Input[str] = DEFAULT_BASE_URL
    ) -> None:
        if api_url is None:
            api_url = DEFAULT_BASE_URL
        # Refused here, where the mistake is, and named without the token's value.
        api_url, checked_token, self._credentials = _checked(api_url, api_token)
        where = f"Account(api_url={echo(api_url)})" if isinstance(api_url, str) else "Account"
        if api_token is None:
            raise TypeError(f"{where} {NO_TOKEN}")
        if isinstance(api_token, str):
            _require_token(api_token, where)
            api_token = checked_token
        self.api_token: pulumi.Input[str] = api_token
        self.api_url: pulumi.Input[str] = api_url

    def __repr__(self) -> str:
        url = self.api_url if isinstance(self.api_url, str) else "<output>"
        return f"Account(api_url={url!r}, api_token=[secret])"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "refusing to pickle an Account: it holds an API token, which must not reach "
            "Pulumi state except as a secret input"
        )

    def to_input(self) -> dict[str, Any]:
        """The resource input: the token always a secret."""
        return {"api_url": self.api_url, "api_token": pulumi.Output.secret(self.api_token)}

    def credentials(self, caller: str) -> Credentials:
        """URL and token (checked when given), for the plain (non-`_output`) query forms."""
        if self._credentials is None:
            raise TypeError(
                f"{caller}: this Account's api_token or api_url is a pulumi Output (such as "
                f"config.require_secret(...)); use {caller}_output(..., account=...), which "
                "resolves it, or build the Account from plain strings"
            )
        return self._credentials

    def resolved(self) -> pulumi.Output[tuple[str, str]]:
        """URL and token once known (a secret Output), for the `_output` query forms."""
        return pulumi.Output.all(self.api_url, self.api_token).apply(lambda a: (a[0], a[1]))


def account_input(field: str, value: Any) -> dict[str, Any]:
    """Check's validator of the `account` input: a URL and a token, both well formed.

    Errors name the field and never the token; an unknown token (preview) passes.
    """
    if not isinstance(value, Mapping) or set(value) - {"api_url", "api_token"}:
        raise FieldError(field, "must be a vps.Account(api_token=..., api_url=...)")
    url = value.get("api_url")
    token = value.get("api_token")
    try:
        if url is None:
            url = DEFAULT_BASE_URL
        if not is_unknown(url) and not isinstance(url, str):
            raise FieldError(field, "api_url must be a string")
        url, checked_token, _ = _checked(url, token)
        if token is None or (isinstance(token, str) and not token.strip()):
            shown = "not known yet" if is_unknown(url) else echo(url, quote=False)
            raise FieldError(field, f"the Account (api_url {shown}) {NO_TOKEN}")
        if not is_unknown(token) and not isinstance(token, str):
            raise FieldError(field, "api_token must be a string")
        token = checked_token
    except ConfigurationError as exc:
        raise FieldError(field, str(exc)) from None  # its message shows no token
    return {"api_url": url, "api_token": token}


def account_credentials(value: Any) -> Credentials:
    """The `Credentials` of a stored, known `account` value (from inputs or outputs).

    A stored value is an edge too (state written by an older release, or
    edited): it is checked once here, and the result trusted after.
    """
    if not isinstance(value, Mapping):
        raise ConfigurationError("the resource's account is malformed in state")
    url = str(value.get("api_url") or DEFAULT_BASE_URL)
    token = value.get("api_token")
    if not isinstance(token, str):
        raise ConfigurationError("the resource's account has no api_token in state")
    if not token.strip():
        _require_token(
            token, f"the resource's Account (api_url {normalise_base_url(url, URL_SOURCE)})"
        )
    return _credentials(url, token)


def _checked(url: Any, token: Any) -> tuple[Any, Any, Credentials | None]:
    """URL and token with each one that is a known string checked, once.

    When both are known (and the token not blank: the callers refuse that by
    name) they become `Credentials`, returned too; an unknown or Output
    value is returned as it is.
    """
    url_known = isinstance(url, str) and not is_unknown(url)
    token_known = isinstance(token, str) and not is_unknown(token) and bool(token.strip())
    if url_known and token_known:
        credentials = _credentials(url, token)
        return credentials.base_url, credentials.token.reveal(), credentials
    if url_known:
        url = normalise_base_url(url, URL_SOURCE)
    if token_known:
        token = check_token(token.strip(), TOKEN_SOURCE)
    return url, token, None


def _credentials(url: str, token: str) -> Credentials:
    """An Account's URL and token, checked once; errors name the Account's fields."""
    return Credentials(url, token, url_source=URL_SOURCE, token_source=TOKEN_SOURCE)


def account_url(value: Any) -> str | None:
    """The normalised API URL of an `account` value; None while unknown or malformed."""
    if not isinstance(value, Mapping):
        return None
    url = value.get("api_url")
    if url is None:
        url = DEFAULT_BASE_URL
    if not isinstance(url, str) or is_unknown(url):
        return None
    try:
        return normalise_base_url(url, URL_SOURCE)
    except ConfigurationError:
        return None


def account_identity(value: Any) -> Any:
    """What a diff compares for `account`: URL and a hash of the token."""
    if value is None:
        return None
    try:
        credentials = account_credentials(value)
    except ConfigurationError:
        return "malformed"
    return [credentials.base_url, credentials.key]


__all__ = [
    "ACCOUNT_INPUT",
    "Account",
    "account_credentials",
    "account_identity",
    "account_input",
    "account_url",
]
