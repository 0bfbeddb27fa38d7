"""Pulumi resources and queries for VPS.org backups (dynamic providers).

`__all__` is what a program uses: the resources and their arguments,
`Account`, the query functions and what they return, and `FieldError` (an
input a query refuses). The `ResourceProvider` classes behind the resources
(`BackupProvider`, `RestoreProvider`, `RotationProvider`, `FleetProvider`) run
only in Pulumi's provider host; they stay importable here for tests and
benchmarks, and are referenced by their module path from every stack's state.
"""

from __future__ import annotations

from .backup.provider import BackupProvider as BackupProvider  # importable, not advertised
from .backup.resource import Backup, BackupArgs
from .core.account import Account
from .core.validation import FieldError
from .fleet.provider import FleetProvider as FleetProvider  # importable, not advertised
from .fleet.resource import BackupFleet, BackupFleetArgs
from .queries import functions as _queries
from .queries.functions import *  # noqa: F403 - the query functions, by their __all__
from .queries.results import BackupInfo, GetBackupsResult
from .restore.provider import RestoreProvider as RestoreProvider
from .restore.resource import Restore, RestoreArgs
from .rotation.provider import RotationProvider as RotationProvider
from .rotation.resource import BackupRotation, BackupRotationArgs

__all__ = [
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
    *_queries.__all__,
]
