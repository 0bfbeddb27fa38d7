"""The `BackupFleet` class users write in their stacks: its arguments, outputs and
constructor come from `generated.py`; `FleetProvider` does the work in Pulumi's
provider host."""

from __future__ import annotations

from typing import Any

import pulumi

from ..core.building import named_props
from ..core.sdk_compat import undo_sdk_pickler_wrapping
from .declaration import FLEET_OUTPUTS
from .generated import BackupFleetBase
from .provider import FleetProvider


class BackupFleet(BackupFleetBase, module="vpsbackup", name="BackupFleet"):
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

    def _prepare(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
    ) -> tuple[FleetProvider, dict[str, Any], pulumi.ResourceOptions | None]:
        props = named_props("BackupFleet", resource_name, props, opts, FLEET_OUTPUTS)
        undo_sdk_pickler_wrapping()  # else ~1000 resources hit RecursionError
        return FleetProvider(), props, opts
