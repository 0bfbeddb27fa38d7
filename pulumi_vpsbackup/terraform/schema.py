"""The Terraform provider's schema, derived from the same declarations as the plugin's.

Each resource and data source here is the native plugin's (`plugin/schema.json`,
which `make generate` writes from each resource's `declaration.py`) under
Terraform's names: `vpsbackup_backup` for `vpsbackup:index:Backup`, snake_case
attributes for camelCase properties, a `timeouts` block for the engine's custom
timeouts. The text is the schema's, with the few words that name a Pulumi
command or option said in Terraform's terms (`tf_text`). What is Terraform's
own: the computed `id`, and that an optional input with a default is also
computed (the plan shows the default). `make generate` writes the Registry's
docs (`docs/terraform/`, docs.py) from this module, and tests/test_generated.py
checks they are current.
"""

from __future__ import annotations

import dataclasses
import json
import re
from functools import cache
from typing import Any

from ..plugin.provider import (
    BACKUP,
    DECLARATIONS,
    FLEET,
    GET_BACKUPS,
    GET_LATEST_BACKUP,
    RESTORE,
    ROTATION,
)
from ..plugin.server import schema_text
from ..plugin.wire import snake_name

__all__ = [
    "DATA_SOURCES",
    "PROVIDER",
    "RESOURCES",
    "Attr",
    "Block",
    "Kind",
    "tf_text",
]

#: Terraform's type name -> the plugin's token.
RESOURCE_TOKENS = {
    "vpsbackup_backup": BACKUP,
    "vpsbackup_restore": RESTORE,
    "vpsbackup_backup_rotation": ROTATION,
    "vpsbackup_backup_fleet": FLEET,
}
DATA_SOURCE_TOKENS = {
    "vpsbackup_backups": GET_BACKUPS,
    "vpsbackup_latest_backup": GET_LATEST_BACKUP,
}
#: Which operations each resource's `timeouts` block bounds: those that wait.
TIMEOUTS = {
    BACKUP: ("create", "delete"),
    RESTORE: ("create",),
    ROTATION: ("create", "update", "delete"),
    FLEET: ("create", "update", "delete"),
}


@dataclasses.dataclass(frozen=True)
class Attr:
    """One attribute: its cty type (as JSON) and how configuration may set it."""

    name: str
    type: Any
    description: str
    required: bool = False
    optional: bool = False
    computed: bool = False
    sensitive: bool = False
    #: A change to it replaces the resource (documentation; the plan asks the core).
    replaces: bool = False


@dataclasses.dataclass(frozen=True)
class Block:
    """A nested block of one (`timeouts`)."""

    name: str
    description: str
    attrs: tuple[Attr, ...]

    @property
    def type(self) -> Any:
        return ["object", {a.name: a.type for a in self.attrs}]


@dataclasses.dataclass(frozen=True)
class Kind:
    """A resource, a data source or the provider block: its attributes and blocks."""

    name: str
    token: str
    description: str
    attrs: tuple[Attr, ...]
    blocks: tuple[Block, ...] = ()

    @property
    def type(self) -> Any:
        """The cty object type of a whole value (a block's absence is null)."""
        fields = {a.name: a.type for a in self.attrs}
        fields.update({b.name: b.type for b in self.blocks})
        return ["object", fields]

    def attr(self, name: str) -> Attr:
        return next(a for a in self.attrs if a.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attrs)


# ---- text ------------------------------------------------------------------------
_PHRASES = (
    (
        re.compile(r"`?pulumi import vpsbackup:index:Backup NAME BACKUP_ID`?"),
        "`tofu import vpsbackup_backup.NAME BACKUP_ID` (or an `import` block)",
    ),
    (re.compile(r"`?customTimeouts\.(\w+)`?"), r"`timeouts { \1 }`"),
    (
        re.compile(r"`pulumi config set --secret vpsbackup:apiToken <token>`"),
        "`api_token` in the provider block",
    ),
    (re.compile(r"\(?`?vpsbackup:apiToken`?\)?"), "api_token"),
    (re.compile(r"\(?`?vpsbackup:apiUrl`?\)?"), "api_url"),
    (re.compile(r"raise `timeout` first"), "raise `timeouts { create }` first"),
    (re.compile(r"not in Pulumi state"), "not in state"),
    # What the Pulumi ways do with a backup they cannot delete yet (find it again by
    # a key derived from the URN) is not what this provider does (keep it in state).
    (
        re.compile(
            r"and one left outside state by an interrupted run is found again by its marker"
        ),
        "and one that cannot be deleted yet, while VPS.org still runs it, is kept in state "
        "as tainted, for the next apply to replace",
    ),
    (
        re.compile(r"if it fails or times out, the new backup is deleted and nothing is recorded"),
        "if it fails or times out, the new backup is deleted, or, while VPS.org still runs it, "
        "kept in state as tainted for the next apply to replace",
    ),
    (
        re.compile(r"the next `pulumi up` finds it by its marker and settles it"),
        "it is kept in state, tainted",
    ),
    (re.compile(r"`pulumi up`"), "`tofu apply`"),
    (
        re.compile(r"\(the new one is made before the old one is deleted\)"),
        "(OpenTofu deletes the old backup first unless the resource has `lifecycle "
        "{ create_before_destroy = true }`, which makes the new one before the old one is "
        "deleted)",
    ),
    (
        re.compile(r"\(its backups of the old server are deleted after the new one exists\)"),
        "(OpenTofu deletes the old rotation's backups first unless the resource has "
        "`lifecycle { create_before_destroy = true }`, which deletes them after the new "
        "rotation's first backup exists)",
    ),
    (
        re.compile(r": new backups of every server first, then the old ones are deleted\."),
        " (OpenTofu deletes the old backups first unless the resource has `lifecycle "
        "{ create_before_destroy = true }`, which makes new backups of every server first, "
        "then deletes the old ones).",
    ),
    (re.compile(r"the fleet's `up` fails"), "the fleet's create or update fails"),
    (re.compile(r"as `pulumi stack export` shows it"), "as `tofu state show` shows it"),
    (re.compile(r"Pulumi map keys"), "map keys"),
    (
        re.compile(r"Declare several explicit providers to use several accounts in one program"),
        "Declare one provider block per account, with `alias`, to use several in one configuration",
    ),
    (re.compile(r"`pulumi destroy`"), "`tofu destroy`"),
    (re.compile(r"`pulumi refresh`"), "`tofu refresh`"),
    (re.compile(r"`pulumi preview`"), "`tofu plan`"),
    (re.compile(r"\bpulumi destroy\b"), "tofu destroy"),
    (re.compile(r"\bpulumi up\b"), "tofu apply"),
    (re.compile(r"\bgetBackups\b"), "the vpsbackup_backups data source"),
    (re.compile(r"\bgetLatestBackup\b"), "the vpsbackup_latest_backup data source"),
)
_CAMEL_CODE = re.compile(r"`([a-z]+(?:[A-Z][a-z0-9]*)+)`")


def tf_text(text: str) -> str:
    """The schema's (or an error's) text in Terraform's words: its commands and
    options, and attribute names in snake_case."""
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return _CAMEL_CODE.sub(lambda m: f"`{snake_name(m.group(1))}`", text)


# ---- types -----------------------------------------------------------------------
def _cty(prop: dict[str, Any]) -> Any:
    """A schema.json property's type as a cty type."""
    ref = prop.get("$ref", "")
    if ref == "pulumi.json#/Any":
        return "dynamic"
    if ref.startswith("#/types/"):
        return _object(_plugin_schema()["types"][ref[len("#/types/") :]])
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return "number"
    if kind == "string":
        return "string"
    if kind == "boolean":
        return "bool"
    if kind == "array":
        return ["list", _cty(prop["items"])]
    if kind == "object" and "additionalProperties" in prop:
        return ["map", _cty(prop["additionalProperties"])]
    if "oneOf" in prop:
        return "dynamic"
    raise ValueError(f"no cty type for {json.dumps(prop)}")


def _object(type_: dict[str, Any]) -> Any:
    return ["object", {snake_name(n): _cty(p) for n, p in type_["properties"].items()}]


@cache
def _plugin_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


def _reported(token: str) -> frozenset[str]:
    """Inputs whose value in state is VPS.org's when the configuration leaves them out
    (a backup's description): optional and computed, so that no plan fights the API."""
    from ..provider.backup import BackupProvider
    from ..provider.fleet import FleetProvider
    from ..provider.restore import RestoreProvider
    from ..provider.rotation import RotationProvider

    classes = {
        BACKUP: BackupProvider,
        RESTORE: RestoreProvider,
        ROTATION: RotationProvider,
        FLEET: FleetProvider,
    }
    return frozenset(classes[token].reported_fields)


def _replacing(token: str) -> frozenset[str]:
    """The inputs whose change replaces the resource, from its declaration."""
    inputs = DECLARATIONS[token].inputs
    return frozenset(f.name for f in dataclasses.fields(inputs) if f.metadata.get("replaces"))


# ---- resources -------------------------------------------------------------------
_ID = {
    BACKUP: "The backup's id (the same as `backup_id`).",
    RESTORE: "The restore's id, `SERVER_ID:BACKUP_ID:TIME`: the server, the backup and when "
    "the restore was requested (UTC).",
    ROTATION: "The rotation's id.",
    FLEET: "The fleet's id.",
}
_KEY_DOC = (
    "The key in the marker of every backup this resource makes (random, chosen when it "
    "is created): how it tells its own backups from any other's."
)


def _timeouts(token: str) -> Block:
    ops = TIMEOUTS[token]
    return Block(
        "timeouts",
        "How long each operation may wait, as text such as `45m` or `1h30m` (default `60m`, "
        "at most `24h`).",
        tuple(
            Attr(op, "string", f"How long the {op} may wait (default `60m`).", optional=True)
            for op in ops
        ),
    )


def _resource(name: str, token: str) -> Kind:
    entry = _plugin_schema()["resources"][token]
    inputs = entry["inputProperties"]
    required_inputs = set(entry.get("requiredInputs", ()))
    required_outputs = set(entry.get("required", ()))
    replacing = _replacing(token)
    reported = _reported(token)
    attrs = [Attr("id", "string", _ID[token], computed=True)]
    for camel, prop in inputs.items():
        snake = snake_name(camel)
        attrs.append(
            Attr(
                snake,
                _cty(prop),
                tf_text(prop.get("description", "")),
                required=camel in required_inputs,
                optional=camel not in required_inputs,
                # An optional input the resource always reports has a default: the
                # plan shows it.
                computed=camel not in required_inputs
                and (camel in required_outputs or snake in reported),
                replaces=snake in replacing,
            )
        )
    for camel, prop in entry["properties"].items():
        if camel in inputs:
            continue
        snake = snake_name(camel)
        description = _KEY_DOC if snake == "resource_key" else tf_text(prop.get("description", ""))
        attrs.append(Attr(snake, _cty(prop), description, computed=True))
    return Kind(name, token, tf_text(entry["description"]), tuple(attrs), (_timeouts(token),))


# ---- data sources ------------------------------------------------------------------
def _data_source(name: str, token: str) -> Kind:
    entry = _plugin_schema()["functions"][token]
    args = entry["inputs"]["properties"]
    outputs = entry["outputs"]["properties"]
    attrs = []
    for camel, prop in args.items():
        snake = snake_name(camel)
        attrs.append(
            Attr(
                snake,
                _cty(prop),
                tf_text(prop.get("description", "")),
                optional=True,
                # A filter that is also a property of the result (`server_id`) is
                # filled from the backup found.
                computed=camel in outputs,
            )
        )
    for camel, prop in outputs.items():
        if camel in args:
            continue
        attrs.append(
            Attr(snake_name(camel), _cty(prop), tf_text(prop.get("description", "")), computed=True)
        )
    return Kind(name, token, tf_text(entry["description"]), tuple(attrs))


# ---- the provider block ------------------------------------------------------------
def _provider() -> Kind:
    entry = _plugin_schema()["provider"]
    attrs = tuple(
        Attr(
            snake_name(camel),
            _cty(prop),
            tf_text(prop.get("description", "")),
            optional=True,
            sensitive=bool(prop.get("secret")),
        )
        for camel, prop in entry["inputProperties"].items()
    )
    return Kind("vpsbackup", "pulumi:providers:vpsbackup", tf_text(entry["description"]), attrs)


RESOURCES: dict[str, Kind] = {n: _resource(n, t) for n, t in RESOURCE_TOKENS.items()}
DATA_SOURCES: dict[str, Kind] = {n: _data_source(n, t) for n, t in DATA_SOURCE_TOKENS.items()}
PROVIDER: Kind = _provider()
