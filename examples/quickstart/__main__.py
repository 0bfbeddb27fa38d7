"""Quickstart: take one manual backup of a server and list that server's backups.

Stack config (all optional):
  serverId     the server to back up (default 12345, `web-server-01` in the fake)
  description  the backup's description; changing it takes a new backup
               (the old one is deleted after the new one has completed)
Settings: `vpsbackup:apiToken` (secret) and `vpsbackup:apiUrl`, or the
environment variables VPS_API_TOKEN and VPS_API_URL.
"""

import pulumi

import pulumi_vpsbackup as vps

config = pulumi.Config()
server_id = config.get_int("serverId") or 12345
description = config.get("description") or "Quickstart backup taken by Pulumi"

backup = vps.Backup("quickstart", server_id=server_id, description=description)

# Listing after the backup exists: wait for its id so the new backup is included.
listing = vps.get_backups_output(
    server_id=pulumi.Output.all(backup.backup_id, backup.server_id).apply(lambda v: v[1])
)

pulumi.export("backupId", backup.backup_id)
pulumi.export("backupStatus", backup.status)
pulumi.export("serverName", backup.server_name)
pulumi.export("serverBackupIds", listing.apply(lambda found: found.ids))
