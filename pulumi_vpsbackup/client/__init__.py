"""The HTTP client for the VPS.org Backups API, used by every other layer.

    from pulumi_vpsbackup.client import VpsClient, resolve_settings

    with VpsClient(resolve_settings(token="vps_...")) as client:
        backup = client.create_backup(12345, "before deploy")
        client.wait_for_backup(backup.id, server_id=12345, timeout=1800)

Modules: ``api`` (``VpsClient``), ``settings``, ``secret`` (the token wrapper),
``transport`` (retries, redirects; the retry policy is in its docstring),
``responses``, ``listing`` (paged listings), ``reconcile`` (a create or restore
whose answer was lost), ``models`` (``...Record``: ``Backup`` and ``Account``
are the provider's), ``status``, ``errors`` (the tree is in its docstring),
``polling``, ``waiting``, ``fanout``, ``spread``, ``cache``, ``marker``,
``echo``. Importing reads no environment and opens no connection.
"""

from __future__ import annotations

from .api import VpsClient
from .errors import (
    ApiError,
    AuthenticationError,
    BackupFailedError,
    BackupVanishedError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    CreateReconciliationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RedirectError,
    RestoreFailedError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    VpsBackupError,
    WaitCancelledError,
    WaitError,
    WaitTimeoutError,
)
from .models import (
    AccountRecord,
    BackupRecord,
    BackupStatus,
    BackupType,
    RestoreRecord,
    RestoreResult,
    Server,
    ServerRef,
)
from .polling import PollPolicy
from .secret import Secret
from .settings import (
    DEFAULT_BASE_URL,
    TOKEN_CONFIG_KEY,
    TOKEN_ENV,
    URL_CONFIG_KEY,
    URL_ENV,
    ClientSettings,
    Credentials,
    resolve_settings,
)
from .status import (
    FAILED_STATUSES,
    RUNNING_STATUSES,
    SUCCEEDED_STATUSES,
    StatusPhase,
    status_phase,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "FAILED_STATUSES",
    "RUNNING_STATUSES",
    "SUCCEEDED_STATUSES",
    "TOKEN_CONFIG_KEY",
    "TOKEN_ENV",
    "URL_CONFIG_KEY",
    "URL_ENV",
    "AccountRecord",
    "ApiError",
    "AuthenticationError",
    "BackupFailedError",
    "BackupRecord",
    "BackupStatus",
    "BackupType",
    "BackupVanishedError",
    "BadRequestError",
    "ClientSettings",
    "ConfigurationError",
    "ConflictError",
    "CreateReconciliationError",
    "Credentials",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitedError",
    "RedirectError",
    "RestoreFailedError",
    "RestoreRecord",
    "RestoreResult",
    "Secret",
    "Server",
    "ServerError",
    "ServerRef",
    "StatusPhase",
    "TransportError",
    "UnexpectedResponseError",
    "VpsBackupError",
    "VpsClient",
    "WaitCancelledError",
    "WaitError",
    "WaitTimeoutError",
    "resolve_settings",
    "status_phase",
]
