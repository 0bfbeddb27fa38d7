// One manual backup of a server, then that server's backups, with the SDK that
// `make sdks` generates from the native plugin's schema.
//
// Stack config (all optional):
//   serverId     the server to back up (default 12345, `web-server-01` in the fake)
//   description  the backup's description; changing it takes a new backup
// Settings: `vpsbackup:apiToken` (secret) and `vpsbackup:apiUrl`, or the
// environment variables VPS_API_TOKEN and VPS_API_URL.
import * as pulumi from "@pulumi/pulumi";
import * as vps from "@pulumi-vpsbackup/native";

const config = new pulumi.Config();
const serverId = config.getNumber("serverId") ?? 12345;
const description = config.get("description") ?? "TypeScript backup taken by Pulumi";

const backup = new vps.Backup("typescript", { serverId, description });

// After the backup exists, so that the listing includes it.
const listing = vps.getBackupsOutput({ serverId: backup.backupId.apply(() => serverId) });

export const backupId = backup.backupId;
export const backupStatus = backup.status;
export const serverName = backup.serverName;
export const serverBackupIds = listing.backups.apply((found) => found.map((b) => b.id));
