"""Typed, immutable views of what the API returns.

Every ``from_dict`` ignores keys it does not know, keeps unknown statuses as
plain strings, accepts ``null`` where a value may be missing and turns a
timestamp it cannot parse into ``None``: a new or odd field on the server must
never break an existing stack. Only an object without an ``id`` is refused
(``ValueError``), since nothing can be done with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

__all__ = [
    "Account",
    "Backup",
    "BackupStatus",
    "BackupType",
    "RestoreResult",
    "Server",
    "ServerRef",
    "format_timestamp",
    "parse_timestamp",
]

BackupStatus = Literal["in_progress", "completed", "failed"]
BackupType = Literal["manual", "automatic"]

#: Statuses that mean "still running". Only ``in_progress`` is documented; the
#: others are common spellings of the same thing and are waited on, not failed.
RUNNING_BACKUP_STATUSES = frozenset({"in_progress", "pending", "queued", "running", "creating"})


def parse_timestamp(value: Any) -> datetime | None:
    """ISO-8601 (``Z`` or offset) to an aware datetime; naive means UTC; junk means None."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def format_timestamp(value: datetime | None) -> str | None:
    """The API's own format: ``2025-01-16T03:00:00Z`` (UTC), or None."""
    if value is None:
        return None
    text = value.astimezone(timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _dict(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


def _require_id(data: Mapping[str, Any], what: str) -> int:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a JSON object for a {what}, got {type(data).__name__}")
    ident = _int(data.get("id"))
    if ident is None:
        raise ValueError(f"a {what} without an integer id: {sorted(data)!r}")
    return ident


@dataclass(frozen=True)
class ServerRef:
    """The short server reference inside a backup."""

    id: int
    name: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServerRef:
        return cls(id=_require_id(data, "server"), name=_str(data.get("name")))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class Backup:
    """One backup of one server."""

    id: int
    server: ServerRef
    backup_type: str
    status: str
    size_mb: int | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    description: str | None = None
    message: str | None = None

    @property
    def server_id(self) -> int:
        return self.server.id

    @property
    def server_name(self) -> str | None:
        return self.server.name

    @property
    def is_in_progress(self) -> bool:
        return self.status in RUNNING_BACKUP_STATUSES

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Backup:
        ident = _require_id(data, "backup")
        raw_server = data.get("server")
        if isinstance(raw_server, Mapping) and _int(raw_server.get("id")) is not None:
            server = ServerRef.from_dict(raw_server)
        else:
            server_id = _int(raw_server) if raw_server is not None else _int(data.get("server_id"))
            if server_id is None:
                raise ValueError(f"backup {ident} names no server")
            server = ServerRef(id=server_id, name=_str(data.get("server_name")))
        return cls(
            id=ident,
            server=server,
            backup_type=_str(data.get("backup_type")) or "unknown",
            status=_str(data.get("status")) or "unknown",
            size_mb=_int(data.get("size_mb")),
            created_at=parse_timestamp(data.get("created_at")),
            expires_at=parse_timestamp(data.get("expires_at")),
            description=_str(data.get("description")),
            message=_str(data.get("message")),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the API's own shape."""
        return {
            "id": self.id,
            "server": self.server.to_dict(),
            "backup_type": self.backup_type,
            "status": self.status,
            "size_mb": self.size_mb,
            "created_at": format_timestamp(self.created_at),
            "expires_at": format_timestamp(self.expires_at),
            "description": self.description,
            "message": self.message,
        }


@dataclass(frozen=True)
class Server:
    """A VPS as the servers listing shows it."""

    id: int
    name: str | None = None
    hostname: str | None = None
    status: str = "unknown"
    ip_address: str | None = None
    location: str | None = None
    plan: dict[str, Any] | None = None
    os: dict[str, Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_restore: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Server:
        return cls(
            id=_require_id(data, "server"),
            name=_str(data.get("name")),
            hostname=_str(data.get("hostname")),
            status=_str(data.get("status")) or "unknown",
            ip_address=_str(data.get("ip_address")),
            location=_str(data.get("location")),
            plan=_dict(data.get("plan")),
            os=_dict(data.get("os")),
            created_at=parse_timestamp(data.get("created_at")),
            updated_at=parse_timestamp(data.get("updated_at")),
            last_restore=_dict(data.get("last_restore")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "hostname": self.hostname,
            "status": self.status,
            "ip_address": self.ip_address,
            "location": self.location,
            "plan": dict(self.plan) if self.plan is not None else None,
            "os": dict(self.os) if self.os is not None else None,
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
            "last_restore": dict(self.last_restore) if self.last_restore is not None else None,
        }


@dataclass(frozen=True)
class Account:
    """The account and the token in use (``GET /account/me/``)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    created_at: datetime | None = None
    token_name: str | None = None
    permissions: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Account:
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a JSON object for the account, got {type(data).__name__}")
        account = data.get("account")
        account = account if isinstance(account, Mapping) else data
        token = data.get("token")
        token = token if isinstance(token, Mapping) else {}
        raw_permissions = token.get("permissions")
        permissions = (
            tuple(str(p) for p in raw_permissions) if isinstance(raw_permissions, list) else ()
        )
        return cls(
            email=_str(account.get("email")),
            first_name=_str(account.get("first_name")),
            last_name=_str(account.get("last_name")),
            company_name=_str(account.get("company_name")),
            created_at=parse_timestamp(account.get("created_at")),
            token_name=_str(token.get("name")),
            permissions=permissions,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company_name": self.company_name,
            "created_at": format_timestamp(self.created_at),
            "token_name": self.token_name,
            "permissions": list(self.permissions),
        }


@dataclass(frozen=True)
class RestoreResult:
    """The answer to a restore request.

    ``status`` is the API's word (``success`` in the snapshot API's model) or
    ``accepted`` when the answer was lost and the server's state showed the
    restore had started.
    """

    status: str
    message: str | None
    server_id: int
    server_status: str | None
    backup_id: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, server_id: int, backup_id: int) -> RestoreResult:
        """Parse the response; the request's ids fill in what the body leaves out."""
        if not isinstance(data, Mapping):
            data = {}
        server = data.get("server")
        server = server if isinstance(server, Mapping) else {}
        backup = data.get("backup")
        backup = backup if isinstance(backup, Mapping) else {}
        return cls(
            status=_str(data.get("status")) or "unknown",
            message=_str(data.get("message")),
            server_id=_int(server.get("id")) or server_id,
            server_status=_str(server.get("status")) or _str(data.get("server_status")),
            backup_id=_int(backup.get("id")) or _int(data.get("backup_id")) or backup_id,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "server_id": self.server_id,
            "server_status": self.server_status,
            "backup_id": self.backup_id,
        }
