"""The `BackupRotation` resource class users write in their stacks.

The CRUD work is done by `RotationProvider` (`provider/rotation.py`) inside
Pulumi's provider host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from ..core.building import Duration, ResourceArgs, Triggers, named_props
from ..core.sdk_compat import undo_sdk_pickler_wrapping
from .declaration import ROTATION_OUTPUTS
from .provider import RotationProvider


@dataclass(kw_only=True)
class BackupRotationArgs(ResourceArgs):
    """Inputs of a `BackupRotation`.

    :param server_id: The server to back up. Changing it replaces the rotation
        (its backups of the old server are deleted after the new one exists).
    :param keep: How many of its own backups to keep, 1 to 10. Lowering it
        deletes the oldest extras; raising it deletes nothing.
    :param triggers: Any values (a list or a map); each change adds a backup
        and then deletes the oldest of the rotation's own beyond ``keep``.
    :param description: Text stored with each new backup (at most 214
        characters); a change applies to future backups only.
    :param timeout: How long to wait for a new backup (default ``"60m"``).
    """

    server_id: pulumi.Input[int]
    keep: pulumi.Input[int]
    triggers: Triggers | None = None
    description: pulumi.Input[str] | None = None
    timeout: Duration | None = None


class BackupRotation(Resource, module="vpsbackup", name="BackupRotation"):
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

    backup_ids: pulumi.Output[list[int]]
    latest_backup_id: pulumi.Output[int | None]
    server_id: pulumi.Output[int]
    server_name: pulumi.Output[str | None]
    keep: pulumi.Output[int]
    triggers: pulumi.Output[Any]
    description: pulumi.Output[str | None]
    timeout: pulumi.Output[float]

    def __init__(
        self,
        resource_name: str,
        args: BackupRotationArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        server_id: pulumi.Input[int] | None = None,
        keep: pulumi.Input[int] | None = None,
        triggers: Triggers | None = None,
        description: pulumi.Input[str] | None = None,
        timeout: Duration | None = None,
    ) -> None:
        props = named_props(
            "BackupRotation",
            resource_name,
            args,
            BackupRotationArgs,
            opts,
            locals(),
            ROTATION_OUTPUTS,
        )
        undo_sdk_pickler_wrapping()  # else ~1000 resources hit RecursionError
        super().__init__(RotationProvider(), resource_name, props, opts)
