"""The load program: ``load:count`` Backups (default 64) spread over ``load:servers``.

The API allows 10 manual backups per server, so the servers (a comma-separated
list of ids) must be enough for the count.
"""

import pulumi

import pulumi_vpsbackup as vps

config = pulumi.Config("load")
count = config.get_int("count") or 64
servers = [int(s) for s in (config.get("servers") or "12345,12346").split(",")]

backups = [
    vps.Backup(
        f"load-{i}",
        server_id=servers[i % len(servers)],
        description=f"load #{i}",
        timeout="60s",
    )
    for i in range(count)
]
pulumi.export("count", len(backups))
