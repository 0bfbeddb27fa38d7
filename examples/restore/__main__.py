"""Restore: put a server back to one of its backups.

Stack config:
  restoreFromBackupId  (required) the backup to restore from; it must belong to
                       the server and be completed. Setting another id and
                       running `pulumi up` restores again (a replacement).
  serverId             the server to restore (default 12345, `web-server-01`)

A restore OVERWRITES the server's data. `pulumi destroy` does not undo it: it
only removes the record of the restore from the stack.
"""

import pulumi

import pulumi_vpsbackup as vps

config = pulumi.Config()
backup_id = config.require_int("restoreFromBackupId")
server_id = config.get_int("serverId") or 12345

restore = vps.Restore("restore", server_id=server_id, backup_id=backup_id)

pulumi.export("restoredFromBackupId", restore.backup_id)
pulumi.export("serverName", restore.server_name)
pulumi.export("serverStatus", restore.server_status)
pulumi.export("restoreStatus", restore.restore_status)
pulumi.export("restoredAt", restore.restored_at)
