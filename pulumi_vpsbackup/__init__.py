"""VPS.org server backups as code: Pulumi resources, queries and an API client.

    import pulumi_vpsbackup as vps

    backup = vps.Backup("before-deploy", server_id=12345, triggers=[app_version])
    vps.Restore("rollback", server_id=12345, backup_id=some_backup_id)
    latest = vps.get_latest_backup(server_id=12345)

Settings: stack config `vpsbackup:apiToken` (secret) and `vpsbackup:apiUrl`,
or the environment variables `VPS_API_TOKEN` and `VPS_API_URL`. Importing this
package reads no environment, opens no connection and registers no resource.

The public surface is `pulumi_vpsbackup.provider.__all__` (resources, their
arguments, `Account`, the query functions and their results, `FieldError`)
and every error of `pulumi_vpsbackup.client.errors` (all derive from
`VpsBackupError`; the tree is drawn in that module's docstring), so that
any error can be caught as `vps.SomeError`.

The names load on first use (PEP 562): `import pulumi_vpsbackup` costs about a
millisecond, and a program that only queries backups never imports the
dynamic-provider machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__
    from .client.errors import *  # noqa: F403
    from .provider import *  # noqa: F403

#: Where each public name lives: the error tree, and the provider's surface
#: (tests/provider/test_public_surface.py holds these equal to the modules' __all__).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "pulumi_vpsbackup.client.errors": (
        "ApiError",
        "AuthenticationError",
        "BackupFailedError",
        "BackupVanishedError",
        "BadRequestError",
        "ConfigurationError",
        "ConflictError",
        "CreateReconciliationError",
        "NotFoundError",
        "PermissionDeniedError",
        "RateLimitedError",
        "RedirectError",
        "RestoreFailedError",
        "ServerError",
        "TransportError",
        "UnexpectedResponseError",
        "VpsBackupError",
        "WaitError",
        "WaitTimeoutError",
    ),
    "pulumi_vpsbackup.provider": (
        "Account",
        "Backup",
        "BackupArgs",
        "BackupFleet",
        "BackupFleetArgs",
        "BackupInfo",
        "BackupRotation",
        "BackupRotationArgs",
        "FieldError",
        "GetBackupsResult",
        "Restore",
        "RestoreArgs",
        "get_backups",
        "get_backups_output",
        "get_latest_backup",
        "get_latest_backup_output",
        "wait_for_backups",
        "wait_for_backups_output",
    ),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = ["__version__", *_HOME]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
