"""Pulumi resources and queries for VPS.org backups (dynamic providers).

`__all__` is what a program uses: the resources and their arguments,
`Account`, the query functions and what they return, and `FieldError` (an
input a query refuses). The `ResourceProvider` classes behind the resources
(`BackupProvider`, `RestoreProvider`, `RotationProvider`, `FleetProvider`) run
only in Pulumi's provider host; they stay importable here for tests and
benchmarks, and are referenced by their module path from every stack's state.
"""

from __future__ import annotations

from . import queries as _queries
from .account import Account
from .backup import BackupProvider as BackupProvider  # importable, not advertised
from .fleet import FleetProvider as FleetProvider  # importable, not advertised
from .fleet_resource import BackupFleet, BackupFleetArgs
from .queries import *  # noqa: F403 - the query functions, by its __all__
from .resources import Backup, BackupArgs, Restore, RestoreArgs
from .restore import RestoreProvider as RestoreProvider
from .results import BackupInfo, GetBackupsResult
from .rotation import RotationProvider as RotationProvider
from .rotation_resource import BackupRotation, BackupRotationArgs
from .validation import FieldError

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
