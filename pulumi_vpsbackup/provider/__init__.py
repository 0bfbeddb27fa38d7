"""Pulumi resources and queries for VPS.org backups (dynamic providers).

`__all__` is what a program uses: the resources and their arguments,
`Account`, the query functions and what they return, and `FieldError` (an
input a query refuses). The `ResourceProvider` classes behind the resources
(`BackupProvider`, `RestoreProvider`, `RotationProvider`, `FleetProvider`) run
only in Pulumi's provider host; they stay importable here for tests and
benchmarks, and are referenced by their module path from every stack's state.
"""

from __future__ import annotations

from .backup import Backup, BackupArgs
from .backup.provider import BackupProvider as BackupProvider  # importable, not advertised
from .core.account import Account
from .core.validation import FieldError
from .fleet import BackupFleet, BackupFleetArgs
from .fleet.provider import FleetProvider as FleetProvider  # importable, not advertised
from .queries import functions as _queries
from .queries.functions import *  # noqa: F403 - the query functions, by their __all__
from .queries.results import BackupInfo, GetBackupsResult
from .restore import Restore, RestoreArgs
from .restore.provider import RestoreProvider as RestoreProvider
from .rotation import BackupRotation, BackupRotationArgs
from .rotation.provider import RotationProvider as RotationProvider

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
