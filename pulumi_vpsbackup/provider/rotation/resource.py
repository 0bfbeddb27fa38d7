"""The `BackupRotation` class users write in their stacks: its arguments, outputs and
constructor come from `generated.py`; `RotationProvider` does the work in Pulumi's
provider host."""

from __future__ import annotations

from typing import Any

import pulumi

from ..core.building import named_props
from ..core.sdk_compat import undo_sdk_pickler_wrapping
from .declaration import ROTATION_OUTPUTS
from .generated import BackupRotationBase
from .provider import RotationProvider


class BackupRotation(BackupRotationBase, module="vpsbackup", name="BackupRotation"):
    """The last ``keep`` backups of a server, a new one per ``triggers`` change.

    Example Usage::

        import pulumi
        import pulumi_vpsbackup as vps

        app_version = pulumi.Config().require("appVersion")
        rotation = vps.BackupRotation(
            "releases", server_id=12345, keep=3, triggers=[app_version],
            description=f"Before {app_version}",
        )
        pulumi.export("latestBackup", rotation.latest_backup_id)

    It deletes only backups it made itself (they carry its marker), and
    `pulumi destroy` deletes all of them.
    """

    def _prepare(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
    ) -> tuple[RotationProvider, dict[str, Any], pulumi.ResourceOptions | None]:
        props = named_props("BackupRotation", resource_name, props, opts, ROTATION_OUTPUTS)
        undo_sdk_pickler_wrapping()  # else ~1000 resources hit RecursionError
        return RotationProvider(), props, opts
