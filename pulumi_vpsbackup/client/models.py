"""Typed, immutable views of what the API returns.

Every ``from_dict`` ignores keys it does not know, keeps unknown statuses as
plain strings, accepts ``null`` where a value may be missing and turns a
timestamp it cannot parse into ``None``: a new or odd field on the server must
never break an existing stack. Only an object without an ``id`` is refused
(``ValueError``), since nothing can be done with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Literal

from .status import RESTORE_CLOCK_TOLERANCE, StatusPhase, status_phase

__all__ = [
    "AccountRecord",
    "BackupRecord",
    "BackupStatus",
    "BackupType",
    "RestoreRecord",
    "RestoreResult",
    "Server",
    "ServerRef",
    "format_timestamp",
    "parse_timestamp",
]

BackupStatus = Literal["in_progress", "completed", "failed"]
BackupType = Literal["manual", "automatic"]


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


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, _Model):
        return value.to_dict()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return value


class _Model:
    """The shared ``to_dict`` of the dataclasses below."""

    def to_dict(self) -> dict[str, Any]:
        """Every field in order, JSON-ready, in the API's own shape."""
        return {f.name: _json(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


def _require_id(data: Mapping[str, Any], what: str) -> int:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a JSON object for a {what}, got {type(data).__name__}")
    ident = _int(data.get("id"))
    if ident is None:
        raise ValueError(f"a {what} without an integer id: {sorted(data)!r}")
    return ident


@dataclass(frozen=True)
class ServerRef(_Model):
    """The short server reference inside a backup."""

    id: int
    name: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServerRef:
        return cls(id=_require_id(data, "server"), name=_str(data.get("name")))


@dataclass(frozen=True)
class BackupRecord(_Model):
    """One backup of one server, as the API lists it (not the ``Backup`` resource)."""

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
    def phase(self) -> StatusPhase:
        """``running``, ``succeeded``, ``failed`` or ``unknown`` (see :mod:`.status`)."""
        return status_phase(self.status)

    @property
    def is_in_progress(self) -> bool:
        """Still being made (``in_progress``, ``queued``, ...): wait for it."""
        return self.phase == "running"

    @property
    def is_completed(self) -> bool:
        """Made, and so restorable."""
        return self.phase == "succeeded"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackupRecord:
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


@dataclass(frozen=True)
class Server(_Model):
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

    @property
    def restore_record(self) -> RestoreRecord | None:
        """``last_restore`` parsed, or None when the server has none."""
        return RestoreRecord.from_dict(self.last_restore)


@dataclass(frozen=True)
class RestoreRecord:
    """A server's ``last_restore``: which backup, how it is going, when it ran.

    The API documents no shape for it; this reads ``backup_id`` or
    ``backup.id``, ``status`` (classified by :func:`.status.status_phase`),
    ``started_at`` (or ``requested_at``, ``created_at``) and ``finished_at``.
    ``raw`` keeps the record as sent, for messages.
    """

    backup_id: int | None
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: Any) -> RestoreRecord | None:
        """The record in ``data``; None for a missing or empty one."""
        if not isinstance(data, Mapping) or not data:
            return None
        backup = data.get("backup")
        raw_backup = data.get("backup_id")
        if raw_backup is None and isinstance(backup, Mapping):
            raw_backup = backup.get("id")
        started = next(
            (data[k] for k in ("started_at", "requested_at", "created_at") if data.get(k)), None
        )
        return cls(
            backup_id=_int(raw_backup),
            status=(_str(data.get("status")) or "").strip().lower(),
            started_at=parse_timestamp(started),
            finished_at=parse_timestamp(data.get("finished_at")),
            raw=dict(data),
        )

    @property
    def phase(self) -> StatusPhase:
        """``running``, ``succeeded``, ``failed`` or ``unknown`` (see :mod:`.status`)."""
        return status_phase(self.status)

    def may_be(self, backup_id: int, requested_at: datetime | str | None) -> bool:
        """Whether this can be the restore of ``backup_id`` requested at ``requested_at``.

        It must name that backup and, when both times are known, have started
        no earlier than the request (less :data:`.status.RESTORE_CLOCK_TOLERANCE`).
        """
        if self.backup_id != backup_id:
            return False
        requested = parse_timestamp(requested_at)
        if self.started_at is None or requested is None:
            return True
        return self.started_at >= requested - RESTORE_CLOCK_TOLERANCE

    def describe(self) -> str:
        """``last_restore: key=value, ...`` for error messages (not redacted here)."""
        parts = [f"{k}={self.raw[k]}" for k in sorted(self.raw) if self.raw[k] is not None]
        return "last_restore: " + ", ".join(parts)


@dataclass(frozen=True)
class AccountRecord(_Model):
    """The account and the token in use (``GET /account/me/``; not the ``Account`` input)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    created_at: datetime | None = None
    token_name: str | None = None
    permissions: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccountRecord:
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


@dataclass(frozen=True)
class RestoreResult(_Model):
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
