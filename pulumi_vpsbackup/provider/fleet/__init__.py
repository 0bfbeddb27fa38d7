"""`BackupFleet`: one backup per server of a list, made and waited for together
(`wait`). Stacks' state names `pulumi_vpsbackup.provider.fleet.FleetProvider`."""

from .generated import BackupFleetArgs
from .provider import FleetProvider
from .resource import BackupFleet

__all__ = ["BackupFleet", "BackupFleetArgs", "FleetProvider"]
