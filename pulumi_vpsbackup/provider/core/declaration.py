"""Each resource's inputs and outputs, declared once.

An input is one dataclass field: its type, how `check` validates it, its
default, and whether a change to it replaces the resource. From the same
declaration come the `FieldSpec` list that `check` and `diff` work on (they
see raw values, unknown ones during a preview) and the typed inputs that
create, read, update and delete work on: `XxxInputs.parse(props)` turns the
engine's dict (numbers arrive as floats, a missing input is absent) into the
dataclass once, and `to_props()` gives the copies of the inputs that each
resource stores among its outputs (the engine hands later calls only those).

The outputs a resource reports beside those copies are declared here too
(`BACKUP_OUTPUTS`, ...); the resource classes register exactly these, and a
test checks that each class's `pulumi.Output` attributes are its inputs (less
the hidden ones) and its outputs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any, ClassVar, TypeVar

from ...client.errors import VpsBackupError
from ...client.marker import LEGACY_KEY_HEX, is_owner_key
from . import validation as v
from .account import account_identity, account_input

__all__ = ["Declaration", "Inputs", "NamedInputs", "Out", "documented", "spec"]

MANUAL_BACKUP_LIMIT = 10
#: How many servers one fleet may hold (the engine sends its state in one message).
MAX_SERVERS = 1000

_I = TypeVar("_I", bound="Inputs")
_N = TypeVar("_N", bound="NamedInputs")


def resource_key_input(field: str, value: Any) -> str:
    """The hidden `resource_key` input: the owner key a resource class derives from
    its stack's identity, type, parent and name (`pulumi_vpsbackup.client.marker`).
    State written by 0.1 holds an 8-digit key, still read but never acted on."""
    legacy = isinstance(value, str) and re.fullmatch(f"[0-9a-f]{{{LEGACY_KEY_HEX}}}", value)
    if not (is_owner_key(value) or legacy):
        raise v.FieldError(field, "must be 16 lowercase hex digits (set by the resource class)")
    return str(value)


def owner_keys(field: str, value: Any) -> list[str]:
    """The hidden `previous_keys` input: the owner keys of a renamed resource's
    old names (its `aliases`), set by the resource class."""
    if not isinstance(value, (list, tuple)) or not all(is_owner_key(k) for k in value):
        raise v.FieldError(field, "must be a list of owner keys (set by the resource class)")
    return list(value)


def keep_count(field: str, value: Any) -> int:
    """How many of its own backups a rotation keeps: 1 to the server's manual limit."""
    try:
        count = v.positive_id(field, value)
    except v.FieldError:
        count = 0
    if not 1 <= count <= MANUAL_BACKUP_LIMIT:
        raise v.FieldError(
            field,
            f"must be a whole number from 1 to {MANUAL_BACKUP_LIMIT}, got {v.shown_value(value)}",
        )
    return count


def server_id_list(field: str, value: Any) -> list[Any]:
    """The servers of a fleet: a non-empty list of distinct server ids, sorted."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise v.FieldError(field, f"must be a list of server ids, got {v.shown_value(value)}")
    if v.contains_unknown(value):
        return list(value)  # preview: some ids are not known yet
    ids = [v.positive_id(f"{field}[{i}]", item) for i, item in enumerate(value)]
    if not ids:
        raise v.FieldError(field, "must name at least one server, got an empty list")
    if len(ids) > MAX_SERVERS:
        raise v.FieldError(field, f"must name at most {MAX_SERVERS} servers, got {len(ids)}")
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise v.FieldError(
            field,
            f"names server {', '.join(map(str, twice))} more than once; each server gets "
            "one backup, so list it once",
        )
    return sorted(ids)


def server_set(value: Any) -> Any:
    """What a diff compares of a fleet's servers: the set, in any order."""
    if isinstance(value, (list, tuple)) and not v.contains_unknown(value):
        return sorted(v.canonical(i) for i in value)
    return value


def text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise v.FieldError(field, f"must be a string, got {v.shown_value(value)}")
    return value


def seconds(field: str, value: Any) -> float:
    """A stored timeout (already checked): engine numbers become floats."""
    return float(value)


def spec(
    validate: Callable[[str, Any], Any],
    *,
    parse: Callable[[str, Any], Any] | None = None,
    replaces: bool = False,
    compare: Callable[[Any], Any] | None = None,
    doc: str = "",
    out_doc: str | None = None,
    native_doc: str | None = None,
    arg: str | None = "",
    native: str | None = "input",
) -> dict[str, Any]:
    """The metadata of one input field.

    Behaviour: `validate` is check's; `parse` turns a stored, known value into
    its type (an engine float into an id) when it is not that already;
    `replaces` says a change replaces the resource; `compare` maps a value to
    what diff compares. A field without a default is required.

    What is generated from it (`make generate`): `doc` documents the argument
    in the `XxxArgs` class and the constructor; `out_doc` the `pulumi.Output`
    attribute of the same name (none for a hidden input); `native_doc` the
    plugin schema's description when it differs from `doc`; `arg` is the
    argument's annotation when the field's type does not give it (`None`: not
    an argument, the resource class sets it); `native` is ``"input"`` for a
    schema input, ``"internal"`` for a property the plugin sets itself in Check
    and documents, ``"state"`` for one it sets and keeps in state only, or
    `None` when the plugin has no such property.
    """
    return {
        "validate": validate,
        "parse": parse,
        "replaces": replaces,
        "compare": compare,
        "doc": doc,
        "out_doc": out_doc,
        "native_doc": native_doc,
        "arg": arg,
        "native": native,
    }


def documented(base: dict[str, Any], doc: str, **more: Any) -> dict[str, Any]:
    """A shared field metadata (`ID`, `WAIT`, ...) with this field's documentation."""
    return {**base, "doc": doc, **more}


@dataclasses.dataclass(frozen=True)
class Out:
    """One output a resource reports beside the copies of its inputs.

    `type` is its Python type as written in the `pulumi.Output[...]`
    annotation; `doc` documents that attribute, `native_doc` the schema's
    property when different; `required` puts it in the schema's `required`.
    """

    type: str
    doc: str
    native_doc: str | None = None
    required: bool = False


@dataclasses.dataclass(frozen=True)
class Declaration:
    """A resource, declared once: its name, its inputs and outputs, and the text
    the generated class and the plugin schema need beside them."""

    name: str
    inputs: type[Inputs]
    outputs: Mapping[str, Out]
    #: The schema's description of the resource (the plugin's users read it).
    native_description: str
    #: The constructor's notes on `opts` and what it raises.
    opts_doc: str = "Options for the resource."
    raises_doc: str = ""
    #: The schema's `required` inputs kept as outputs (always present in state).
    required_outputs: tuple[str, ...] = ()

    def native(self, kind: str = "input") -> tuple[str, ...]:
        """The inputs of one `native` kind (see `spec`): ``"input"``, ``"internal"``
        or ``"state"``, snake_case, in declaration order."""
        return tuple(
            f.name for f in dataclasses.fields(self.inputs) if f.metadata["native"] == kind
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Inputs:
    """A resource's inputs, typed; subclasses declare each field with its `spec`."""

    #: Inputs a resource class sets itself, which are not among its Output attributes.
    hidden: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def specs(cls) -> list[v.FieldSpec]:
        """What `check` and `diff` work on, in declaration order."""
        return [
            v.FieldSpec(
                f.name,
                f.metadata["validate"],
                required=_required(f),
                default=None if _required(f) else f.default,
                replaces=f.metadata["replaces"],
                compare=f.metadata["compare"],
            )
            for f in dataclasses.fields(cls)
        ]

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def parse(cls: type[_I], props: Mapping[str, Any]) -> _I:
        """The inputs in `props` (checked inputs, or stored outputs), typed.

        A missing optional input takes its default; a missing required one is
        refused by name; anything not an input (outputs, `__provider`) is left.
        """
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if props.get(f.name) is None and _required(f):
                raise v.FieldError(f.name, "is required")
            values[f.name] = cls.stored(props, f.name)
        return cls(**values)

    @classmethod
    def stored(cls, props: Mapping[str, Any], name: str) -> Any:
        """One input of `props`, typed; its default (None for a required one) when missing.

        For what a resource read by id alone holds: its stored outputs may lack
        a required input (a `Backup.get` without `server_id`).
        """
        f = next(f for f in dataclasses.fields(cls) if f.name == name)
        value = props.get(name)
        if value is None:
            return None if _required(f) else f.default
        parse = f.metadata["parse"]
        return parse(name, value) if parse is not None else value

    def to_props(self) -> dict[str, Any]:
        """The inputs as a resource stores them among its outputs (no `None`s)."""
        found = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {name: value for name, value in found.items() if value is not None}

    def replace(self: _I, **changes: Any) -> _I:
        return dataclasses.replace(self, **changes)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING


ID = spec(v.positive_id, parse=v.positive_id, replaces=True)
WAIT = spec(v.boolean, parse=v.boolean)
#: A backup's description (the marker is added and stripped by the client); a change
#: replaces what was made with it.
DESCRIPTION = spec(v.description, replaces=True, compare=v.same_text)
#: Values whose change makes it all again (a replacement).
TRIGGERS = spec(v.triggers, replaces=True)
TIMEOUT = spec(
    v.duration_seconds,
    parse=seconds,
    arg="Duration",
    native=None,  # the plugin takes the engine's custom timeouts
    doc='How long to wait, as seconds or text such as ``"45m"`` or ``"1h30m"`` '
    '(default ``"60m"``, at most 24h). Pulumi\'s ``custom_timeouts`` never reach dynamic '
    "providers, so the constructor turns ``custom_timeouts.create`` into this.",
    out_doc="How long to wait, in seconds.",
)
#: The owner key the resource class sets (the plugin derives it in Check).
RESOURCE_KEY = spec(
    resource_key_input,
    arg=None,
    native="internal",
    native_doc="The key in the marker of every backup this resource makes (derived from its "
    "URN and the provider's stack identity): how it tells its own backups from any other, and "
    "finds one left outside state by an interrupted run.",
)
#: The owner keys of a renamed resource's old names (its aliases).
PREVIOUS_KEYS = spec(owner_keys, arg=None, native=None)
# URL and token; a new token (rotation) updates in place, a new URL fails check.
# Never in a repr: it holds the token.
ACCOUNT = spec(
    account_input,
    compare=account_identity,
    arg="Account",
    native=None,  # the plugin's account is its provider configuration
    doc="The `Account` (API URL and token) to use instead of the stack's settings; "
    "see docs/installation-configuration.md, Several accounts.",
)
DEFAULT_TIMEOUT = v.DEFAULT_TIMEOUT_SECONDS


@dataclasses.dataclass(frozen=True, kw_only=True)
class NamedInputs(Inputs):
    """The inputs of a resource whose class sets its key and its name (a rotation, a
    fleet): the key goes into the marker of each backup it makes, the name into
    its messages. Neither is compared by diff."""

    hidden: ClassVar[tuple[str, ...]] = ("resource_key", "previous_keys", "resource_name")

    resource_key: str | None = field(default=None, metadata=RESOURCE_KEY)
    # The plugin sets these two in Check too, and keeps them in state only.
    previous_keys: list[str] | None = field(
        default=None, metadata={**PREVIOUS_KEYS, "native": "state"}
    )
    resource_name: str | None = field(default=None, metadata=spec(text, arg=None, native="state"))

    @property
    def name(self) -> str:
        """The resource's name for messages."""
        return self.resource_name or "(unnamed)"

    @classmethod
    def parse_keyed(cls: type[_N], props: Mapping[str, Any], made_by: str) -> _N:
        """The inputs of a create or an update, which the resource class always keys
        (`made_by` says how, e.g. ``"fleets with BackupFleet(...)"``)."""
        inputs = cls.parse(props)
        if not inputs.resource_key:
            raise VpsBackupError(f"resource_key: missing; create {made_by}")
        return inputs
