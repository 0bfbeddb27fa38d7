"""VPS.org server backups as code: Pulumi resources, queries and an API client.

    import pulumi_vpsbackup as vps

    backup = vps.Backup("before-deploy", server_id=12345, triggers=[app_version])
    vps.Restore("rollback", server_id=12345, backup_id=some_backup_id)
    latest = vps.get_latest_backup(server_id=12345)

Settings: stack config `vpsbackup:apiToken` (secret) and `vpsbackup:apiUrl`,
or the environment variables `VPS_API_TOKEN` and `VPS_API_URL`. Importing this
package reads no environment, opens no connection and registers no resource.

Exceptions all derive from `VpsBackupError` (see `pulumi_vpsbackup.client.errors`).
"""

from __future__ import annotations

from ._version import __version__
from .client.errors import (
    ApiError,
    AuthenticationError,
    BackupFailedError,
    ConfigurationError,
    CreateReconciliationError,
    NotFoundError,
    RateLimitedError,
    RestoreFailedError,
    TransportError,
    VpsBackupError,
    WaitTimeoutError,
)
from .provider import (
    Account,
    Backup,
    BackupArgs,
    BackupFleet,
    BackupFleetArgs,
    BackupInfo,
    BackupRotation,
    BackupRotationArgs,
    GetBackupsResult,
    Restore,
    RestoreArgs,
    get_backups,
    get_backups_output,
    get_latest_backup,
    get_latest_backup_output,
    wait_for_backups,
    wait_for_backups_output,
)

__all__ = [
    "Account",
    "ApiError",
    "AuthenticationError",
    "Backup",
    "BackupArgs",
    "BackupFailedError",
    "BackupFleet",
    "BackupFleetArgs",
    "BackupInfo",
    "BackupRotation",
    "BackupRotationArgs",
    "ConfigurationError",
    "CreateReconciliationError",
    "GetBackupsResult",
    "NotFoundError",
    "RateLimitedError",
    "Restore",
    "RestoreArgs",
    "RestoreFailedError",
    "TransportError",
    "VpsBackupError",
    "WaitTimeoutError",
    "__version__",
    "get_backups",
    "get_backups_output",
    "get_latest_backup",
    "get_latest_backup_output",
    "wait_for_backups",
    "wait_for_backups_output",
]
