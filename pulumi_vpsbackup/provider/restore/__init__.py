"""`Restore`: a server restored from a backup, again whenever its trigger values
change. `intent` decides whether a create repeats a restore an interrupted run
already sent. Stacks' state names `pulumi_vpsbackup.provider.restore.RestoreProvider`."""

from .generated import RestoreArgs
from .provider import RestoreProvider
from .resource import Restore

__all__ = ["Restore", "RestoreArgs", "RestoreProvider"]
