"""`BackupRotation`: the newest `keep` backups of one server, a new one per trigger
change. Stacks' state names `pulumi_vpsbackup.provider.rotation.RotationProvider`."""

from .provider import RotationProvider
from .resource import BackupRotation, BackupRotationArgs

__all__ = ["BackupRotation", "BackupRotationArgs", "RotationProvider"]
