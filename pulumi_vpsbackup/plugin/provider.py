"""What the native plugin does for each engine call, by calling the dynamic providers' steps.

Nothing here re-implements a backup or a restore: every decision is made by
`BackupProvider`, `RestoreProvider`, `RotationProvider` and `FleetProvider`
(and the query functions), the objects the dynamic provider host runs. This
module only translates names (camelCase to snake_case), the account (one per
plugin process, from the provider's configuration, never a resource input),
the owner key (from the provider's stack identity and the URN) and the
engine's timeouts. The server runs these calls in threads: every method is
synchronous and thread-safe. What the user sees: docs/native-plugin.md.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.dynamic import Config, ConfigureRequest

from ..client.echo import echo
from ..client.errors import ConfigurationError, VpsBackupError, WaitCancelledError
from ..client.marker import is_identity, is_owner_key, new_identity, owner_key
from ..client.settings import (
    DEFAULT_BASE_URL,
    TOKEN_CONFIG_KEY,
    TOKEN_ENV,
    URL_CONFIG_KEY,
    URL_ENV,
    check_token,
    normalise_base_url,
)
from ..provider import queries
from ..provider.backup import BackupProvider
from ..provider.backup.declaration import BACKUP as BACKUP_DECLARATION
from ..provider.core.base import VpsProvider, user_error
from ..provider.core.validation import DEFAULT_TIMEOUT_SECONDS
from ..provider.fleet import FleetProvider
from ..provider.fleet.declaration import FLEET as FLEET_DECLARATION
from ..provider.queries.functions import backups_completed, backups_of, latest_backup_of
from ..provider.restore import RestoreProvider
from ..provider.restore.declaration import RESTORE as RESTORE_DECLARATION
from ..provider.rotation import RotationProvider
from ..provider.rotation.declaration import ROTATION as ROTATION_DECLARATION
from .wire import UNKNOWN, camel, camel_name, snake

PACKAGE = "vpsbackup"
BACKUP = "vpsbackup:index:Backup"
RESTORE = "vpsbackup:index:Restore"
ROTATION = "vpsbackup:index:BackupRotation"
FLEET = "vpsbackup:index:BackupFleet"
GET_BACKUPS = "vpsbackup:index:getBackups"
GET_LATEST_BACKUP = "vpsbackup:index:getLatestBackup"
WAIT_FOR_BACKUPS = "vpsbackup:index:waitForBackups"

#: Provider configuration: schema name -> the core's stack-config key.
PROVIDER_SETTINGS = {
    "apiToken": "vpsbackup:apiToken",
    "apiUrl": "vpsbackup:apiUrl",
    "pollInterval": "vpsbackup:pollInterval",
    "maxPollInterval": "vpsbackup:maxPollInterval",
}
#: Provider inputs the engine adds itself; not ours to validate.
ENGINE_CONFIG_KEYS = frozenset({"version", "pluginDownloadURL"})
#: The provider input that holds the stack identity (set by CheckConfig, never by users).
IDENTITY_KEY = "__vpsbackupStackIdentity"


def config_identity(olds: Mapping[str, Any]) -> str:
    """The provider's stack identity: the stored one, else a new random one.

    CheckConfig adds it to the provider's inputs the first time and copies it
    from the stored inputs after that, so the provider resource keeps it in
    state before any backup is made; DiffConfig never counts it as a change
    (`config_changes`).
    """
    stored = olds.get(IDENTITY_KEY)
    return str(stored) if is_identity(stored) else new_identity()


def config_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """DiffConfig: the settings that changed (the identity and the engine's own keys
    are not settings). Any change updates the provider in place: replacing it
    would replace every backup it manages."""
    names = set(olds) | set(news)
    return sorted(
        n
        for n in names
        if n != IDENTITY_KEY and not n.startswith("__") and olds.get(n) != news.get(n)
    )


#: Each resource the plugin serves, and its declaration.
DECLARATIONS = {
    BACKUP: BACKUP_DECLARATION,
    RESTORE: RESTORE_DECLARATION,
    ROTATION: ROTATION_DECLARATION,
    FLEET: FLEET_DECLARATION,
}
#: Inputs each resource accepts, as the schema names them (from its declaration).
INPUTS = {token: tuple(camel_name(n) for n in d.native()) for token, d in DECLARATIONS.items()}
#: The core's inputs that the native resources do not have: `timeout` is the
#: engine's custom timeout, `account` the provider's configuration.
CORE_ONLY = frozenset({"timeout", "account"})
#: Inputs the plugin sets itself (Check), kept in state with the others.
INTERNAL_INPUTS = {
    token: tuple(camel_name(n) for n in (*d.native("internal"), *d.native("state")))
    for token, d in DECLARATIONS.items()
}
#: Resources that make backups under their own name (the core's `NamedInputs`).
NAMED = (ROTATION, FLEET)

QUERY_FILTERS = ("serverId", "backupType", "status", "description", "descriptionRegex")
#: Each function's arguments, as the schema names them.
FUNCTIONS = {
    GET_BACKUPS: QUERY_FILTERS,
    GET_LATEST_BACKUP: QUERY_FILTERS,
    WAIT_FOR_BACKUPS: ("backupIds", "timeout"),
}
#: How long waitForBackups waits without a `timeout` (as the Python function does).
WAIT_FOR_BACKUPS_TIMEOUT = "60m"


@dataclass
class Failure:
    """One Check failure: the schema's property name and why."""

    property: str
    reason: str


@dataclass
class Checked:
    inputs: dict[str, Any]
    failures: list[Failure] = field(default_factory=list)


@dataclass
class Diffed:
    changes: bool
    replaces: list[str]
    #: The inputs that change, by schema name (each replaces if in `replaces`).
    changed: list[str] = field(default_factory=list)


@dataclass
class Resource:
    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None = None


def config_failures(news: Mapping[str, Any], urn: str = "") -> list[Failure]:
    """CheckConfig: what is wrong with a provider's inputs, by schema name.

    Errors name where a setting came from: the stack's `vpsbackup:apiUrl` for
    the default provider, the explicit provider's own `apiUrl` (by URN) else.
    """

    def source(name: str) -> str:
        if is_default_provider(urn):
            return PROVIDER_SETTINGS[name]
        return f"the {provider_name(urn)}'s {name}"

    failures = []
    for key in news:
        if (
            key not in PROVIDER_SETTINGS
            and key not in ENGINE_CONFIG_KEYS
            and not key.startswith("__")
        ):
            failures.append(
                Failure(
                    echo(key, quote=False),
                    f"is not a setting of the vpsbackup provider; allowed: "
                    f"{', '.join(PROVIDER_SETTINGS)}",
                )
            )
    token = news.get("apiToken")
    if isinstance(token, str) and token != UNKNOWN:
        try:
            check_token(token.strip(), source("apiToken"))
        except ConfigurationError as exc:
            failures.append(Failure("apiToken", str(exc)))
    url = news.get("apiUrl")
    if isinstance(url, str) and url != UNKNOWN and url.strip():
        try:
            normalise_base_url(url, source("apiUrl"))
        except ConfigurationError as exc:
            failures.append(Failure("apiUrl", str(exc)))
    return failures


def is_default_provider(urn: str) -> bool:
    """The engine's own rule (`providers.IsDefaultProvider`): a provider named `default...`.

    Without a URN (an engine older than the `urn` field of ConfigureRequest)
    the provider is taken for the default one, as it always was.
    """
    if not urn:
        return True
    return urn.rsplit("::", 1)[-1].startswith("default")


def provider_name(urn: str) -> str:
    """How an error names a provider: `vpsbackup provider "account-b" (URN)`."""
    name = urn.rsplit("::", 1)[-1] if "::" in urn else urn
    return f"vpsbackup provider {json.dumps(name)} ({urn})" if urn else "vpsbackup provider"


def check_explicit(
    raw: Mapping[str, Any], urn: str, environ: Mapping[str, str] | None = None
) -> None:
    """An explicit provider's own settings, complete and well formed, or an error naming it.

    Its token and URL are read only from what it was given: with no
    `apiToken` it has none (never VPS_API_TOKEN), with no `apiUrl` it uses
    the API's own URL (never VPS_API_URL).
    """
    who = provider_name(urn)
    environ = os.environ if environ is None else environ
    if TOKEN_CONFIG_KEY not in raw:
        given = ", ".join(name for name, key in PROVIDER_SETTINGS.items() if key in raw)
        raise user_error(
            f"the {who} has {given} but no apiToken. An explicit provider uses only the "
            f"settings it is given, never the {TOKEN_ENV} environment variable (which may "
            "hold another account's token); give it apiToken, e.g. "
            '`pulumi.ProviderResource("vpsbackup", name, {"apiUrl": ..., "apiToken": '
            'config.require_secret("token")})`, or leave out all its settings to use the '
            "environment's"
        )
    try:
        check_token(str(raw[TOKEN_CONFIG_KEY]).strip(), f"the {who}'s apiToken")
        if URL_CONFIG_KEY in raw:
            url = normalise_base_url(str(raw[URL_CONFIG_KEY]), f"the {who}'s apiUrl")
            _environment_token_elsewhere(raw, url, who, environ)
    except ConfigurationError as exc:
        raise user_error(str(exc)) from None


def _environment_token_elsewhere(
    raw: Mapping[str, Any], url: str, who: str, environ: Mapping[str, str]
) -> None:
    """The generated SDKs fill an explicit provider's unset apiToken from VPS_API_TOKEN
    (the schema's `defaultInfo`), so a token equal to the environment's, at a URL
    that is not the environment's, most likely came from there: refused, as an
    explicit provider never sends the environment's token to a URL of its own."""
    env_token = environ.get(TOKEN_ENV, "").strip()
    if not env_token or str(raw[TOKEN_CONFIG_KEY]).strip() != env_token:
        return
    try:
        env_url = normalise_base_url(environ.get(URL_ENV, "").strip() or DEFAULT_BASE_URL)
    except ConfigurationError:
        env_url = None
    if url != env_url:
        raise ConfigurationError(
            f"the {who} has apiUrl {echo(url, quote=False)} and the token in {TOKEN_ENV}, "
            "which the SDK fills in when a provider is given no apiToken. An explicit "
            f"provider never sends the environment's token (it may be another account's) "
            f"to a URL other than the environment's ({URL_ENV}); give it its own apiToken, "
            'e.g. `vps.Provider(name, api_url=..., api_token=config.require_secret("token"))`'
        )


class NativeProvider:
    """One configured account's resources and queries (one per plugin process)."""

    def __init__(self) -> None:
        self._identity: str | None = None
        self._cores: dict[str, VpsProvider] = {
            BACKUP: BackupProvider(),
            RESTORE: RestoreProvider(),
            ROTATION: RotationProvider(),
            FLEET: FleetProvider(),
        }
        # Why this provider's configuration was refused; every call then fails so.
        self._refused: VpsBackupError | None = None
        # Set by the engine's Cancel: every wait stops at its next poll or sleep.
        self.cancelled = threading.Event()
        for core in self._cores.values():
            core.use_cancellation(self.cancelled)

    def cancel(self) -> None:
        """The engine is shutting down (Ctrl-C, or the end of the operation): stop
        every wait in flight and start no new create."""
        self.cancelled.set()

    # ---- configuration --------------------------------------------------
    def configure(
        self, args: Mapping[str, Any], variables: Mapping[str, str], urn: str = ""
    ) -> None:
        """The provider's inputs, else the engine's config variables; the environment only
        for the default provider.

        `args` are the provider resource's inputs (for the default provider,
        the stack's `vpsbackup:*` settings); `variables` the same settings as
        `vpsbackup:config:apiToken`; `urn` the provider's URN (the engine
        sends it; a default provider's name starts with `default`). The
        default provider, and an explicit one given no setting at all, fall
        back to `VPS_API_TOKEN` and `VPS_API_URL` for what is unset, as the
        stack's settings always have. An explicit provider given any setting
        of its own uses only its own: the environment may hold another
        account's token, which must never go to the URL this provider names.
        So its missing token is an error here, before any request.
        """
        identity = args.get(IDENTITY_KEY)
        self._identity = identity if is_identity(identity) else None
        raw: dict[str, Any] = {}
        for name, key in PROVIDER_SETTINGS.items():
            value = args.get(name)
            if value is None:
                value = variables.get(f"{PACKAGE}:config:{name}")
            if value is None or value == UNKNOWN or value == "":
                continue
            raw[key] = value
        own_only = bool(raw) and not is_default_provider(urn)
        request = ConfigureRequest(Config(raw_config=raw, project_name=PACKAGE))
        for core in self._cores.values():
            core.configure(request)
            core.use_environment(not own_only)
        self._refused = None
        if own_only:
            try:
                check_explicit(raw, urn)
            except VpsBackupError as exc:
                # Every later call fails the same way, should one come anyway.
                self._refused = exc
                raise

    def core(self, type_: str) -> VpsProvider:
        """The core provider behind a type (its client is the one the others use)."""
        return self._core(type_)

    def _core(self, type_: str) -> VpsProvider:
        if self._refused is not None:
            raise user_error(str(self._refused))
        core = self._cores.get(type_)
        if core is None:
            raise user_error(
                f"{echo(type_, quote=False)} is not a resource of the vpsbackup provider; it "
                f"serves {', '.join(self._cores)}"
            )
        return core

    # ---- resources --------------------------------------------------------
    def check(
        self,
        type_: str,
        urn: str,
        olds: dict[str, Any],
        news: dict[str, Any],
        keys: Mapping[str, Any] | None = None,
    ) -> Checked:
        """Check's failures and checked inputs. The owner key (and a rotation's or a
        fleet's name) comes from the provider's identity and the URN, or from `keys`
        when given (the Terraform provider, which is told no URN, keeps its own)."""
        core = self._core(type_)
        allowed = INPUTS[type_]
        internal = INTERNAL_INPUTS[type_]
        failures = [
            Failure(
                echo(key, quote=False),
                f"is not an input of {type_.rsplit(':', 1)[-1]}; allowed: {', '.join(allowed)}",
            )
            for key in news
            if key not in allowed and key not in internal and not key.startswith("__")
        ]
        if failures:
            return Checked(news, failures)
        given = {k: v for k, v in news.items() if k in allowed}
        if keys is not None:
            given.update(keys)
        elif type_ == BACKUP and self._identity is not None:
            # The key in the marker of every backup this resource makes: this
            # resource of this stack (the provider's identity, kept in state,
            # and the URN), so a backup an interrupted run left is found again
            # and no other stack's or resource's is ever taken for it.
            given["resourceKey"] = owner_key(self._identity, urn)
        if keys is None and type_ in NAMED:
            given.update(self._named(type_, urn, olds))
        result = core.check(snake(olds), snake(given))
        inputs = public_outputs(result.inputs)
        inputs.update({k: v for k, v in given.items() if k in internal})
        return Checked(
            inputs, [Failure(camel_name(f.property), f.reason) for f in result.failures or []]
        )

    def _named(self, type_: str, urn: str, olds: Mapping[str, Any]) -> dict[str, Any]:
        """A rotation's or a fleet's hidden inputs: what its dynamic class sets in the
        program (`core.building.named_props`), from the URN and the provider's identity."""
        if self._identity is None:
            # CheckConfig gives every provider one; without it no backup could be
            # proven this resource's, and a create would fail on the missing key.
            raise user_error(
                f"{kind(type_)} {urn}: the vpsbackup provider has no stack identity "
                f"({IDENTITY_KEY} among its inputs, which its CheckConfig adds); the engine "
                "configured it without checking its inputs. Run `pulumi up` with a current "
                "Pulumi CLI"
            )
        key = owner_key(self._identity, urn)
        named: dict[str, Any] = {"resourceKey": key, "resourceName": urn.rsplit("::", 1)[-1]}
        before = olds.get("resourceKey")
        if is_owner_key(before) and before != key:
            # Renamed or moved with an alias: its old name's interrupted runs count too.
            old_keys = [k for k in olds.get("previousKeys") or [] if k != key]
            named["previousKeys"] = sorted({before, *old_keys})
        return named

    def diff(self, type_: str, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Diffed:
        core = self._core(type_)
        result = core.diff(id_, snake(olds), snake(news))
        changed = [
            camel_name(n)
            for n in core.changed_names(snake(olds), snake(news))
            if n not in CORE_ONLY and n not in ("resource_key", "previous_keys")
        ]
        return Diffed(bool(result.changes), [camel_name(n) for n in result.replaces or []], changed)

    def planned_members(self, type_: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        """What a rotation's or a fleet's update leaves (their core's `planned_members`,
        by server or newest first, None for what it adds); None for other types or when
        it is not known before the update runs."""
        planned = getattr(self._core(type_), "planned_members", None)
        return planned(snake(olds), snake(news)) if planned else None

    def create(self, type_: str, inputs: dict[str, Any], timeout: float, preview: bool) -> Resource:
        core = self._core(type_)
        if preview:
            # The engine asks what the outputs will be: the inputs are all that
            # is known, and nothing may be made.
            return Resource("", dict(inputs))
        if self.cancelled.is_set():
            raise user_error(f"{type_.rsplit(':', 1)[-1]} not created: the operation was cancelled")
        try:
            result = core.create({**snake(inputs), "timeout": _seconds(timeout)})
        except WaitCancelledError as exc:
            # What it made is the engine's to keep (the server sends it as a
            # resource that failed to initialise): its outputs by schema name.
            if exc.made is not None:
                exc.made = (exc.made[0], public_outputs(exc.made[1]))
            raise
        return Resource(str(result.id), public_outputs(result.outs or {}))

    def read(
        self, type_: str, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> Resource | None:
        """The resource as the API has it now; None only for a proven absence.

        With nothing but the id (`pulumi import`, `Backup.get`), an absent
        backup is an error: there is no state to drop, and "does not exist"
        must reach the user.
        """
        core = self._core(type_)
        if not state and type_ in NAMED:
            raise refuse_import(type_, id_)
        result = core.read(id_, snake(state))
        if result.id is None or not result.id:
            if not state:
                what = "backup" if type_ == BACKUP else "restore"
                raise user_error(
                    f"{what} {id_} was not found with this provider's account; check the id "
                    "(getBackups lists the backups this token can see) and the provider's "
                    "apiUrl and apiToken"
                )
            return None
        outs = public_outputs(result.outs or {})
        if not state and type_ == BACKUP and outs.get("backupType") != "manual":
            # An id alone is `pulumi import` (or `get`: the engine's request is
            # the same). An imported backup is managed, and `pulumi destroy`
            # deletes what it manages: never VPS.org's own daily backup.
            raise user_error(
                f"backup {id_} is {outs.get('backupType') or 'not manual'}: VPS.org makes and "
                "expires it by itself, so only manual backups can be imported (a Backup in the "
                "stack is deleted by `pulumi destroy`). Read automatic backups with getBackups("
                'backupType: "automatic") or getLatestBackup instead'
            )
        read_inputs = public_outputs(result.inputs or {})
        for name in INTERNAL_INPUTS[type_]:
            if inputs.get(name) is not None:
                read_inputs[name] = inputs[name]
        return Resource(str(result.id), outs, read_inputs)

    def update(
        self,
        type_: str,
        id_: str,
        olds: dict[str, Any],
        news: dict[str, Any],
        timeout: float,
        preview: bool,
    ) -> dict[str, Any]:
        if preview:
            return {**olds, **news}
        result = self._core(type_).update(
            id_, snake(olds), {**snake(news), "timeout": _seconds(timeout)}
        )
        return public_outputs(result.outs or {})

    def delete(self, type_: str, id_: str, state: dict[str, Any], timeout: float) -> None:
        core = self._core(type_)
        if type_ == BACKUP and state.get("backupType") == "automatic":
            # Only a stack that imported one before imports were refused holds it.
            raise user_error(
                f"backup {id_} is automatic: VPS.org's own daily backup is never deleted by "
                "this provider. Remove it from the stack without touching it: "
                "`pulumi state delete <its URN>`"
            )
        core.delete(id_, {**snake(state), "timeout": _seconds(timeout)})

    # ---- queries ------------------------------------------------------------
    def invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        """A function on the configured provider's own client: its account, its
        connections and its waits (which Cancel stops), never a client of its own."""
        allowed = FUNCTIONS.get(token)
        if allowed is None:
            raise user_error(
                f"{echo(token, quote=False)} is not a function of the vpsbackup provider; it has "
                f"{', '.join(FUNCTIONS)}"
            )
        unknown = sorted(set(args) - set(allowed))
        if unknown:
            raise user_error(
                f"{token}: {', '.join(echo(u, quote=False) for u in unknown)} is not an "
                f"argument; allowed: {', '.join(allowed)}"
            )
        client = self._core(BACKUP).client()
        if token == WAIT_FOR_BACKUPS:
            ids: Any = args.get("backupIds")  # checked by the function
            timeout = args.get("timeout")
            done = backups_completed(
                client,
                ids,
                WAIT_FOR_BACKUPS_TIMEOUT if timeout is None else timeout,
            )
            return {"backups": [_info(b) for b in done]}
        filters = snake(args)
        if token == GET_BACKUPS:
            found = backups_of(client, **filters)
            return {"backups": [_info(b) for b in found.backups]}
        return _info(latest_backup_of(client, **filters))


def kind(type_: str) -> str:
    """`BackupRotation` for `vpsbackup:index:BackupRotation`."""
    return type_.rsplit(":", 1)[-1]


def refuse_import(type_: str, id_: str) -> VpsBackupError:
    """Why a rotation or a fleet is never imported (nor read by `get`).

    Its members are the backups it made, each marked with its own key, which
    is derived from its stack's identity and its URN: an id alone proves no
    backup its own, and a `pulumi destroy` of what an import took in would
    delete backups another stack or resource holds. The dynamic classes cannot
    be imported either (pulumi/pulumi#16175).
    """
    noun = "rotation" if type_ == ROTATION else "fleet"
    return user_error(
        f"{kind(type_)} {echo(id_, quote=False)} cannot be imported (nor read by id): a "
        f"{noun}'s backups are the ones it made itself, marked with a key derived from its "
        "stack and URN, so nothing proves an existing backup belongs to it, and `pulumi "
        f"destroy` would delete what it took in. Declare the {noun} and run `pulumi up` (it "
        "makes its own backups), or bring one existing manual backup under management with "
        "`pulumi import vpsbackup:index:Backup NAME BACKUP_ID`; read backups with getBackups"
    )


def _info(info: queries.BackupInfo) -> dict[str, Any]:
    return {k: v for k, v in camel(info.to_dict()).items() if v is not None}


def public_outputs(values: Mapping[str, Any]) -> dict[str, Any]:
    """The core's values by schema name, without what the native resources do not have."""
    return camel({k: v for k, v in values.items() if k not in CORE_ONLY and k != "__provider"})


def _seconds(timeout: float) -> float:
    """The engine's custom timeout (0 when none was set) as the core's `timeout`."""
    return float(timeout) if timeout and timeout > 0 else DEFAULT_TIMEOUT_SECONDS


__all__ = [
    "BACKUP",
    "FLEET",
    "GET_BACKUPS",
    "GET_LATEST_BACKUP",
    "PROVIDER_SETTINGS",
    "RESTORE",
    "ROTATION",
    "WAIT_FOR_BACKUPS",
    "NativeProvider",
    "config_failures",
]
