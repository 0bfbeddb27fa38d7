"""`Backup`: one manual backup. `declaration` says what it is, `resource` is the
class users write, `provider` runs in Pulumi's provider host, and `steps` is how a
backup is made, settled, waited for, undone and deleted (shared with rotations
and fleets). Stacks' state names `pulumi_vpsbackup.provider.backup.BackupProvider`."""

from .generated import BackupArgs
from .provider import BackupProvider
from .resource import Backup

__all__ = ["Backup", "BackupArgs", "BackupProvider"]
