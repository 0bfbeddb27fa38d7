"""How a resource class turns its arguments and options into input properties.

Shared by the four resource classes (each package's `resource.py`, through
its generated base): the `XxxArgs` or keywords become properties
(`resource_props`), an `Account`
becomes the secret `account` input, text the SDK could not send becomes a
marker check reports, a resource's owner key is derived from the stack's
identity, its type and name, and the resource options that never reach a dynamic provider
(`import_`, `custom_timeouts`) are carried out here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, fields
from typing import Any

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

from ...client.echo import echo
from .account import ACCOUNT_INPUT, Account
from .identity import alias_keys_for, keyed_for
from .validation import wire_safe_text

__all__ = [
    "DeclaredResource",
    "Duration",
    "ResourceArgs",
    "Triggers",
    "alias_keys_for",
    "import_as_adoption",
    "resource_key_of",
    "resource_props",
    "timeout_from_custom_timeouts",
    "wire_safe",
    "with_account",
]

Triggers = pulumi.Input[list[Any]] | pulumi.Input[dict[str, Any]]
Duration = pulumi.Input[str] | pulumi.Input[float]


class DeclaredResource(Resource):
    """What each generated `XxxBase` builds on: its constructor's arguments become
    input properties here, and the resource class's `_prepare` finishes them."""

    def _declare(
        self,
        kind: str,
        resource_name: str,
        expected: type[ResourceArgs],
        args: ResourceArgs | None,
        opts: pulumi.ResourceOptions | None,
        keywords: Mapping[str, Any],
    ) -> None:
        props = resource_props(kind, args, expected, opts, keywords)
        provider, props, opts = self._prepare(resource_name, props, opts)
        Resource.__init__(self, provider, resource_name, props, opts)

    def _prepare(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
    ) -> tuple[ResourceProvider, dict[str, Any], pulumi.ResourceOptions | None]:
        """The provider, the final input properties and options: the resource class's."""
        raise NotImplementedError


class ResourceArgs:
    """What the `XxxArgs` classes share: they become the resource's input properties."""

    def to_props(self) -> dict[str, Any]:
        """The arguments as the resource's input properties."""
        return dict(vars(self))


def resource_props(
    kind: str,
    args: ResourceArgs | None,
    expected: type[ResourceArgs],
    opts: pulumi.ResourceOptions | None,
    keywords: Mapping[str, Any],
) -> dict[str, Any]:
    """The input properties of a resource given an `XxxArgs` or the same keywords.

    `keywords` holds the constructor's keyword arguments (its `locals()`):
    each field of `expected` is taken from it, so the fields are listed once,
    in the `XxxArgs` class (a test checks that every constructor offers each
    as a keyword). `Backup("b", 12345)` is told how to pass the id rather than
    failing later on an attribute; a required keyword left out is named (a
    `get`, which carries `opts.id`, needs none).
    """
    names = [f.name for f in fields(expected)]  # type: ignore[arg-type]
    required = [f.name for f in fields(expected) if f.default is MISSING]  # type: ignore[arg-type]
    _args_or_type_error(kind, args, expected, required[0])
    if args is None:
        missing = [name for name in required if keywords[name] is None]
        if missing and not (opts and opts.id):
            shown = ", ".join(repr(name) for name in missing)
            plural = "s" if len(missing) > 1 else ""
            raise TypeError(f"{kind}: missing required argument{plural} {shown}")
        args = expected(**{name: keywords[name] for name in names})
    return args.to_props()


def named_props(
    kind: str,
    resource_name: str,
    props: dict[str, Any],
    opts: pulumi.ResourceOptions | None,
    outputs: Iterable[str],
) -> dict[str, Any]:
    """The input properties of a resource that makes backups under its own name
    (`BackupRotation`, `BackupFleet`), from its arguments' properties: the
    description made wire-safe, the hidden `resource_key` and `resource_name`,
    a `timeout` from `custom_timeouts`, and its outputs declared."""
    props["description"] = wire_safe(props.get("description"))
    props["resource_key"] = resource_key_of(kind, resource_name, opts)
    props["previous_keys"] = alias_keys_for(kind, resource_name, opts)
    props["resource_name"] = resource_name
    timeout_from_custom_timeouts(resource_name, props, opts)
    props.update(dict.fromkeys(outputs))
    return props


def with_account(
    props: dict[str, Any], opts: pulumi.ResourceOptions | None
) -> pulumi.ResourceOptions | None:
    """An `Account` becomes the input `account`, its token a secret, and the
    `account` output is asked to be secret as a whole (it holds the token too)."""
    account = props.pop(ACCOUNT_INPUT, None)
    if account is None:
        return opts
    if not isinstance(account, Account):
        raise TypeError(
            f"account must be a vps.Account(api_token=..., api_url=...), "
            f"not {type(account).__name__}"
        )
    props[ACCOUNT_INPUT] = account.to_input()
    secret = pulumi.ResourceOptions(additional_secret_outputs=[ACCOUNT_INPUT])
    return pulumi.ResourceOptions.merge(opts, secret)


def wire_safe(value: Any) -> Any:
    """Text the SDK could not send (a lone surrogate) as a marker Check reports by name."""
    if isinstance(value, pulumi.Output):
        return value.apply(wire_safe_text)
    return wire_safe_text(value)


def resource_key_of(
    kind: str, resource_name: str, opts: pulumi.ResourceOptions | None
) -> pulumi.Output[str]:
    """The owner key carried in the marker of every backup this resource creates.

    The provider's create sees only inputs (no URN), so the key is made here
    from the stack's identity (`identity.py`, a random value kept in the
    stack's own state), the resource's type (`kind`), its parent's type and
    name, and its name: equal for every run of this resource of this stack,
    and shared with no other resource, stack or backend.
    """
    return keyed_for(kind, resource_name, opts)


def _args_or_type_error(kind: str, args: object, expected: type, first_input: str) -> None:
    """`Backup("b", 12345)`: say how to pass the id, not fail later on an attribute."""
    if args is None or isinstance(args, expected):
        return
    if isinstance(args, (list, tuple)):  # `BackupFleet("f", [1, 2])`
        shown: Any = echo(list(args))
    elif isinstance(args, (int, float, str, pulumi.Output)) and not isinstance(args, bool):
        shown = args if isinstance(args, (int, float)) else "..."
    else:
        shown = None
    if shown is not None:
        raise TypeError(
            f"{kind}: pass {first_input}={shown} as a keyword (the second positional argument "
            f"is {expected.__name__})"
        )
    raise TypeError(
        f"{kind}: the second positional argument must be a {expected.__name__}, "
        f"got {type(args).__name__}"
    )


# ---- resource options that never reach a dynamic provider ------------------------------


def import_as_adoption(
    name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
) -> pulumi.ResourceOptions | None:
    """`ResourceOptions(import_=id)` on a Backup adopts that backup instead.

    The engine imports a dynamic resource by calling Read with the id alone,
    which fails in Pulumi's provider host before our code runs ("KeyError:
    '__provider'", pulumi/pulumi#16175). Adoption through `existing_backup_id`
    does what a user asks of `import_`: the backup comes under management
    without being re-created, and `pulumi destroy` deletes it.
    """
    if opts is None or opts.import_ is None:
        return opts
    wanted = opts.import_
    existing = props.get("existing_backup_id")
    if existing is not None and str(existing) != str(wanted):
        raise ValueError(
            f"Backup {name!r}: import_={wanted!r} and existing_backup_id={existing!r} name "
            "different backups; keep one (import_ is carried out as existing_backup_id)"
        )
    props["existing_backup_id"] = wanted
    pulumi.log.info(
        f"Backup {name!r}: import_={wanted!r} is carried out as existing_backup_id={wanted!r} "
        "(dynamic providers cannot be imported, pulumi/pulumi#16175)"
    )
    adopted = copy.copy(opts)  # the caller's options object stays as it was
    adopted.import_ = None
    return adopted


def timeout_from_custom_timeouts(
    name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
) -> None:
    """`custom_timeouts.create` becomes the `timeout` input when none is given.

    The engine does not pass custom timeouts to dynamic providers, so without
    this a user's `CustomTimeouts(create="2h")` would silently wait the
    default 60 minutes.
    """
    custom = opts.custom_timeouts if opts is not None else None
    if custom is None:
        return
    ignored = [kind for kind in ("update", "delete") if getattr(custom, kind, None)]
    if custom.create:
        if props.get("timeout") is None:
            props["timeout"] = custom.create
        else:
            ignored.insert(0, "create")
    if ignored:
        pulumi.log.warn(
            f"{name}: custom_timeouts {', '.join(ignored)} "
            f"{'has' if len(ignored) == 1 else 'have'} no effect on this resource; "
            "set its `timeout` input instead (custom_timeouts.create is used only "
            "when `timeout` is not set)"
        )
