"""A BackupRotation through three releases with the real Pulumi CLI.

`pulumi up` three times with `appVersion` changing and keep=2: after each the
fake's listing of the server is printed (run with `-s` to read it), and must
hold exactly the rotation's last two backups beside what was there before;
`pulumi destroy` then leaves nothing of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from pulumi_vpsbackup.client.marker import parse_marker
from pulumi_vpsbackup.fake import FakeServer
from tests.programs.scenarios import backups
from vpsbackup_dev.cli_project import CliProject

pytestmark = pytest.mark.cli

Make = Callable[..., CliProject]
SERVER = 12345

PROGRAM = """\
import pulumi
import pulumi_vpsbackup as vps

app_version = pulumi.Config().require("appVersion")
rotation = vps.BackupRotation(
    "releases",
    server_id=12345,
    keep=2,
    triggers=[app_version],
    description=f"Before {app_version}",
)
pulumi.export("backupIds", rotation.backup_ids)
pulumi.export("latestBackupId", rotation.latest_backup_id)
"""


def listing(fake: FakeServer) -> str:
    return "\n".join(
        f"  {i:>4}  {b['backup_type']:9}  {b['status']:9}  {b['description']}"
        for i, b in sorted(backups(fake.app).items())
        if b["server_id"] == SERVER
    )


def own(fake: FakeServer, key: str) -> list[int]:
    found = [
        i
        for i, b in backups(fake.app).items()
        if (m := parse_marker(b["description"])) is not None and m.key == key
    ]
    return sorted(found, reverse=True)


def test_three_releases_keep_the_last_two_and_destroy_leaves_none(
    cli_project: Make, fake: FakeServer
) -> None:
    before = backups(fake.app)
    project = cli_project(PROGRAM, name="rotation")
    key = None
    history: list[list[int]] = []
    for version in ("1.0", "1.1", "1.2"):
        project.config("appVersion", version)
        preview = project.preview()
        up = project.up()
        outputs = project.outputs()
        if key is None:
            (first,) = outputs["backupIds"]
            marker = parse_marker(backups(fake.app)[first]["description"])
            assert marker is not None and marker.key
            key = marker.key
        mine = own(fake, key)
        print(f"\n--- after `pulumi up` with appVersion={version}: server {SERVER} on the fake")
        print(listing(fake))
        print(f"    stack outputs: {json.dumps(outputs, sort_keys=True)}")
        plan = [ln.strip() for ln in preview.out.splitlines() if "rotation releases:" in ln]
        print(f"    preview said: {plan}")
        assert outputs["backupIds"] == mine
        assert outputs["latestBackupId"] == mine[0]
        assert len(mine) == min(len(history) + 1, 2)
        if history:
            assert "~ 1 to update" in preview.out, preview.out
            assert "will add 1 backup of server 12345" in preview.out, preview.out
            assert mine[1] == history[-1][0]
        assert set(before) <= set(backups(fake.app))  # nothing it did not make is touched
        assert "created backup" in up.out, up.out
        history.append(mine)
    # The third release deleted the first release's backup, and the preview said so.
    assert f"and delete {history[0][0]} (keeps 2)" in preview.out, preview.out
    project.run("destroy", "--yes", "--skip-preview")
    print(f"\n--- after `pulumi destroy`: server {SERVER} on the fake")
    print(listing(fake))
    assert own(fake, key) == []
    assert set(backups(fake.app)) == set(before)
