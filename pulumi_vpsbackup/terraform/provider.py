"""What the Terraform provider does for each protocol call, by calling the plugin's core.

Every decision (validation, what a change replaces, how a backup is made,
adopted, waited for, settled and deleted, what a refresh believes) is made by
`plugin.provider.NativeProvider` over the dynamic providers' steps, exactly as
for the Pulumi plugin. This module only translates: Terraform's snake_case
attributes and the plugin's camelCase properties, Terraform's plan (planned
values must equal the configuration, computed ones are unknown until apply)
and the core's check and diff, the `timeouts` block and the core's `timeout`,
and errors and warnings into diagnostics.

What Terraform does not tell a provider, and how this one makes up for it:
- No resource address (no URN): each resource's owner key is random, chosen
  when it is created and kept in state (`resource_key`). A backup left by an
  apply killed outright (SIGKILL) before its state was written is therefore
  not found again by a later apply: it stays on VPS.org, marked but outside
  state, for `tofu import` or deletion (the Pulumi ways find it by URN).
- No progress channel: the core's progress lines go to the provider's log
  (`TF_LOG=INFO`); OpenTofu shows its own "Still creating..." lines. Warnings
  (quota) are warning diagnostics.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..client.echo import echo
from ..client.errors import ConfigurationError, VpsBackupError, WaitCancelledError
from ..client.marker import new_identity, owner_key
from ..client.settings import (
    DEFAULT_BASE_URL,
    TOKEN_ENV,
    URL_ENV,
    normalise_base_url,
)
from ..plugin.provider import (
    BACKUP,
    DECLARATIONS,
    FLEET,
    NAMED,
    ROTATION,
    NativeProvider,
    config_failures,
    public_outputs,
)
from ..plugin.wire import camel_name, snake_name
from ..provider.backup.steps import owned_elsewhere
from ..provider.core import validation as v
from ..provider.core.base import messages_to, warn
from ..provider.core.validation import DEFAULT_TIMEOUT_SECONDS
from .cty import UNKNOWN, Dynamic, is_whole, plain
from .schema import DATA_SOURCES, RESOURCES, Kind, tf_text

__all__ = ["ERROR", "WARNING", "Diagnostic", "Planned", "TerraformError", "TerraformProvider"]

ERROR = "error"
WARNING = "warning"
T = TypeVar("T")

#: Attributes Terraform keeps that are not the core's properties.
_TF_ONLY = ("id", "timeouts")


@dataclass
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    #: The attribute it is about, as steps of names (`("timeouts", "create")`).
    attribute: tuple[str, ...] = ()


class TerraformError(Exception):
    """A call's failure as diagnostics (at least one an error)."""

    def __init__(self, diagnostics: list[Diagnostic], state: dict[str, Any] | None = None):
        super().__init__("; ".join(d.summary for d in diagnostics))
        self.diagnostics = diagnostics
        #: What a create made before it failed (kept in state, tainted).
        self.state = state


@dataclass
class Planned:
    state: dict[str, Any] | None
    requires_replace: list[str] = field(default_factory=list)


def error_diagnostic(exc: BaseException) -> Diagnostic:
    """One of our errors as OpenTofu shows it: the first line, then the rest."""
    text = tf_text(str(exc).strip() or type(exc).__name__)
    first, _, rest = text.partition("\n")
    if isinstance(exc, VpsBackupError):
        return Diagnostic(ERROR, first, rest.strip())
    return Diagnostic(
        ERROR,
        "internal error in the vpsbackup provider",
        f"{type(exc).__name__}: {text}; please report it",
    )


def failure_diagnostic(name: str, reason: str) -> Diagnostic:
    """A refused attribute: `Invalid server_id` and the reason, pointing at it."""
    attribute = snake_name(name) if name else ""
    # "must be ..." reads as a sentence about the attribute; a whole sentence
    # ("backup 501 belongs to server 12345, ...") stands as it is.
    about = reason.split(" ", 1)[0] in ("must", "is", "are", "names", "has", "cannot")
    detail = tf_text(f"{attribute} {reason}" if attribute and about else reason)
    return Diagnostic(
        ERROR,
        f"Invalid {attribute}" if attribute else "Invalid configuration",
        detail,
        (attribute,) if attribute else (),
    )


def log_line(level: str, message: str) -> None:
    """One line of the provider's log: go-plugin reads JSON lines on stderr (hclog's
    shape) and logs each at its level, so `TF_LOG=INFO` shows a wait's progress."""
    line = json.dumps(
        {
            "@level": level,
            "@message": f"vpsbackup: {message}",
            "@module": "vpsbackup",
            "@timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
    )
    os.write(2, (line + "\n").encode(errors="replace"))


class TerraformProvider:
    """One provider configuration's resources and data sources (one per process)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.native = NativeProvider()
        self._environ = os.environ if environ is None else environ
        self._configured = threading.Event()

    # ---- calls --------------------------------------------------------------------
    @contextmanager
    def _collecting(self) -> Iterator[list[Diagnostic]]:
        """Warnings the core gives meanwhile, as warning diagnostics; progress to the log."""
        found: list[Diagnostic] = []

        def sink(message: str, warning: bool) -> None:
            if warning:
                found.append(Diagnostic(WARNING, tf_text(message)))
            else:
                log_line("info", message)

        with messages_to(sink):
            yield found

    def call(self, work: Callable[[], T]) -> tuple[T, list[Diagnostic]]:
        """`work()` with its warnings collected; one of our errors becomes diagnostics."""
        with self._collecting() as found:
            try:
                result = work()
            except TerraformError as exc:
                exc.diagnostics = found + exc.diagnostics
                raise
            except WaitCancelledError as exc:
                raise TerraformError([*found, error_diagnostic(exc)]) from exc
            except Exception as exc:
                raise TerraformError([*found, error_diagnostic(exc)]) from exc
        return result, found

    def stop(self) -> None:
        """OpenTofu is stopping (Ctrl-C): every wait ends at its next poll or sleep."""
        self.native.cancel()

    # ---- the provider block ---------------------------------------------------------
    def validate_provider(self, config: Mapping[str, Any]) -> list[Diagnostic]:
        news = _camel_known(config)
        return [failure_diagnostic(f.property, f.reason) for f in config_failures(news)]

    def configure(self, config: Mapping[str, Any]) -> list[Diagnostic]:
        """The block's settings, else `VPS_API_TOKEN` and `VPS_API_URL` for what it leaves
        out, as Terraform providers do; but never the environment's token for a URL the
        block names that is not the environment's (the token is another API's)."""
        args = _camel_known(config)
        self._environment_token_elsewhere(args)
        self.native.configure(args, {}, urn="")
        self._configured.set()
        return []

    def _environment_token_elsewhere(self, args: Mapping[str, Any]) -> None:
        url, token = args.get("apiUrl"), args.get("apiToken")
        if not url or token or not self._environ.get(TOKEN_ENV, "").strip():
            return
        try:
            given = normalise_base_url(str(url).strip(), "the provider's api_url")
        except ConfigurationError:
            return  # ValidateProviderConfig has said why
        try:
            env_url = normalise_base_url(self._environ.get(URL_ENV, "").strip() or DEFAULT_BASE_URL)
        except ConfigurationError:
            env_url = None
        if given != env_url:
            raise TerraformError(
                [
                    Diagnostic(
                        ERROR,
                        "api_url without api_token",
                        f"The provider block sets api_url {echo(given, quote=False)} but no "
                        f"api_token, and the token in {TOKEN_ENV} is for "
                        f"{echo(env_url or DEFAULT_BASE_URL, quote=False)} ({URL_ENV} or the "
                        "default): it is never sent to another URL. Set api_token in the block "
                        "(e.g. from a sensitive variable), or set VPS_API_URL with VPS_API_TOKEN "
                        "and leave api_url out.",
                        ("api_url",),
                    )
                ]
            )

    # ---- resources --------------------------------------------------------------------
    def kind(self, type_name: str) -> Kind:
        kind = RESOURCES.get(type_name) or DATA_SOURCES.get(type_name)
        if kind is None:
            raise TerraformError(
                [
                    Diagnostic(
                        ERROR,
                        f"{echo(type_name, quote=False)} is not a type of the vpsbackup provider",
                        f"It serves {', '.join([*RESOURCES, *DATA_SOURCES])}.",
                    )
                ]
            )
        return kind

    def validate_resource(self, type_name: str, config: Mapping[str, Any]) -> list[Diagnostic]:
        """Each attribute against the core's validators, offline (the provider is not
        configured yet): unknown values are left for the plan."""
        kind = self.kind(type_name)
        core = self.native._core(kind.token)
        news = _core_inputs(kind, config)
        _, errors = v.check_fields(core.fields, news)
        found = [failure_diagnostic(e.field, e.reason) for e in errors]
        found.extend(_timeout_failures(kind, config))
        return found

    def plan(
        self,
        type_name: str,
        prior: dict[str, Any] | None,
        proposed: dict[str, Any] | None,
        config: dict[str, Any] | None,
    ) -> Planned:
        kind = self.kind(type_name)
        if proposed is None or config is None:
            return Planned(None)  # destroy
        checked = self._check(kind, prior, config, {})
        if prior is None:
            return Planned(self._planned_new(kind, config, checked))
        old = _props(kind, prior)
        diffed = self.native.diff(kind.token, str(prior.get("id") or ""), old, checked)
        if diffed.replaces:
            planned = self._planned_new(kind, config, checked)
            return Planned(planned, sorted({snake_name(n) for n in diffed.replaces}))
        planned = dict(prior)
        for attr in kind.attrs:
            if attr.required or attr.optional:
                value = config.get(attr.name)
                if value is None and attr.computed:
                    value = prior.get(attr.name)
                    if value is None:
                        value = _default(kind, attr.name, checked)
                planned[attr.name] = value
        planned["timeouts"] = config.get("timeouts")
        if diffed.changes and kind.token in (ROTATION, FLEET):
            # An update makes or deletes backups: the plan shows which it deletes.
            members = self.native.planned_members(kind.token, old, checked)
            planned.update(_planned_outputs(kind, prior, members))
        return Planned(planned)

    def _check(
        self,
        kind: Kind,
        prior: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        keys: Mapping[str, Any],
    ) -> dict[str, Any]:
        """The core's check (with the API, as at a preview): its inputs, or diagnostics."""
        olds = _props(kind, prior) if prior else {}
        news = _camel(_core_inputs(kind, config))
        checked = self.native.check(kind.token, "", olds, news, keys=keys)
        if checked.failures:
            raise TerraformError(
                [failure_diagnostic(f.property, f.reason) for f in checked.failures]
            )
        timeout_errors = _timeout_failures(kind, config)
        if timeout_errors:
            raise TerraformError(timeout_errors)
        return checked.inputs

    def _planned_new(
        self, kind: Kind, config: Mapping[str, Any], checked: Mapping[str, Any]
    ) -> dict[str, Any]:
        planned: dict[str, Any] = {}
        for attr in kind.attrs:
            if attr.required or attr.optional:
                value = config.get(attr.name)
                if value is None and attr.computed:
                    value = _default(kind, attr.name, checked)
                    if value is None:
                        value = UNKNOWN  # VPS.org's (a backup's description)
                planned[attr.name] = value
            else:
                planned[attr.name] = UNKNOWN
        planned["timeouts"] = config.get("timeouts")
        return planned

    def apply(
        self,
        type_name: str,
        prior: dict[str, Any] | None,
        planned: dict[str, Any] | None,
        config: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        kind = self.kind(type_name)
        if planned is None:
            assert prior is not None
            self._delete(kind, prior)
            return None
        source = config if config is not None else planned
        if prior is None:
            return self._create(kind, planned, source)
        return self._update(kind, prior, planned, source)

    def _keys(self, kind: Kind, key: str) -> dict[str, Any]:
        keys: dict[str, Any] = {"resourceKey": key}
        if kind.token in NAMED:
            keys["resourceName"] = f"{kind.name}.{key[:8]}"
        return keys

    def _create(
        self, kind: Kind, planned: dict[str, Any], config: Mapping[str, Any]
    ) -> dict[str, Any]:
        key = owner_key(new_identity(), kind.name)
        keys = self._keys(kind, key) if "resource_key" in kind.names else {}
        checked = self._check(kind, None, config, keys)
        timeout = _timeout(config, "create")
        try:
            made = self.native.create(kind.token, checked, timeout, preview=False)
        except VpsBackupError as exc:
            if isinstance(exc, WaitCancelledError):
                kept = exc.made  # by schema name already (NativeProvider.create)
            else:
                kept = exc.handover and (exc.handover[0], public_outputs(exc.handover[1]))
            if not kept or not kept[0]:
                raise
            # Left on VPS.org and not undoable (VPS.org refuses to delete a running
            # backup): the Pulumi ways find it again by their key on the next run;
            # a Terraform resource has no key before its first create succeeds, so
            # OpenTofu keeps it in state now, tainted, and the next apply replaces it.
            made_id, outs = kept
            raise _handed_over(
                exc,
                self._state(kind, made_id, outs, planned, key),
                f"What it started is kept in state, tainted ({kind.name} {made_id}), so "
                "nothing is left on VPS.org outside state: the next `tofu apply` deletes it "
                "(waiting for a running backup to finish first) and makes it again.",
            ) from exc
        return self._state(kind, made.id, made.outputs, planned, key)

    def _update(
        self,
        kind: Kind,
        prior: dict[str, Any],
        planned: dict[str, Any],
        config: Mapping[str, Any],
    ) -> dict[str, Any]:
        key = prior.get("resource_key")
        keys = self._keys(kind, key) if isinstance(key, str) and key else {}
        checked = self._check(kind, prior, config, keys)
        olds = _props(kind, prior)
        try:
            outs = self.native.update(
                kind.token,
                str(prior["id"]),
                olds,
                checked,
                _timeout(config, "update" if "update" in _ops(kind) else "create"),
                preview=False,
            )
        except VpsBackupError as exc:
            # A rotation's new backup still running when its wait ended (a timeout,
            # Ctrl-C): VPS.org refuses to delete it, so it joins the rotation's state
            # now (the Pulumi ways find it again by key, if the triggers stay the same).
            kept = exc.made if isinstance(exc, WaitCancelledError) else exc.handover
            if not kept:
                raise
            state = self._state(kind, str(prior["id"]), public_outputs(kept[1]), planned, key)
            raise _handed_over(
                exc,
                state,
                f"What it started is kept in state ({kind.name} {prior['id']} now holds "
                f"backup_ids {_shown(state.get('backup_ids'))}), so nothing is left on "
                "VPS.org outside state: the next `tofu apply` or `tofu refresh` reads how "
                "it ended.",
            ) from exc
        state = self._state(kind, str(prior["id"]), outs, planned, key)
        differs = [
            a.name for a in kind.attrs if not _agrees(planned.get(a.name), state.get(a.name))
        ]
        if differs:
            # The plan showed what the update would leave; when VPS.org refused a delete
            # (a warning above says which), the state says what is true, and an error
            # says so rather than OpenTofu's "inconsistent result" (a provider bug).
            raise TerraformError(
                [
                    Diagnostic(
                        ERROR,
                        f"The update did not end as planned ({', '.join(differs)})",
                        f"{kind.name} {prior['id']}: "
                        + "; ".join(
                            f"{name} is {_shown(state.get(name))}, planned "
                            f"{_shown(planned.get(name))}"
                            for name in differs
                        )
                        + ". The state records what is true now (see the warnings above); "
                        "the next `tofu apply` finishes what is left.",
                    )
                ],
                state,
            )
        return state

    def _delete(self, kind: Kind, prior: dict[str, Any]) -> None:
        self.native.delete(
            kind.token, str(prior["id"]), _props(kind, prior), _timeout(prior, "delete")
        )

    def _state(
        self,
        kind: Kind,
        id_: str,
        outs: Mapping[str, Any],
        planned: Mapping[str, Any],
        key: Any,
    ) -> dict[str, Any]:
        """The new state: what was planned as known stays as planned; the rest is the core's.
        A rotation's and a fleet's members are always the core's (what is true: a backup
        VPS.org refused to delete stays a member), checked against the plan after."""
        state: dict[str, Any] = {}
        members = kind.token in (ROTATION, FLEET)
        for attr in kind.attrs:
            given = planned.get(attr.name)
            output = attr.computed and not (attr.required or attr.optional)
            if given is not None and is_whole(given) and not (members and output):
                state[attr.name] = given
            elif attr.name == "id":
                state["id"] = id_
            elif attr.name == "resource_key":
                state["resource_key"] = key if isinstance(key, str) else None
            else:
                state[attr.name] = _from_core(attr.type, outs.get(camel_name(attr.name)))
        state["timeouts"] = planned.get("timeouts")
        return state

    # ---- read and import ----------------------------------------------------------------
    def read(self, type_name: str, state: dict[str, Any]) -> dict[str, Any] | None:
        """The resource as VPS.org has it now; None only when it is proven gone. A state
        that holds only an id is an import."""
        kind = self.kind(type_name)
        importing = all(state.get(a.name) is None for a in kind.attrs if a.required)
        props = {} if importing else _props(kind, state)
        inputs = {} if importing else _camel(_core_inputs(kind, state))
        found = self.native.read(kind.token, str(state["id"]), props, inputs)
        if found is None:
            return None
        if importing and kind.token == BACKUP:
            self._name_its_maker(found.id)
        new: dict[str, Any] = {}
        read_inputs = found.inputs or {}
        for attr in kind.attrs:
            name = camel_name(attr.name)
            if attr.name == "id":
                new["id"] = found.id
            elif attr.name == "resource_key":
                new["resource_key"] = state.get("resource_key")
            elif attr.required or attr.optional:
                kept = state.get(attr.name)
                if importing:
                    kept = _from_core(attr.type, read_inputs.get(name, found.outputs.get(name)))
                    if kept is None and attr.computed:
                        # What a configuration that leaves it out plans: no change.
                        kept = _declared_default(kind, attr.name)
                elif attr.computed and name in found.outputs and name not in ("waitForCompletion",):
                    kept = _from_core(attr.type, found.outputs.get(name))
                new[attr.name] = kept
            else:
                new[attr.name] = _from_core(attr.type, found.outputs.get(name))
        new["timeouts"] = state.get("timeouts")
        return new

    def _name_its_maker(self, backup_id: str) -> None:
        """Warn when an imported backup was made by another resource (its marker says
        so): both would own it, and the first destroy deletes it."""
        client = self.native.core(BACKUP).client()
        # The import's read has just listed the account's backups: that cached listing
        # answers, with no request of its own.
        backup = client.find_backup(int(backup_id), max_age=5.0)
        note = backup and owned_elsewhere(backup, None, "Importing it")
        if note:
            warn(note)

    def import_state(self, type_name: str, id_: str) -> dict[str, Any]:
        kind = self.kind(type_name)
        if kind.token in NAMED:
            noun = "rotation" if "rotation" in kind.name else "fleet"
            raise TerraformError(
                [
                    Diagnostic(
                        ERROR,
                        f"{kind.name} cannot be imported",
                        f"A {noun}'s backups are the ones it made itself, marked with its own "
                        "key, so nothing proves an existing backup belongs to it, and `tofu "
                        f"destroy` would delete what an import took in. Declare the {noun} and "
                        "run `tofu apply` (it makes its own backups), or bring one existing "
                        "manual backup under management with `tofu import vpsbackup_backup.NAME "
                        "BACKUP_ID`; read backups with the vpsbackup_backups data source.",
                    )
                ]
            )
        if not str(id_).strip():
            raise TerraformError([Diagnostic(ERROR, "an import needs the id")])
        state: dict[str, Any] = {a.name: None for a in kind.attrs}
        state["id"] = str(id_).strip()
        state["timeouts"] = None
        return state

    # ---- data sources ---------------------------------------------------------------------
    def read_data(self, type_name: str, config: dict[str, Any]) -> dict[str, Any]:
        kind = self.kind(type_name)
        args = {
            camel_name(a.name): config[a.name]
            for a in kind.attrs
            if (a.optional or a.required) and config.get(a.name) is not None
        }
        result = self.native.invoke(kind.token, args)
        state: dict[str, Any] = {}
        for attr in kind.attrs:
            given = config.get(attr.name)
            if given is not None:
                state[attr.name] = given
            elif attr.name == "backups":
                state["backups"] = [
                    {snake_name(k): val for k, val in item.items()}
                    for item in result.get("backups", [])
                ]
            else:
                state[attr.name] = _from_core(attr.type, result.get(camel_name(attr.name)))
        return state

    def upgrade(self, type_name: str, raw: Mapping[str, Any]) -> dict[str, Any]:
        """State from this version's schema (version 0): every attribute, nothing else."""
        kind = self.kind(type_name)
        state = {a.name: raw.get(a.name) for a in kind.attrs}
        for block in kind.blocks:
            state[block.name] = raw.get(block.name)
        return state


# ---- translation --------------------------------------------------------------------------
def _planned_outputs(kind: Kind, prior: Mapping[str, Any], members: Any) -> dict[str, Any]:
    """A rotation's or fleet's outputs as its update will leave them: the members it
    keeps known (so that the plan shows each backup it deletes), the backups it makes
    unknown; all unknown when the core cannot tell before the update runs."""
    computed = [
        a.name
        for a in kind.attrs
        if a.computed and not (a.required or a.optional) and a.name not in ("id", "resource_key")
    ]
    outs: dict[str, Any] = {name: UNKNOWN for name in computed}
    if members is None:
        return outs
    if kind.token == ROTATION:
        outs["backup_ids"] = [UNKNOWN if m is None else m for m in members]
        outs["latest_backup_id"] = (
            None if not members else UNKNOWN if members[0] is None else members[0]
        )
        if members and members[0] is not None:
            outs["server_name"] = prior.get("server_name")
        return outs
    ids, statuses, names = (
        prior.get("backup_ids") or {},
        prior.get("statuses") or {},
        prior.get("server_names") or {},
    )
    outs["backup_ids"], outs["statuses"], outs["server_names"] = {}, {}, {}
    for server, backup_id in members.items():
        key = str(server)
        held = backup_id is not None
        outs["backup_ids"][key] = ids.get(key, UNKNOWN) if held else UNKNOWN
        outs["statuses"][key] = statuses.get(key, UNKNOWN) if held else UNKNOWN
        outs["server_names"][key] = names.get(key, UNKNOWN) if held else UNKNOWN
    return outs


def _agrees(planned: Any, actual: Any) -> bool:
    """Whether `actual` has every known part of `planned` (OpenTofu's rule after apply)."""
    if isinstance(planned, Dynamic) or isinstance(actual, Dynamic):
        return plain(planned) == plain(actual) or not is_whole(planned)
    if isinstance(planned, str) and planned == UNKNOWN:
        return True
    if isinstance(planned, list):
        return (
            isinstance(actual, list)
            and len(planned) == len(actual)
            and all(_agrees(p, a) for p, a in zip(planned, actual, strict=True))
        )
    if isinstance(planned, dict):
        return (
            isinstance(actual, dict)
            and set(planned) == set(actual)
            and all(_agrees(planned[k], actual[k]) for k in planned)
        )
    return bool(planned == actual)


def _shown(value: Any) -> str:
    """A planned or actual value as the user reads it (unknown as OpenTofu shows it)."""
    value = plain(value)
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_shown(v)}" for k, v in value.items()) + "}"
    if value == UNKNOWN:
        return "(known after apply)"
    return json.dumps(value)


def _camel(values: Mapping[str, Any]) -> dict[str, Any]:
    return {camel_name(k): val for k, val in values.items()}


def _camel_known(config: Mapping[str, Any]) -> dict[str, Any]:
    """The provider block's settings that are set, by the plugin's names."""
    return {
        camel_name(k): plain(val)
        for k, val in (config or {}).items()
        if val is not None and not (isinstance(val, str) and val == "")
    }


def _core_inputs(kind: Kind, values: Mapping[str, Any]) -> dict[str, Any]:
    """The configurable attributes that are set, as the core reads them (snake_case)."""
    return {
        a.name: plain(values[a.name])
        for a in kind.attrs
        if (a.required or a.optional) and values.get(a.name) is not None
    }


def _props(kind: Kind, state: Mapping[str, Any] | None) -> dict[str, Any]:
    """A state as the plugin's stored outputs (camelCase, no Terraform-only attributes)."""
    if not state:
        return {}
    return {
        camel_name(k): plain(val)
        for k, val in state.items()
        if k not in _TF_ONLY and val is not None
    }


def _default(kind: Kind, name: str, checked: Mapping[str, Any]) -> Any:
    value = checked.get(camel_name(name))
    return None if value is None else value


def _handed_over(exc: BaseException, state: dict[str, Any], kept: str) -> TerraformError:
    """The error of an apply that leaves `state` (what it started, which VPS.org will
    not let it undo) for OpenTofu to keep, saying so in `kept`."""
    # A fleet's error says what became of each server, one line each.
    servers = [
        tf_text(line.strip())
        for line in str(exc).splitlines()[1:]
        if line.strip().startswith("server ")
    ]
    detail = "".join(f"{line}\n" for line in servers) + kept
    return TerraformError([Diagnostic(ERROR, _what_happened(exc), detail)], state)


def _what_happened(exc: BaseException) -> str:
    """The first sentence of an error: what went wrong, without the Pulumi ways' next step."""
    if isinstance(exc, WaitCancelledError):
        return tf_text(exc.what_happened())
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return tf_text(first.split(". ", 1)[0].split("; nothing was recorded", 1)[0].rstrip("."))


def _declared_default(kind: Kind, name: str) -> Any:
    """An input's default in its declaration (None when it has none)."""
    inputs = DECLARATIONS[kind.token].inputs
    found = next((f for f in dataclasses.fields(inputs) if f.name == name), None)
    if found is None or found.default is dataclasses.MISSING:
        return None
    return found.default


def _from_core(ty: Any, value: Any) -> Any:
    """A core output as the attribute's type holds it."""
    if value is None:
        return None
    if ty == "dynamic":
        return value if isinstance(value, Dynamic) else Dynamic(_json_type(value), value)
    if ty == "string":
        return str(value)
    if isinstance(ty, list) and ty[0] == "map" and isinstance(value, Mapping):
        return {str(k): _from_core(ty[1], val) for k, val in value.items()}
    if isinstance(ty, list) and ty[0] in ("list", "set") and isinstance(value, (list, tuple)):
        return [_from_core(ty[1], val) for val in value]
    return value


def _json_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return ["tuple", [_json_type(val) for val in value]]
    if isinstance(value, Mapping):
        return ["object", {str(k): _json_type(val) for k, val in value.items()}]
    return "dynamic"


def _ops(kind: Kind) -> tuple[str, ...]:
    for block in kind.blocks:
        if block.name == "timeouts":
            return tuple(a.name for a in block.attrs)
    return ()


def _timeout(values: Mapping[str, Any] | None, op: str) -> float:
    """The `timeouts` block's value for `op`, in seconds (the default when unset)."""
    block = (values or {}).get("timeouts") or {}
    text = block.get(op) if isinstance(block, Mapping) else None
    if text is None or text == UNKNOWN:
        return DEFAULT_TIMEOUT_SECONDS
    return v.duration_seconds(f"timeouts.{op}", text)


def _timeout_failures(kind: Kind, config: Mapping[str, Any]) -> list[Diagnostic]:
    block = config.get("timeouts") or {}
    found = []
    for op in _ops(kind):
        text = block.get(op) if isinstance(block, Mapping) else None
        if text is None or text == UNKNOWN:
            continue
        try:
            v.duration_seconds(op, text)
        except v.FieldError as exc:
            found.append(
                Diagnostic(
                    ERROR,
                    f"Invalid timeouts.{op}",
                    tf_text(f"timeouts.{op} {exc.reason}"),
                    ("timeouts", op),
                )
            )
    return found
