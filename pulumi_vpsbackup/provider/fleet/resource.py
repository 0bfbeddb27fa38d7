"""The `BackupFleet` resource class users write in their stacks.

The CRUD work is done by `FleetProvider` (`provider/fleet.py`) inside
Pulumi's provider host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from ...client.echo import echo
from ..core.building import Duration, ResourceArgs, Triggers, named_props
from ..core.sdk_compat import undo_sdk_pickler_wrapping
from .declaration import FLEET_OUTPUTS
from .provider import FleetProvider


@dataclass(kw_only=True)
class BackupFleetArgs(ResourceArgs):
    """Inputs of a `BackupFleet`.

    :param server_ids: The servers to back up, one backup each. Adding a
        server backs up that server only; removing one deletes its backup only.
    :param description: Text stored with each backup (at most 214
        characters). Changing it replaces the fleet: new backups of every
        server first, then the old ones are deleted.
    :param triggers: Any values (a list or a map); when one changes, every
        server is backed up again (a replacement, as for `description`).
    :param timeout: How long to wait for the whole fleet, as seconds or text
        such as ``"45m"`` (default ``"60m"``).
    """

    server_ids: pulumi.Input[list[pulumi.Input[int]]]
    description: pulumi.Input[str] | None = None
    triggers: Triggers | None = None
    timeout: Duration | None = None


class BackupFleet(Resource, module="vpsbackup", name="BackupFleet"):
    """One backup of each of many servers, made and waited for in one step.

    Example Usage::

        import pulumi
        import pulumi_vpsbackup as vps

        nightly = vps.BackupFleet(
            "nightly", server_ids=[12345, 12346], description="Before release 2.4",
            triggers=[app_version],
        )
        pulumi.export("backups", nightly.backup_ids)

    All backups are started at once and waited for together, so the fleet
    takes about as long as its slowest backup. A backup that fails is deleted
    and the fleet's `up` fails; `pulumi destroy` deletes every backup.
    """

    backup_ids: pulumi.Output[dict[str, int]]
    """Each server's backup, by server id (as a string: Pulumi map keys are strings)."""
    statuses: pulumi.Output[dict[str, str]]
    """Each backup's status, by server id."""
    server_names: pulumi.Output[dict[str, str]]
    """Each server's name, by server id."""
    server_ids: pulumi.Output[list[int]]
    """The servers, sorted."""
    description: pulumi.Output[str | None]
    triggers: pulumi.Output[Any]
    timeout: pulumi.Output[float]

    def __init__(
        self,
        resource_name: str,
        args: BackupFleetArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        server_ids: pulumi.Input[list[pulumi.Input[int]]] | None = None,
        description: pulumi.Input[str] | None = None,
        triggers: Triggers | None = None,
        timeout: Duration | None = None,
    ) -> None:
        if isinstance(args, (list, tuple)):
            raise TypeError(
                f"BackupFleet: pass server_ids={echo(list(args))} as a keyword "
                "(the second positional argument is BackupFleetArgs)"
            )
        props = named_props(
            "BackupFleet", resource_name, args, BackupFleetArgs, opts, locals(), FLEET_OUTPUTS
        )
        undo_sdk_pickler_wrapping()  # else ~1000 resources hit RecursionError
        super().__init__(FleetProvider(), resource_name, props, opts)
