"""The marker a create appends to a backup's description, and reading it back.

The API has no idempotency key and no way to tag a backup, so the only thing
a create can recognise its own backup by is the description it sent. Every
``POST /backups/`` therefore sends the caller's description followed by a
marker::

    Before 2.4 [pvb:3f9a2c1e.7b21d0aa]
               ^^^^ ^^^^^^^^ ^^^^^^^^
               tag  resource  attempt

* the *attempt* token is random, new for every POST: after a lost answer, a
  backup whose description carries it is proof that this very request made
  it, and nothing else is ever adopted;
* the *resource* key (optional) is stable for one Pulumi resource (a hash of
  project, stack and resource name): a later create of the same resource finds
  a backup an earlier, failed or interrupted, run left behind, and settles it
  instead of making another.

Without a resource key the marker is `` [pvb:7b21d0aa]``. Users never see the
marker in outputs or queries: :func:`strip_marker` removes it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

__all__ = [
    "MARKER_RESERVED",
    "Marker",
    "parse_marker",
    "resource_key",
    "strip_marker",
    "with_marker",
]

KEY_HEX = 8
TOKEN_HEX = 8
#: Characters a marker can take, its leading space included: ` [pvb:` + key + `.` + token + `]`.
MARKER_RESERVED = len(" [pvb:") + KEY_HEX + 1 + TOKEN_HEX + 1

_MARKER = re.compile(
    rf"(?:^| )\[pvb:(?:(?P<key>[0-9a-f]{{{KEY_HEX}}})\.)?(?P<token>[0-9a-f]{{{TOKEN_HEX}}})\]$"
)


@dataclass(frozen=True)
class Marker:
    """One create attempt's marker: an optional resource key and a random token."""

    token: str
    key: str | None = None

    @classmethod
    def new(cls, key: str | None = None) -> Marker:
        return cls(token=secrets.token_hex(TOKEN_HEX // 2), key=key)

    def __str__(self) -> str:
        return f"[pvb:{self.key}.{self.token}]" if self.key else f"[pvb:{self.token}]"


def resource_key(*parts: str) -> str:
    """A stable key for one resource, e.g. ``resource_key(project, stack, name)``."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    return digest[:KEY_HEX]


def is_resource_key(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(rf"[0-9a-f]{{{KEY_HEX}}}", value) is not None


def with_marker(description: str | None, marker: Marker) -> str:
    """The description to send: the caller's, then the marker."""
    return f"{description} {marker}" if description else str(marker)


def parse_marker(description: str | None) -> Marker | None:
    """The marker at the end of a description, if it has one."""
    match = _MARKER.search(description or "")
    if match is None:
        return None
    return Marker(token=match["token"], key=match["key"])


def strip_marker(description: str | None) -> str | None:
    """The description without its marker (as the user wrote it); None stays None."""
    if description is None:
        return None
    match = _MARKER.search(description)
    return description[: match.start()] if match else description
