"""Pulumi resources and queries for VPS.org backups (dynamic providers)."""

from __future__ import annotations

from .account import Account
from .backup import BackupProvider
from .fleet import FleetProvider
from .fleet_resource import BackupFleet, BackupFleetArgs
from .queries import (
    BackupInfo,
    GetBackupsResult,
    get_backups,
    get_backups_output,
    get_latest_backup,
    get_latest_backup_output,
    wait_for_backups,
    wait_for_backups_output,
)
from .resources import Backup, BackupArgs, Restore, RestoreArgs
from .restore import RestoreProvider
from .rotation import RotationProvider
from .rotation_resource import BackupRotation, BackupRotationArgs

__all__ = [
    "Account",
    "Backup",
    "BackupArgs",
    "BackupFleet",
    "BackupFleetArgs",
    "BackupInfo",
    "BackupProvider",
    "BackupRotation",
    "BackupRotationArgs",
    "FleetProvider",
    "GetBackupsResult",
    "Restore",
    "RestoreArgs",
    "RestoreProvider",
    "RotationProvider",
    "get_backups",
    "get_backups_output",
    "get_latest_backup",
    "get_latest_backup_output",
    "wait_for_backups",
    "wait_for_backups_output",
]
