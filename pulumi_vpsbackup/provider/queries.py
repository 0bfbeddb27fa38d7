"""Functions that query existing backups from a Pulumi program.

Dynamic providers cannot serve Pulumi invokes, so these run in the program's
own process: they read `vpsbackup:apiToken` / `vpsbackup:apiUrl` from the
stack configuration (or `VPS_API_TOKEN` / `VPS_API_URL`) and call the API
directly. They run during `pulumi preview` too, as a read should.

Each comes in two forms, as in Pulumi's own packages: `get_backups(...)` takes
and returns plain values; `get_backups_output(...)` takes Inputs and returns an
Output.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pulumi
import pulumi.runtime

from ..client import Backup, VpsBackupError, VpsClient, resolve_settings
from . import validation as v

BACKUP_TYPES = ("manual", "automatic")


class BackupInfo(dict[str, Any]):
    """One backup as a query returns it: plain values, ISO-8601 timestamps.

    A dict (so `pulumi.export` and `apply` take it as it is) whose keys are
    also readable as attributes: ``info.id``, ``info["id"]``.
    """

    FIELDS = (
        "id",
        "server_id",
        "server_name",
        "backup_type",
        "status",
        "size_mb",
        "created_at",
        "expires_at",
        "description",
    )

    def __getattr__(self, name: str) -> Any:
        if name in BackupInfo.FIELDS:
            return self.get(name)
        raise AttributeError(name)

    @classmethod
    def from_backup(cls, backup: Backup) -> BackupInfo:
        def iso(value: Any) -> str | None:
            return None if value is None else str(value.isoformat()).replace("+00:00", "Z")

        return cls(
            id=backup.id,
            server_id=backup.server_id,
            server_name=backup.server_name,
            backup_type=backup.backup_type,
            status=backup.status,
            size_mb=backup.size_mb,
            created_at=iso(backup.created_at),
            expires_at=iso(backup.expires_at),
            description=backup.description,
        )


class GetBackupsResult(dict[str, Any]):
    """What `get_backups` found, newest first: ``result.backups``, ``result.ids``."""

    def __init__(self, backups: list[BackupInfo]) -> None:
        super().__init__(backups=backups, ids=[b["id"] for b in backups])

    @property
    def backups(self) -> list[BackupInfo]:
        return list(self["backups"])

    @property
    def ids(self) -> list[int]:
        return list(self["ids"])


def _stack_setting(key: str) -> str | None:
    value = pulumi.runtime.get_config(f"vpsbackup:{key}")
    return str(value) if value not in (None, "") else None


def _client() -> VpsClient:
    config = {
        f"vpsbackup:{key}": value
        for key in ("apiToken", "apiUrl")
        if (value := _stack_setting(key)) is not None
    }
    return VpsClient(resolve_settings(config=config, environ=os.environ))


def _validate_filters(
    server_id: Any, backup_type: Any, status: Any, description: Any, description_regex: Any
) -> tuple[int | None, str | None, re.Pattern[str] | None]:
    sid = v.positive_id("server_id", server_id) if server_id is not None else None
    if backup_type is not None and backup_type not in BACKUP_TYPES:
        raise v.FieldError(
            "backup_type", f"must be one of {', '.join(BACKUP_TYPES)}, got {backup_type!r}"
        )
    if status is not None and not isinstance(status, str):
        raise v.FieldError("status", f"must be a string such as 'completed', got {status!r}")
    if description is not None and not isinstance(description, str):
        raise v.FieldError("description", f"must be a string, got {description!r}")
    pattern = None
    if description_regex is not None:
        try:
            pattern = re.compile(str(description_regex))
        except re.error as exc:
            raise v.FieldError(
                "description_regex", f"is not a valid regular expression ({exc})"
            ) from exc
    return sid, backup_type, pattern


def get_backups(
    server_id: int | None = None,
    backup_type: str | None = None,
    status: str | None = None,
    description: str | None = None,
    description_regex: str | None = None,
) -> GetBackupsResult:
    """Backups visible to the token, newest first, filtered.

    :param server_id: only this server's backups.
    :param backup_type: ``"manual"`` or ``"automatic"``.
    :param status: e.g. ``"completed"``.
    :param description: exact description.
    :param description_regex: a regular expression searched in the description.
    """
    sid, btype, pattern = _validate_filters(
        server_id, backup_type, status, description, description_regex
    )
    with _client() as client:
        backups = client.list_backups(server_id=sid, backup_type=btype)
    selected = [
        b
        for b in backups
        if (status is None or b.status == status)
        and (description is None or b.description == description)
        and (pattern is None or pattern.search(b.description or "") is not None)
    ]
    selected.sort(key=_newest_first_key)
    return GetBackupsResult([BackupInfo.from_backup(b) for b in selected])


def _newest_first_key(backup: Backup) -> tuple[float, int]:
    stamp = backup.created_at.timestamp() if backup.created_at is not None else 0.0
    return (-stamp, -backup.id)


def get_latest_backup(
    server_id: int | None = None,
    backup_type: str | None = None,
    status: str | None = "completed",
    description: str | None = None,
    description_regex: str | None = None,
) -> BackupInfo:
    """The newest backup matching the filters (completed ones by default).

    Raises a `VpsBackupError` naming the filters when nothing matches.
    """
    found = get_backups(server_id, backup_type, status, description, description_regex)
    if not found.backups:
        filters = {
            "server_id": server_id,
            "backup_type": backup_type,
            "status": status,
            "description": description,
            "description_regex": description_regex,
        }
        shown = ", ".join(f"{k}={val!r}" for k, val in filters.items() if val is not None)
        raise VpsBackupError(
            f"get_latest_backup: no backup matches {shown or 'the (empty) filters'}; "
            "list what exists with get_backups()"
        )
    return found.backups[0]


def get_backups_output(
    server_id: pulumi.Input[int | None] = None,
    backup_type: pulumi.Input[str | None] = None,
    status: pulumi.Input[str | None] = None,
    description: pulumi.Input[str | None] = None,
    description_regex: pulumi.Input[str | None] = None,
) -> pulumi.Output[GetBackupsResult]:
    """`get_backups` for Inputs: runs once every argument is known."""
    return pulumi.Output.all(server_id, backup_type, status, description, description_regex).apply(
        lambda args: get_backups(*args)
    )


def get_latest_backup_output(
    server_id: pulumi.Input[int | None] = None,
    backup_type: pulumi.Input[str | None] = None,
    status: pulumi.Input[str | None] = "completed",
    description: pulumi.Input[str | None] = None,
    description_regex: pulumi.Input[str | None] = None,
) -> pulumi.Output[BackupInfo]:
    """`get_latest_backup` for Inputs: runs once every argument is known."""
    return pulumi.Output.all(server_id, backup_type, status, description, description_regex).apply(
        lambda args: get_latest_backup(*args)
    )


__all__ = [
    "BackupInfo",
    "GetBackupsResult",
    "VpsBackupError",
    "get_backups",
    "get_backups_output",
    "get_latest_backup",
    "get_latest_backup_output",
]
