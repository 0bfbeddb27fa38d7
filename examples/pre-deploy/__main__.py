"""Pre-deploy: a fresh backup of the server before every release of the application.

The backup lists the application version in its `triggers`, so a new
`appVersion` replaces it: Pulumi takes a new backup, waits for it to complete,
then deletes the previous one. The release depends on the backup, so it is
rolled out only once the new backup exists.

Stack config:
  appVersion  (required) the application version being deployed
  serverId    the server to back up (default 12345, `web-server-01` in the fake)

The "application" here is a `Release` component that only records the version
and the id of the backup that protects it: it changes nothing anywhere, so the
example can be run safely, yet it shows up in every plan (updated whenever the
version changes) and in the stack state with its dependency on the backup.
In a real stack, put the resources that deploy the application (a container
service, a `pulumi_command` remote command, ...) under it or give them the
same `depends_on`.
"""

from __future__ import annotations

import pulumi

import pulumi_vpsbackup as vps

config = pulumi.Config()
app_version = config.require("appVersion")
server_id = config.get_int("serverId") or 12345


class Release(pulumi.ComponentResource):
    """A stand-in for an application deploy: records what was released and under which backup."""

    def __init__(
        self,
        name: str,
        *,
        version: pulumi.Input[str],
        backup_id: pulumi.Input[int],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {"version": version, "backupId": backup_id}
        super().__init__("example:app:Release", name, inputs, opts)
        self.version = pulumi.Output.from_input(version)
        self.backup_id = pulumi.Output.from_input(backup_id)
        self.register_outputs(inputs)


backup = vps.Backup(
    "pre-deploy",
    server_id=server_id,
    description="Taken by Pulumi before an application release",
    triggers=[app_version],
)

release = Release(
    "app",
    version=app_version,
    backup_id=backup.backup_id,
    # backup_id already orders the release after the backup; depends_on says it
    # outright, and keeps the order if the release stops reading the id.
    opts=pulumi.ResourceOptions(depends_on=[backup]),
)

pulumi.export("appVersion", release.version)
pulumi.export("backupId", backup.backup_id)
pulumi.export("backupStatus", backup.status)
pulumi.export("backupCreatedAt", backup.created_at)
