"""The fault campaigns' program: a few Backups of the demo servers, optionally a Restore.

Config (namespace ``campaign``): ``backups`` (how many, default 3), ``generation``
(part of every description: changing it replaces every backup, and the Restore
with them), ``restore`` (true: restore server 12346 from the second backup),
``timeout`` (how long each backup is waited for, default ``20s``), ``rotation``
(true: a BackupRotation of server 12346 with keep=2 whose triggers are
``generation`` and ``release``, so it adds a backup whenever either changes).
"""

import pulumi

import pulumi_vpsbackup as vps

config = pulumi.Config("campaign")
count = config.get_int("backups") or 3
generation = config.get("generation") or "1"
timeout = config.get("timeout") or "20s"
servers = (12345, 12346)

backups = [
    vps.Backup(
        f"backup-{i}",
        server_id=servers[i % 2],
        description=f"campaign g{generation} #{i}",
        timeout=timeout,
    )
    for i in range(count)
]
if config.get_bool("restore") and count > 1:
    vps.Restore("restore", server_id=servers[1], backup_id=backups[1].backup_id, timeout="20s")

if config.get_bool("rotation"):
    rotation = vps.BackupRotation(
        "rotation",
        server_id=servers[1],
        keep=2,
        triggers=[generation, config.get("release") or "1"],
        description="campaign rotation",
        timeout=timeout,
    )
    pulumi.export("rotationIds", rotation.backup_ids)
pulumi.export("backupIds", [b.backup_id for b in backups])
