"""`BackupRotation`: the newest `keep` backups of one server, a new one per trigger
change. Stacks' state names `pulumi_vpsbackup.provider.rotation.RotationProvider`."""

from .generated import BackupRotationArgs
from .provider import RotationProvider
from .resource import BackupRotation

__all__ = ["BackupRotation", "BackupRotationArgs", "RotationProvider"]
