"""The `Backup` class users write in their stacks; `BackupProvider` does the work in
Pulumi's provider host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from ..core.account import Account
from ..core.building import (
    Duration,
    ResourceArgs,
    Triggers,
    alias_keys_for,
    import_as_adoption,
    resource_key_of,
    resource_props,
    timeout_from_custom_timeouts,
    wire_safe,
    with_account,
)
from ..core.sdk_compat import undo_sdk_pickler_wrapping
from .declaration import BACKUP_OUTPUTS
from .provider import BackupProvider


@dataclass(kw_only=True)
class BackupArgs(ResourceArgs):
    """Inputs of a `Backup`.

    :param server_id: The server to back up. Changing it replaces the backup.
    :param description: Free text stored with the backup (at most 255
        characters). Changing it replaces the backup.
    :param triggers: Any values (a list or a map); when one changes, the backup
        is taken again, e.g. ``[app_version]`` for a fresh backup per deploy.
    :param wait_for_completion: Wait until the backup has completed (default
        True); with False, `pulumi up` moves on while the backup is running.
    :param timeout: How long to wait, as seconds or text such as ``"45m"`` or
        ``"1h30m"`` (default ``"60m"``, at most 24h). Pulumi's
        ``custom_timeouts`` never reach dynamic providers, so set it here.
    :param existing_backup_id: Bring an existing manual backup under management
        instead of creating one (``import_`` does not work for dynamic
        resources). It is deleted on destroy like any managed backup.
    :param account: The `Account` (API URL and token) to use instead of the
        stack's settings; see the README, Several accounts.
    """

    server_id: pulumi.Input[int]
    description: pulumi.Input[str] | None = None
    triggers: Triggers | None = None
    wait_for_completion: pulumi.Input[bool] | None = None
    timeout: Duration | None = None
    existing_backup_id: pulumi.Input[int] | None = None
    account: Account | None = None


class Backup(Resource, module="vpsbackup", name="Backup"):
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

    backup_id: pulumi.Output[int]
    """The backup's id on VPS.org."""
    server_id: pulumi.Output[int]
    """The server the backup belongs to."""
    server_name: pulumi.Output[str]
    """The name of that server."""
    backup_type: pulumi.Output[str]
    """``"manual"`` (``"automatic"`` only for one referenced with `Backup.get`)."""
    status: pulumi.Output[str]
    """``"in_progress"``, ``"completed"``, ``"failed"``, or a new status the API reports."""
    size_mb: pulumi.Output[int | None]
    """The backup's size in MB, once known."""
    created_at: pulumi.Output[str]
    """When the backup was started, ISO-8601."""
    expires_at: pulumi.Output[str | None]
    """When VPS.org deletes the backup, ISO-8601; ``None`` for manual backups."""
    description: pulumi.Output[str | None]
    """The description VPS.org has for the backup."""
    triggers: pulumi.Output[Any]
    """The `triggers` input: values whose change takes a new backup."""
    wait_for_completion: pulumi.Output[bool]
    """Whether `pulumi up` waits until the backup has completed."""
    timeout: pulumi.Output[float]
    """How long to wait, in seconds."""
    existing_backup_id: pulumi.Output[int | None]
    """The adopted backup's id, when the resource adopted one."""
    adopted: pulumi.Output[bool | None]
    """``True`` for a backup brought in by `existing_backup_id` (or ``import_``)."""

    def __init__(
        self,
        resource_name: str,
        args: BackupArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        server_id: pulumi.Input[int] | None = None,
        description: pulumi.Input[str] | None = None,
        triggers: Triggers | None = None,
        wait_for_completion: pulumi.Input[bool] | None = None,
        timeout: Duration | None = None,
        existing_backup_id: pulumi.Input[int] | None = None,
        account: Account | None = None,
    ) -> None:
        """Create a `Backup` resource.

        :param str resource_name: The name of the resource, unique in the stack.
        :param BackupArgs args: The inputs as one object; or give them as
            keywords instead (``server_id`` is keyword-only:
            ``Backup("b", server_id=12345)``).
        :param pulumi.ResourceOptions opts: Options for the resource, e.g.
            ``delete_before_replace``, ``retain_on_delete``,
            ``custom_timeouts`` (``create`` becomes `timeout`) or ``import_``
            (carried out as `existing_backup_id`).
        :param pulumi.Input[int] server_id: The server to back up.
        :param pulumi.Input[str] description: Free text stored with the backup.
        :param triggers: Values whose change takes a new backup.
        :param pulumi.Input[bool] wait_for_completion: Wait until the backup has
            completed (default True).
        :param timeout: How long to wait: seconds or text such as ``"45m"``.
        :param pulumi.Input[int] existing_backup_id: Adopt this manual backup.
        :raises TypeError: without `server_id`, or when the second positional
            argument is not a `BackupArgs`.
        """
        props = resource_props("Backup", args, BackupArgs, opts, locals())
        opts = with_account(props, opts)
        props["description"] = wire_safe(props.get("description"))
        if not (opts and opts.id):  # a `Backup.get` makes no backup, so needs no key
            props["resource_key"] = resource_key_of("Backup", resource_name, opts)
            props["previous_keys"] = alias_keys_for("Backup", resource_name, opts)
        opts = import_as_adoption(resource_name, props, opts)
        timeout_from_custom_timeouts(resource_name, props, opts)
        props.update(dict.fromkeys(name for name in BACKUP_OUTPUTS if name not in props))
        undo_sdk_pickler_wrapping()  # else ~1000 resources hit RecursionError
        super().__init__(BackupProvider(), resource_name, props, opts)

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
