"""The `Backup` class users write in their stacks: its arguments, outputs and
constructor come from `generated.py`; `BackupProvider` does the work in Pulumi's
provider host."""

from __future__ import annotations

from typing import Any

import pulumi

from ..core.account import Account
from ..core.building import (
    alias_keys_for,
    import_as_adoption,
    resource_key_of,
    timeout_from_custom_timeouts,
    wire_safe,
    with_account,
)
from ..core.sdk_compat import undo_sdk_pickler_wrapping
from .declaration import BACKUP_OUTPUTS
from .generated import BackupArgs, BackupBase
from .provider import BackupProvider


class Backup(BackupBase, module="vpsbackup", name="Backup"):
    """A manual backup of a VPS.org server.

    Example Usage::

        import pulumi
        import pulumi_vpsbackup as vps

        before_deploy = vps.Backup(
            "before-deploy",
            server_id=12345,
            description="Before release 2.4",
            triggers=[app_version],
        )
        pulumi.export("backup_id", before_deploy.backup_id)

    `pulumi destroy` deletes the backup. Replacement creates the new backup
    before deleting the old one; set
    ``ResourceOptions(delete_before_replace=True)`` when the server is at its
    10-manual-backup limit.
    """

    def _prepare(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
    ) -> tuple[BackupProvider, dict[str, Any], pulumi.ResourceOptions | None]:
        opts = with_account(props, opts)
        props["description"] = wire_safe(props.get("description"))
        if not (opts and opts.id):  # a `Backup.get` makes no backup, so needs no key
            props["resource_key"] = resource_key_of("Backup", resource_name, opts)
            props["previous_keys"] = alias_keys_for("Backup", resource_name, opts)
        opts = import_as_adoption(resource_name, props, opts)
        timeout_from_custom_timeouts(resource_name, props, opts)
        props.update(dict.fromkeys(name for name in BACKUP_OUTPUTS if name not in props))
        undo_sdk_pickler_wrapping()  # else ~1000 resources hit RecursionError
        return BackupProvider(), props, opts

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],
        server_id: pulumi.Input[int] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        account: Account | None = None,
    ) -> Backup:
        """Reference an existing backup (manual or automatic) without managing it.

        Pulumi reads it on every run and never deletes it. Giving `server_id`
        lets the lookup list only that server's backups; `account` reads it
        from that account instead of the stack's.

        :param str resource_name: The name of the resulting resource.
        :param pulumi.Input[str] id: The backup's id on VPS.org.
        :param pulumi.Input[int] server_id: The server it belongs to (optional).
        :param pulumi.ResourceOptions opts: Options for the resource.
        :param Account account: The VPS.org account to read it from (default: the stack's).
        """
        merged = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        args = BackupArgs(server_id=server_id, account=account)  # type: ignore[arg-type]
        return Backup(resource_name, args, merged)
