// One manual backup of a server, then that server's backups and its latest
// completed one; on a second server a BackupFleet and a BackupRotation, and a
// wait for the fleet's backups. With the Go SDK that `make sdks` generates from
// the native plugin's schema (build/sdks/go, which go.mod's replace names).
//
// Stack config (all optional):
//
//	serverId       the server to back up (default 12345, `web-server-01` in the fake)
//	otherServerId  the fleet's and the rotation's server (default 12346)
//	description    the backup's description; changing it takes a new backup,
//	               and adds one to the rotation (it keeps the last 2)
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

		otherID := cfg.GetInt("otherServerId")
		if otherID == 0 {
			otherID = 12346
		}
		fleet, err := vpsbackup.NewBackupFleet(ctx, "go-fleet", &vpsbackup.BackupFleetArgs{
			ServerIds:   pulumi.IntArray{pulumi.Int(otherID)},
			Description: pulumi.String("Go fleet backup"),
		})
		if err != nil {
			return err
		}
		rotation, err := vpsbackup.NewBackupRotation(ctx, "go-rotation", &vpsbackup.BackupRotationArgs{
			ServerId: pulumi.Int(otherID),
			Keep:     pulumi.Int(2),
			Triggers: pulumi.Array{pulumi.String(description)},
		})
		if err != nil {
			return err
		}
		fleetIDs := fleet.BackupIds.ApplyT(func(byServer map[string]int) []int {
			ids := make([]int, 0, len(byServer))
			for _, id := range byServer {
				ids = append(ids, id)
			}
			return ids
		}).(pulumi.IntArrayOutput)
		waited := vpsbackup.WaitForBackupsOutput(ctx, vpsbackup.WaitForBackupsOutputArgs{
			BackupIds: fleetIDs,
		})

		ctx.Export("fleetBackupIds", fleet.BackupIds)
		ctx.Export("rotationBackupIds", rotation.BackupIds)
		ctx.Export("waitedStatuses", waited.Backups().ApplyT(func(found []vpsbackup.BackupInfo) []string {
			statuses := make([]string, 0, len(found))
			for _, b := range found {
				statuses = append(statuses, b.Status)
			}
			return statuses
		}))
		return nil
	})
}
