"""The stack's identity: a random value each stack keeps in its own state.

Project, stack and resource name are not an identity (two backends can share
them), and the engine gives a provider no place to write before its create
returns, so the identity is a resource of its own, `StackIdentity`: the first
backup-making resource of a program registers it and depends on it, so it is
recorded before any backup is made and deleted last. What users see (the
marker's owner key, what a stack's destroy names): docs/resources.md, "The
marker in the description".
"""

from __future__ import annotations

import threading
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from ...client.errors import ConfigurationError, VpsBackupError
from ...client.marker import is_identity, new_identity, owner_key, parse_marker, stack_tag
from .base import VpsProvider, first_line, warn

__all__ = ["IDENTITY_RESOURCE_NAME", "StackIdentity", "StackIdentityProvider", "keyed_for"]

#: The name the identity has in every stack (`pulumi stack` lists it).
IDENTITY_RESOURCE_NAME = "vpsbackup-stack-identity"


class StackIdentityProvider(VpsProvider):
    """Dynamic provider behind `StackIdentity` (do not rename: state names it).

    It holds no secret: create draws the value and makes no request, read
    keeps it, nothing changes it in place; delete names (never deletes) the
    backups of the stack's account that still carry its tag.
    """

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        identity = new_identity()
        return CreateResult(identity, {"identity": identity})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=False, replaces=[], stables=["identity"])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({"identity": olds.get("identity") or _id})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        identity = props.get("identity")
        if not is_identity(identity):
            identity = id_
        return ReadResult(id_, {"identity": identity})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # Deleted last (every backup-making resource depends on it): a backup that
        # still carries the stack's tag was made by a run interrupted before the
        # engine recorded it, or kept on purpose (`retain_on_delete`, `pulumi
        # state delete`). Nothing tells these apart, so they are named, never deleted.
        identity = props.get("identity")
        if not is_identity(identity):
            return
        tag = stack_tag(str(identity))
        try:
            manual = self.client().list_backups(backup_type="manual")
        except ConfigurationError:
            return  # no stack-wide account (every resource names its own `Account`)
        except VpsBackupError as exc:
            warn(
                "could not list the account's backups to look for ones this stack made in a "
                f"run that was interrupted before Pulumi recorded them ({first_line(exc)})"
            )
            return
        left = []
        for backup in manual:
            marker = parse_marker(backup.description)
            if marker is not None and marker.proves_owner and str(marker.key).startswith(tag):
                left.append(backup)
        if left:
            ids = ", ".join(f"{b.id} (server {b.server_id}, {b.status})" for b in left)
            warn(
                f"backups {ids} carry this stack's marker [pvb:{tag}...] but are in no "
                "resource's state: a run was interrupted before Pulumi recorded them, or they "
                "were kept on purpose (retain_on_delete, `pulumi state delete`). They are "
                "left alone: delete the ones you do not need (vps.get_backups lists them)."
            )


class StackIdentity(Resource, module="vpsbackup", name="StackIdentity"):
    """The stack's identity (registered by the package; users never write one)."""

    identity: pulumi.Output[str]

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(StackIdentityProvider(), resource_name, {"identity": None}, opts)


# One identity resource per program run. The runtime's resource monitor is
# new for each run (and each test's mocks), so it tells runs apart.
_LOCK = threading.Lock()
_REGISTERED: dict[int, tuple[Any, StackIdentity]] = {}


def _this_run() -> StackIdentity:
    monitor = pulumi.runtime.settings.get_monitor()
    with _LOCK:
        found = _REGISTERED.get(id(monitor))
        if found is not None and found[0] is monitor:
            return found[1]
        identity = StackIdentity(IDENTITY_RESOURCE_NAME)
        # The monitor is kept alive beside its entry, so its id is not reused;
        # only the last few runs (threads of one test process) are kept.
        _REGISTERED[id(monitor)] = (monitor, identity)
        while len(_REGISTERED) > 16:
            del _REGISTERED[next(iter(_REGISTERED))]
        return identity


def _parent_parts(parent: Any) -> tuple[str, str]:
    return str(getattr(parent, "_type", "") or ""), str(getattr(parent, "_name", "") or "")


def _names(
    type_name: str, resource_name: str, opts: pulumi.ResourceOptions | None
) -> tuple[str, ...]:
    parent = opts.parent if opts is not None else None
    return (type_name, *_parent_parts(parent), resource_name)


def _alias_names(
    type_name: str, resource_name: str, opts: pulumi.ResourceOptions | None
) -> list[tuple[str, ...]]:
    """What names the resource had before, from its `aliases`, where they can be
    known in the program: an `Alias` in this stack and project (a new name, type or
    parent), or the URN of a top-level resource of this stack."""
    found: list[tuple[str, ...]] = []
    for alias in (opts.aliases if opts is not None else None) or []:
        if isinstance(alias, str):
            parts = alias.split("::")
            if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
                continue
            chain = parts[2].split("$")
            if parts[0] != f"urn:pulumi:{pulumi.get_stack()}" or parts[1] != pulumi.get_project():
                continue
            if len(chain) != 1:
                continue  # a child's URN does not name its parent
            found.append((chain[-1].rsplit(":", 1)[-1], "", "", parts[3]))
            continue
        if not isinstance(alias, pulumi.Alias):
            continue
        given: Any = alias  # an Alias keeps `...` for "unchanged", which its types omit
        if given.stack not in (..., None, pulumi.get_stack()) or given.project not in (
            ...,
            None,
            pulumi.get_project(),
        ):
            continue  # another stack's resource has another identity
        name = resource_name if given.name is ... else given.name
        kind = type_name if given.type_ is ... else given.type_
        if not isinstance(name, str) or not isinstance(kind, str):
            continue
        if given.parent is ...:
            parent_parts = _parent_parts(opts.parent if opts is not None else None)
        elif given.parent is None:
            parent_parts = ("", "")
        elif isinstance(given.parent, pulumi.Resource):
            parent_parts = _parent_parts(given.parent)
        else:
            continue  # a parent given by URN: its name cannot be read back here
        found.append((kind.rsplit(":", 1)[-1], *parent_parts, name))
    return found


def keyed_for(type_name: str, resource_name: str, opts: pulumi.ResourceOptions | None) -> Any:
    """The owner key of a resource about to be registered: an Output that is known
    once the stack's identity is (unknown only in the preview of a new stack)."""
    parts = _names(type_name, resource_name, opts)

    def key(identity: Any) -> str | None:
        # Only a test's mocks give no identity: then no key, and nothing is settled.
        return owner_key(identity, *parts) if is_identity(identity) else None

    return _this_run().identity.apply(key)


def alias_keys_for(type_name: str, resource_name: str, opts: pulumi.ResourceOptions | None) -> Any:
    """The owner keys the resource had under its `aliases` (None without any): a
    renamed resource also settles what its old name's interrupted runs left."""
    current = _names(type_name, resource_name, opts)
    before = [parts for parts in _alias_names(type_name, resource_name, opts) if parts != current]
    if not before:
        return None

    def keys(identity: Any) -> list[str] | None:
        if not is_identity(identity):
            return None
        return sorted({owner_key(identity, *parts) for parts in before})

    return _this_run().identity.apply(keys)
