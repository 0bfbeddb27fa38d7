"""One path from stack configuration (or a resource's own `Account`) to client settings.

The provider host gets the stack config from `configure()`; a query runs in
the program and reads it from the Pulumi runtime (`program_config`). Both hand
it to `settings_for`, which asks the client's `resolve_settings` (the one
place that knows the keys): the token and URL come from the account when
there is one, else from the config, then the environment; the polling keys
(`vpsbackup:pollInterval`, `vpsbackup:maxPollInterval`) come from the
config for every account alike.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ...client import ClientSettings, resolve_settings
from ...client.echo import echo
from ...client.settings import CONFIG_KEYS, TOKEN_CONFIG_KEY, URL_CONFIG_KEY, Credentials

__all__ = [
    "CONFIG_KEYS",
    "known_config",
    "program_config",
    "settings_for",
    "unknown_config_warnings",
]

CONFIG_NAMESPACE = "vpsbackup:"
_RESOURCE_INPUTS = frozenset({"timeout", "waitforcompletion", "description", "triggers"})


def known_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The keys this package reads, without the blank ones."""
    found = {key: config.get(key) for key in CONFIG_KEYS}
    return {key: value for key, value in found.items() if value not in (None, "")}


def program_config() -> dict[str, Any]:
    """The stack settings, as a Pulumi program (a query's process) sees them."""
    import pulumi.runtime  # only in a program: the host is handed its config

    return known_config({key: pulumi.runtime.get_config(key) for key in CONFIG_KEYS})


def settings_for(
    config: Mapping[str, Any],
    account: Credentials | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientSettings:
    """Client settings from the stack `config`, or for an account's `Credentials`.

    An account is like an explicit provider: it reads neither the stack's
    token and URL nor the environment's; it keeps the stack's polling.
    `environ` (default `os.environ`) is where an unset token or URL is looked
    for; an explicit plugin provider passes `{}`: it uses only what it was given.
    """
    if account is None:
        return resolve_settings(config=config, environ=os.environ if environ is None else environ)
    polling = {k: v for k, v in config.items() if k not in (TOKEN_CONFIG_KEY, URL_CONFIG_KEY)}
    return resolve_settings(credentials=account, config=polling, environ={})


def unknown_config_warnings(keys: Iterable[str]) -> list[str]:
    """One warning per `vpsbackup:*` key that this package does not read.

    A misspelt key (`vpsbackup:apiTokn`) would otherwise be ignored in silence,
    and the setting it was meant for quietly falls back to the environment or
    its default. Each warning names the key and the closest known one.
    """
    warnings = []
    for key in sorted(k for k in keys if isinstance(k, str)):
        if not key.startswith(CONFIG_NAMESPACE) or key in CONFIG_KEYS:
            continue
        # Compared without the shared namespace and case (apitoken), by spelling.
        name = key[len(CONFIG_NAMESPACE) :]
        folded = {k[len(CONFIG_NAMESPACE) :].lower(): k for k in CONFIG_KEYS}
        close = difflib.get_close_matches(name.lower(), folded, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean {folded[close[0]]}? "
        elif name.lower().replace("_", "") in _RESOURCE_INPUTS:
            hint = f"{name} is an input of each Backup or Restore, not a stack setting; "
        else:
            hint = ""
        warnings.append(
            f"unknown configuration key {echo(key, quote=False)} is ignored; {hint}known keys: "
            f"{', '.join(CONFIG_KEYS)}"
        )
    return warnings
