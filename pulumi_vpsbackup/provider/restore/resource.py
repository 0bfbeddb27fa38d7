"""The `Restore` class users write in their stacks; `RestoreProvider` does the work in
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
    resource_props,
    timeout_from_custom_timeouts,
    with_account,
)
from ..core.sdk_compat import undo_sdk_pickler_wrapping
from .declaration import RESTORE_OUTPUTS
from .provider import RestoreProvider


@dataclass(kw_only=True)
class RestoreArgs(ResourceArgs):
    """Inputs of a `Restore`.

    :param server_id: The server to restore (its data is overwritten).
    :param backup_id: The backup to restore from; it must belong to the
        server. Changing it runs the restore again.
    :param triggers: Any values; when one changes, the restore runs again.
    :param wait_for_completion: Wait until the server is active again (default True).
    :param timeout: How long to wait for a running backup and for the restore,
        as seconds or text such as ``"30m"`` (default ``"60m"``).
    :param account: The `Account` (API URL and token) to use instead of the
        stack's settings; see the README, Several accounts.
    """

    server_id: pulumi.Input[int]
    backup_id: pulumi.Input[int]
    triggers: Triggers | None = None
    wait_for_completion: pulumi.Input[bool] | None = None
    timeout: Duration | None = None
    account: Account | None = None


class Restore(Resource, module="vpsbackup", name="Restore"):
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

    server_id: pulumi.Output[int]
    """The server that was restored."""
    backup_id: pulumi.Output[int]
    """The backup it was restored from."""
    server_name: pulumi.Output[str | None]
    """The server's name (``None`` until it has been read)."""
    server_status: pulumi.Output[str]
    """The server's status when last read, e.g. ``"active"``."""
    restore_status: pulumi.Output[str]
    """``"completed"``; ``"started"`` without waiting; ``"timed_out"`` or
    ``"unconfirmed"`` when its end was not seen; ``"failed"`` once a refresh
    learns so."""
    restored_at: pulumi.Output[str]
    """When the restore was requested, ISO-8601 (for a restore an interrupted
    `pulumi up` had sent and this one adopted: when VPS.org started it)."""
    restore_started_at: pulumi.Output[str | None]
    """When VPS.org started the restore, by VPS.org's clock (its restore
    record), ISO-8601; ``None`` when that was not seen."""
    triggers: pulumi.Output[Any]
    """The `triggers` input: values whose change runs the restore again."""
    wait_for_completion: pulumi.Output[bool]
    """Whether `pulumi up` waits until the server is active again."""
    timeout: pulumi.Output[float]
    """How long to wait, in seconds."""

    def __init__(
        self,
        resource_name: str,
        args: RestoreArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        server_id: pulumi.Input[int] | None = None,
        backup_id: pulumi.Input[int] | None = None,
        triggers: Triggers | None = None,
        wait_for_completion: pulumi.Input[bool] | None = None,
        timeout: Duration | None = None,
        account: Account | None = None,
    ) -> None:
        """Create a `Restore` resource: restore the server when it is created.

        :param str resource_name: The name of the resource, unique in the stack.
        :param RestoreArgs args: The inputs as one object; or give them as
            keywords instead (``server_id`` and ``backup_id`` are keyword-only).
        :param pulumi.ResourceOptions opts: Options for the resource;
            ``custom_timeouts.create`` becomes `timeout`.
        :param pulumi.Input[int] server_id: The server to restore.
        :param pulumi.Input[int] backup_id: The backup to restore it from.
        :param triggers: Values whose change runs the restore again.
        :param pulumi.Input[bool] wait_for_completion: Wait until the server is
            active again (default True).
        :param timeout: How long to wait: seconds or text such as ``"30m"``.
        :raises TypeError: without `server_id` or `backup_id`, or when the
            second positional argument is not a `RestoreArgs`.
        """
        props = resource_props("Restore", args, RestoreArgs, opts, locals())
        opts = with_account(props, opts)
        timeout_from_custom_timeouts(resource_name, props, opts)
        props.update(dict.fromkeys(RESTORE_OUTPUTS))
        undo_sdk_pickler_wrapping()  # else ~1000 resources hit RecursionError
        super().__init__(RestoreProvider(), resource_name, props, opts)

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
