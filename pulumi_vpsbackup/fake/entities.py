"""The fake's records: servers, backups and restore attempts.

Plain mutable dataclasses owned by :class:`~pulumi_vpsbackup.fake.model.VpsModel`
and only touched under its lock. Each knows how to turn itself into the public
JSON shape and into (and back from) the state file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import format_time, parse_time

__all__ = ["StoredBackup", "StoredRestore", "StoredServer"]


def _opt_time(value: datetime | None) -> str | None:
    return format_time(value) if value is not None else None


def _opt_parse(value: Any) -> datetime | None:
    return parse_time(value) if value is not None else None


@dataclass
class StoredRestore:
    """The latest restore of a server, shown as ``last_restore`` in GET server.

    The outcome is decided when the restore starts (seeded), so a run is
    reproducible; ``status`` only flips once ``finishes_at`` has passed.
    """

    backup_id: int
    started_at: datetime
    finishes_at: datetime
    will_fail: bool
    status: str = "in_progress"
    finished_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        return {
            "backup_id": self.backup_id,
            "status": self.status,
            "started_at": format_time(self.started_at),
            "finished_at": _opt_time(self.finished_at),
        }

    def to_state(self) -> dict[str, Any]:
        data = self.public()
        data["finishes_at"] = format_time(self.finishes_at)
        data["will_fail"] = self.will_fail
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> StoredRestore:
        return cls(
            backup_id=int(data["backup_id"]),
            started_at=parse_time(data["started_at"]),
            finishes_at=parse_time(data["finishes_at"]),
            will_fail=bool(data["will_fail"]),
            status=str(data["status"]),
            finished_at=_opt_parse(data.get("finished_at")),
        )


@dataclass
class StoredServer:
    id: int
    name: str
    hostname: str
    status: str
    ip_address: str
    location: str
    plan: dict[str, Any]
    os: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    last_restore: StoredRestore | None = None

    @property
    def storage_gb(self) -> int:
        try:
            return int(self.plan.get("storage", 25))
        except (TypeError, ValueError):
            return 25

    def ref(self) -> dict[str, Any]:
        """The short ``{"id", "name"}`` form embedded in backups and restores."""
        return {"id": self.id, "name": self.name}

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "hostname": self.hostname,
            "status": self.status,
            "ip_address": self.ip_address,
            "location": self.location,
            "plan": dict(self.plan),
            "os": dict(self.os),
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
            "last_restore": self.last_restore.public() if self.last_restore else None,
        }

    def to_state(self) -> dict[str, Any]:
        data = self.public()
        data["last_restore"] = self.last_restore.to_state() if self.last_restore else None
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> StoredServer:
        restore = data.get("last_restore")
        return cls(
            id=int(data["id"]),
            name=str(data["name"]),
            hostname=str(data["hostname"]),
            status=str(data["status"]),
            ip_address=str(data["ip_address"]),
            location=str(data["location"]),
            plan=dict(data["plan"]),
            os=dict(data["os"]),
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
            last_restore=StoredRestore.from_state(restore) if restore else None,
        )


@dataclass
class StoredBackup:
    id: int
    server_id: int
    server_name: str
    backup_type: str
    status: str
    size_mb: int | None
    created_at: datetime
    expires_at: datetime | None
    description: str
    will_fail: bool = False
    """Outcome drawn at creation from the seeded generator (reproducible)."""
    reads: int = 0
    """How many list reads returned it while still running (``reads`` mode)."""
    finished_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "server": {"id": self.server_id, "name": self.server_name},
            "backup_type": self.backup_type,
            "status": self.status,
            "size_mb": self.size_mb,
            "created_at": format_time(self.created_at),
            "expires_at": _opt_time(self.expires_at),
            "description": self.description,
        }

    def to_state(self) -> dict[str, Any]:
        data = self.public()
        data.update(
            will_fail=self.will_fail,
            reads=self.reads,
            finished_at=_opt_time(self.finished_at),
        )
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> StoredBackup:
        size = data.get("size_mb")
        return cls(
            id=int(data["id"]),
            server_id=int(data["server"]["id"]),
            server_name=str(data["server"]["name"]),
            backup_type=str(data["backup_type"]),
            status=str(data["status"]),
            size_mb=int(size) if size is not None else None,
            created_at=parse_time(data["created_at"]),
            expires_at=_opt_parse(data.get("expires_at")),
            description=str(data.get("description") or ""),
            will_fail=bool(data.get("will_fail", False)),
            reads=int(data.get("reads", 0)),
            finished_at=_opt_parse(data.get("finished_at")),
        )
