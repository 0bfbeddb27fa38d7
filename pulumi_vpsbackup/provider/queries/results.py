"""What the queries return: `BackupInfo` (one backup) and `GetBackupsResult`.

Both are Pulumi "input types": the SDK keeps such an object whole through
`apply` (a dict would come back as a plain dict) and turns it into a map for
`pulumi.export`. Their fields are declared once, as annotations, from which
the SDK makes the properties. `BackupInfo`'s fields are also what a `Backup`
resource reports about its backup (`backup/declaration.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pulumi

from ...client import BackupRecord
from ...client.marker import strip_marker

__all__ = ["BackupInfo", "GetBackupsResult"]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


@pulumi.input_type
class BackupInfo:
    """One backup as a query returns it: plain values, ISO-8601 timestamps.

    Pass it (or a list of them) to `pulumi.export` as it is.

    :param int id: the backup's id.
    :param int server_id: the server it belongs to.
    :param str server_name: that server's name.
    :param str backup_type: ``"manual"`` or ``"automatic"``.
    :param str status: ``"in_progress"``, ``"completed"``, ``"failed"`` or
        whatever new status the API reports.
    :param int size_mb: its size, once known.
    :param str created_at: when it was started (ISO-8601, ``...Z``).
    :param str expires_at: when VPS.org deletes it (ISO-8601; ``None`` for
        manual backups, which never expire).
    :param str description: the text stored with it, or ``None``.
    """

    id: int
    server_id: int
    server_name: str | None
    backup_type: str
    status: str
    size_mb: int | None
    created_at: str | None
    expires_at: str | None
    description: str | None

    def __init__(
        self,
        *,
        id: int,
        server_id: int,
        server_name: str | None = None,
        backup_type: str,
        status: str,
        size_mb: int | None = None,
        created_at: str | None = None,
        expires_at: str | None = None,
        description: str | None = None,
    ) -> None:
        pulumi.set(self, "id", int(id))
        pulumi.set(self, "server_id", int(server_id))
        pulumi.set(self, "server_name", server_name)
        pulumi.set(self, "backup_type", str(backup_type))
        pulumi.set(self, "status", str(status))
        pulumi.set(self, "size_mb", size_mb)
        pulumi.set(self, "created_at", created_at)
        pulumi.set(self, "expires_at", expires_at)
        pulumi.set(self, "description", description)

    @classmethod
    def from_backup(cls, backup: BackupRecord) -> BackupInfo:
        """The query result for a backup the API client returned.

        :param BackupRecord backup: a `pulumi_vpsbackup.client.BackupRecord`.
        """
        return cls(
            id=backup.id,
            server_id=backup.server_id,
            server_name=backup.server_name,
            backup_type=backup.backup_type,
            status=backup.status,
            size_mb=backup.size_mb,
            created_at=_iso(backup.created_at),
            expires_at=_iso(backup.expires_at),
            description=strip_marker(backup.description),
        )

    def to_dict(self) -> dict[str, Any]:
        """The backup as a plain dict (field name to value)."""
        return dict(vars(self))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BackupInfo) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"BackupInfo({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


@pulumi.input_type
class GetBackupsResult:
    """What `get_backups` found, newest first: ``result.backups``, ``result.ids``.

    :param list[BackupInfo] backups: the matching backups, newest first.
    """

    def __init__(self, *, backups: list[BackupInfo]) -> None:
        pulumi.set(self, "backups", list(backups))

    @property
    @pulumi.getter
    def backups(self) -> list[BackupInfo]:
        """The matching backups, newest first."""
        return list(pulumi.get(self, "backups"))

    @property
    def ids(self) -> list[int]:
        """The ids of `backups`, in the same order."""
        return [b.id for b in self.backups]
