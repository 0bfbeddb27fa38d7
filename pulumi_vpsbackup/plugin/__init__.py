"""The native provider plugin `pulumi-resource-vpsbackup`, built on the dynamic providers' core.

`server` is the gRPC service the Pulumi engine starts; `provider` maps each
engine call onto the same steps `pulumi_vpsbackup.Backup`, `Restore`,
`BackupRotation` and `BackupFleet` run;
`wire` converts property values; `schema.json` describes the package
(`vpsbackup`) for the engine and for SDK generation.

Importing this package starts nothing.
"""

from __future__ import annotations

from .provider import (
    BACKUP,
    FLEET,
    GET_BACKUPS,
    GET_LATEST_BACKUP,
    RESTORE,
    ROTATION,
    NativeProvider,
)
from .server import main, schema_text

__all__ = [
    "BACKUP",
    "FLEET",
    "GET_BACKUPS",
    "GET_LATEST_BACKUP",
    "RESTORE",
    "ROTATION",
    "NativeProvider",
    "main",
    "schema_text",
]
