// One manual backup of a server, then that server's backups and its latest
// completed one, with the Go SDK that `make sdks` generates from the native
// plugin's schema (build/sdks/go, which go.mod's replace names).
//
// Stack config (all optional):
//
//	serverId     the server to back up (default 12345, `web-server-01` in the fake)
//	description  the backup's description; changing it takes a new backup
//
// Settings: `vpsbackup:apiToken` (secret) and `vpsbackup:apiUrl`, or the
// environment variables VPS_API_TOKEN and VPS_API_URL.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/pulumi-vpsbackup/pulumi-vpsbackup/sdk/go/vpsbackup"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		serverID := cfg.GetInt("serverId")
		if serverID == 0 {
			serverID = 12345
		}
		description := cfg.Get("description")
		if description == "" {
			description = "Go backup taken by Pulumi"
		}

		backup, err := vpsbackup.NewBackup(ctx, "go", &vpsbackup.BackupArgs{
			ServerId:    pulumi.Int(serverID),
			Description: pulumi.String(description),
		})
		if err != nil {
			return err
		}

		// After the backup exists, so that the listing includes it.
		afterBackup := backup.BackupId.ApplyT(func(int) int { return serverID }).(pulumi.IntOutput)
		listing := vpsbackup.GetBackupsOutput(ctx, vpsbackup.GetBackupsOutputArgs{
			ServerId: afterBackup,
		})
		latest := vpsbackup.GetLatestBackupOutput(ctx, vpsbackup.GetLatestBackupOutputArgs{
			ServerId:   afterBackup,
			BackupType: pulumi.String("manual"),
		})

		ctx.Export("backupId", backup.BackupId)
		ctx.Export("backupStatus", backup.Status)
		ctx.Export("serverName", backup.ServerName)
		ctx.Export("serverBackupIds", listing.Backups().ApplyT(func(found []vpsbackup.BackupInfo) []int {
			ids := make([]int, 0, len(found))
			for _, b := range found {
				ids = append(ids, b.Id)
			}
			return ids
		}))
		ctx.Export("latestBackupId", latest.Id())
		return nil
	})
}
