"""`BackupFleet`: one backup per server of a list, made and waited for together
(`wait`). Stacks' state names `pulumi_vpsbackup.provider.fleet.FleetProvider`."""

from .provider import FleetProvider
from .resource import BackupFleet, BackupFleetArgs

__all__ = ["BackupFleet", "BackupFleetArgs", "FleetProvider"]
