"""The quickstart through the native provider plugin and its generated Python SDK.

Stack config (all optional):
  serverId     the server to back up (default 12345, `web-server-01` in the fake)
  description  the backup's description; changing it takes a new backup
Settings: `vpsbackup:apiToken` (secret) and `vpsbackup:apiUrl`, or the
environment variables VPS_API_TOKEN and VPS_API_URL.
"""

import pulumi
import pulumi_vpsbackup_native as vps

config = pulumi.Config()
server_id = config.get_int("serverId") or 12345
description = config.get("description") or "Python backup taken by the native plugin"

backup = vps.Backup("native-python", server_id=server_id, description=description)

# After the backup exists, so that the listing includes it.
listing = vps.get_backups_output(server_id=backup.backup_id.apply(lambda _: server_id))

pulumi.export("backupId", backup.backup_id)
pulumi.export("backupStatus", backup.status)
pulumi.export("serverName", backup.server_name)
pulumi.export("serverBackupIds", listing.backups.apply(lambda found: [b.id for b in found]))
