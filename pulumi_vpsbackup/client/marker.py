"""The marker a create appends to a backup's description, and reading it back.

The API has no idempotency key and no tag, so every ``POST /backups/`` sends
the caller's description followed by ``[pvb:<owner>.<intent>.<attempt>]``.
Rules to keep: a lost answer adopts only the backup carrying that request's
random *attempt* token; a leftover is settled only when both the *owner* key
(:func:`owner_key`: stack identity and resource) and the *intent* digest
(:func:`intent_digest`) match; a pre-identity marker's key proves nothing
(:attr:`Marker.proves_owner`); :func:`strip_marker` keeps it out of outputs and
queries. What users see: docs/resources.md, "The marker in the description".
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MARKER_RESERVED",
    "Marker",
    "derived_key",
    "intent_digest",
    "is_identity",
    "is_owner_key",
    "new_identity",
    "owner_key",
    "parse_marker",
    "stack_tag",
    "strip_marker",
    "with_marker",
]

TAG_HEX = 8
OWNER_HEX = 16
INTENT_HEX = 8
TOKEN_HEX = 8
LEGACY_KEY_HEX = 8
#: Characters a marker can take, its leading space included:
#: `` [pvb:`` + owner + ``.`` + intent + ``.`` + token + ``]``.
MARKER_RESERVED = len(" [pvb:") + OWNER_HEX + 1 + INTENT_HEX + 1 + TOKEN_HEX + 1

# Markers written before the owner key had an identity (``[pvb:<8 hex>.<8 hex>]``
# and ``[pvb:<8 hex>]``) are still read: their token proves a lost answer's
# backup, but their key proves nothing and is never acted on.
_MARKER = re.compile(
    r"(?:^| )\[pvb:(?:"
    rf"(?P<owner>[0-9a-f]{{{OWNER_HEX}}})\.(?P<intent>[0-9a-f]{{{INTENT_HEX}}})\."
    rf"|(?P<legacy>[0-9a-f]{{{LEGACY_KEY_HEX}}})\.)?"
    rf"(?P<token>[0-9a-f]{{{TOKEN_HEX}}})\]$"
)


@dataclass(frozen=True)
class Marker:
    """One create attempt's marker: owner key and intent (optional) and a random token."""

    token: str
    key: str | None = None
    intent: str | None = None

    @classmethod
    def new(cls, key: str | None = None, intent: str | None = None) -> Marker:
        """A fresh attempt's marker; an owner key without an intent is refused."""
        if key is not None and not (is_owner_key(key) and _is_hex(intent, INTENT_HEX)):
            raise ValueError("a marker's owner key needs a 16-hex key and an 8-hex intent")
        return cls(token=secrets.token_hex(TOKEN_HEX // 2), key=key, intent=intent)

    @property
    def proves_owner(self) -> bool:
        """True when the key names one resource of one stack (not a legacy key)."""
        return is_owner_key(self.key) and _is_hex(self.intent, INTENT_HEX)

    def __str__(self) -> str:
        if self.key and self.intent:
            return f"[pvb:{self.key}.{self.intent}.{self.token}]"
        return f"[pvb:{self.key}.{self.token}]" if self.key else f"[pvb:{self.token}]"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def _is_hex(value: object, length: int) -> bool:
    return isinstance(value, str) and re.fullmatch(rf"[0-9a-f]{{{length}}}", value) is not None


IDENTITY_HEX = 32


def new_identity() -> str:
    """A stack identity: 128 random bits, as 32 lowercase hex digits."""
    return secrets.token_hex(IDENTITY_HEX // 2)


def is_identity(value: object) -> bool:
    """True for a stack identity as `new_identity` makes them."""
    return _is_hex(value, IDENTITY_HEX)


def is_owner_key(value: object) -> bool:
    """True for an owner key (16 lowercase hex digits)."""
    return _is_hex(value, OWNER_HEX)


def stack_tag(identity: str) -> str:
    """The first part of every owner key of the stack whose identity this is."""
    return _digest("vpsbackup-stack", identity)[:TAG_HEX]


def owner_key(identity: str, *parts: str) -> str:
    """The owner key of one resource: its stack's tag, then a hash of the stack's
    identity and what names the resource in the stack (type, parent, name)."""
    if not identity:
        raise ValueError("an owner key needs the stack's identity")
    return stack_tag(identity) + _digest("vpsbackup-owner", identity, *parts)[: OWNER_HEX - TAG_HEX]


def derived_key(key: str, *parts: str) -> str:
    """The owner key of a part of a resource (a fleet's backup of one server): the
    same stack tag, and a hash of the resource's key and `parts`."""
    if not is_owner_key(key):
        raise ValueError("derived_key needs an owner key")
    return key[:TAG_HEX] + _digest("vpsbackup-part", key, *parts)[: OWNER_HEX - TAG_HEX]


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def intent_digest(server_id: int, description: str | None, triggers: Any) -> str:
    """What a backup is for, as 8 hex digits: the same server, description and
    triggers give the same digest in every run (engine floats read as ints)."""
    shown = json.dumps(_canonical(triggers), sort_keys=True, separators=(",", ":"), default=str)
    return _digest("vpsbackup-intent", str(int(server_id)), description or "", shown)[:INTENT_HEX]


def with_marker(description: str | None, marker: Marker) -> str:
    """The description to send: the caller's, then the marker."""
    return f"{description} {marker}" if description else str(marker)


def parse_marker(description: str | None) -> Marker | None:
    """The marker at the end of a description, if it has one."""
    match = _MARKER.search(description or "")
    if match is None:
        return None
    if match["owner"]:
        return Marker(token=match["token"], key=match["owner"], intent=match["intent"])
    return Marker(token=match["token"], key=match["legacy"])


def strip_marker(description: str | None) -> str | None:
    """The description without its marker (as the user wrote it); None stays None."""
    if description is None:
        return None
    match = _MARKER.search(description)
    return description[: match.start()] if match else description
