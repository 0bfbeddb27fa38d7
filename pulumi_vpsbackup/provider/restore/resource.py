"""The `Restore` class users write in their stacks: its arguments, outputs and
constructor come from `generated.py`; `RestoreProvider` does the work in Pulumi's
provider host."""

from __future__ import annotations

from typing import Any

import pulumi

from ..core.building import (
    timeout_from_custom_timeouts,
    with_account,
)
from ..core.sdk_compat import undo_sdk_pickler_wrapping
from .declaration import RESTORE_OUTPUTS
from .generated import RestoreArgs, RestoreBase
from .provider import RestoreProvider


class Restore(RestoreBase, module="vpsbackup", name="Restore"):
    """Restores a server from one of its backups; runs again whenever
    `backup_id` (or `triggers`) changes.

    Example Usage::

        import pulumi
        import pulumi_vpsbackup as vps

        config = pulumi.Config()
        vps.Restore("web-restore", server_id=12345, backup_id=config.require_int("restoreFrom"))

    Deleting the resource, or `pulumi destroy`, only removes it from the
    stack: the server keeps the restored data.
    """

    def _prepare(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
    ) -> tuple[RestoreProvider, dict[str, Any], pulumi.ResourceOptions | None]:
        opts = with_account(props, opts)
        timeout_from_custom_timeouts(resource_name, props, opts)
        props.update(dict.fromkeys(RESTORE_OUTPUTS))
        undo_sdk_pickler_wrapping()  # else ~1000 resources hit RecursionError
        return RestoreProvider(), props, opts

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> Restore:
        """Reference a restore recorded in a stack by its id, without managing it.

        A restore's id records the server, the backup and when the restore was
        requested (``"12345:499:20261201T120000.000000Z"``, as ``pulumi stack
        export`` shows it). Reading it re-reads the server's status and, from
        the server's restore record, how that restore ended (``completed`` or
        ``failed``; ``unconfirmed`` when the record names another restore).
        Nothing is restored, and removing it never touches the server.

        :param str resource_name: The name of the resulting resource.
        :param pulumi.Input[str] id: The id of the restore.
        :param pulumi.ResourceOptions opts: Options for the resource.
        """
        merged = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        return Restore(
            resource_name,
            RestoreArgs(server_id=None, backup_id=None),  # type: ignore[arg-type]
            merged,
        )
