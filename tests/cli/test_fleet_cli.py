"""A BackupFleet with the real Pulumi CLI: up, a clean preview, refresh, a server added, destroy.

After each step the fleet's backups on the fake are compared with the stack's
outputs (run with `-s` to read the listing); `pulumi destroy` leaves nothing
of the fleet's own and nothing else touched.
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

PROGRAM = """\
import pulumi
import pulumi_vpsbackup as vps

servers = [int(s) for s in pulumi.Config().require("servers").split(",")]
fleet = vps.BackupFleet("nightly", server_ids=servers, description="nightly")
pulumi.export("backupIds", fleet.backup_ids)
pulumi.export("statuses", fleet.statuses)
"""


def marked(fake: FakeServer) -> dict[int, dict]:
    """The fake's backups that carry some provider marker with a key."""
    return {
        i: b
        for i, b in backups(fake.app).items()
        if (m := parse_marker(b["description"])) is not None and m.key
    }


def test_fleet_up_preview_refresh_add_and_destroy(cli_project: Make, fake: FakeServer) -> None:
    before = backups(fake.app)
    project = cli_project(PROGRAM, name="fleet")
    project.config("servers", "12345")
    preview = project.preview()
    assert "will back up 1 server(s) at once" in preview.out, preview.out
    up = project.up()
    assert "started 1 backup(s)" in up.out, up.out
    outputs = project.outputs()
    (web,) = marked(fake)
    assert outputs["backupIds"] == {"12345": web}
    assert outputs["statuses"] == {"12345": "completed"}

    project.preview("--expect-no-changes")
    refresh = project.run("refresh", "--yes", "--skip-preview")
    assert "3 unchanged" in refresh.out, refresh.out
    project.preview("--expect-no-changes")

    project.config("servers", "12346,12345")
    preview = project.preview()
    assert "~ 1 to update" in preview.out, preview.out
    assert "fleet nightly: will back up server 12346" in preview.out, preview.out
    project.up()
    outputs = project.outputs()
    print(f"\n    stack outputs: {json.dumps(outputs, sort_keys=True)}")
    mine = marked(fake)
    assert set(mine) == {int(i) for i in outputs["backupIds"].values()}
    assert outputs["backupIds"]["12345"] == web  # the first server's backup is kept
    assert {b["server_id"] for b in mine.values()} == {12345, 12346}
    project.preview("--expect-no-changes")

    project.run("destroy", "--yes", "--skip-preview")
    assert marked(fake) == {}
    assert set(backups(fake.app)) == set(before)
