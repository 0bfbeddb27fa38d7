"""Whose backup is it? Under the real CLI, each case where a marker key that was
not an identity made the provider delete, adopt or repeat what was not its own.

A backup's marker names its owner (this resource of this stack: the stack's
identity, kept in its state, with the resource's type, parent and name) and
its intent (server, description, triggers). Only a backup proven to be this
resource's and made for these inputs is settled (used, or deleted); any other
backup carrying this resource's key is left alone and named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pulumi_vpsbackup.client.marker import parse_marker
from pulumi_vpsbackup.fake import FakeServer
from tests.cli.conftest import Projects
from tests.programs.scenarios import BACKUP, TOKEN, backups
from vpsbackup_dev.cli_project import CliProject, interrupt

pytestmark = pytest.mark.cli

Make = Callable[..., CliProject]
SERVER = 12345
HEADER = "import pulumi\nimport pulumi_vpsbackup as vps\n"


def held(project: CliProject, type_: str = BACKUP) -> list[int]:
    """The backup ids the stack's state holds for resources of `type_`."""
    exported = json.loads(project.export())
    found: list[int] = []
    for res in exported["deployment"].get("resources", []):
        if res["type"] != type_ or res.get("delete"):
            continue
        outputs = res.get("outputs", {})
        if type_ == BACKUP:
            found.append(int(res["id"]))
        else:
            found.extend(int(i) for i in outputs.get("backup_ids") or [])
    return sorted(found)


def made_since(fake: FakeServer, before: dict[int, dict[str, object]]) -> list[int]:
    return sorted(set(backups(fake.app)) - set(before))


def slow_backups(fake: FakeServer, seconds: float) -> None:
    fake.app.set_behaviour(completion="time", backup_seconds=seconds)
    fake.app.set_time_scale(1)


def interrupted_up(project: CliProject) -> str:
    """`pulumi up` stopped at once (two Ctrl-Cs) while its backup runs, then the
    lock cleared as the CLI advises."""
    proc = project.start("up", "--yes", "--skip-preview")
    out = interrupt(proc, wait_for="in_progress after", times=2)
    assert proc.returncode != 0, out
    project.run("cancel", "--yes", ok=False)
    return out


@pytest.fixture
def other_backend(
    tmp_path: Path, fake: FakeServer, pulumi_cli: str, cli_home: Path
) -> Iterator[Make]:
    """Projects on a second file backend: the same project and stack names as
    `cli_project`'s, another person's or CI's state."""
    root = tmp_path / "other-backend"
    root.mkdir()
    projects = Projects(root, cli_home)

    def make(program: str, *, name: str = "cli-test", token: str = TOKEN) -> CliProject:
        return projects.make(name, program, fake.url, token)

    yield make
    projects.close()


# ---- another backend, another type --------------------------------------------------------


@pytest.mark.parametrize("their_description", ["nightly", "before the release"])
def test_the_same_stack_on_another_backend_never_takes_or_deletes_this_ones_backup(
    cli_project: Make, other_backend: Make, fake: FakeServer, their_description: str
) -> None:
    before = backups(fake.app)
    mine = cli_project(HEADER + f'vps.Backup("b", server_id={SERVER}, description="nightly")\n')
    mine.up()
    (my_backup,) = held(mine)
    theirs = other_backend(
        HEADER + f'vps.Backup("b", server_id={SERVER}, description="{their_description}")\n'
    )
    ran = theirs.up()
    (their_backup,) = held(theirs)
    assert their_backup != my_backup, f"the other stack took this one's backup:\n{ran.out}"
    assert my_backup in backups(fake.app), f"the other stack deleted this one's backup:\n{ran}"
    theirs.run("destroy", "--yes", "--skip-preview")
    assert my_backup in backups(fake.app), "the other stack's destroy deleted this one's backup"
    mine.run("refresh", "--yes", "--skip-preview")
    assert held(mine) == [my_backup]
    mine.run("destroy", "--yes", "--skip-preview")
    assert made_since(fake, before) == []


def test_a_backup_and_a_rotation_of_one_name_keep_their_own_backups(
    cli_project: Make, fake: FakeServer
) -> None:
    before = backups(fake.app)
    project = cli_project(
        HEADER
        + f'vps.Backup("web", server_id={SERVER}, description="backup")\n'
        + f'vps.BackupRotation("web", server_id={SERVER}, keep=2, description="rotation")\n'
    )
    ran = project.up("--parallel", "1")
    (single,) = held(project)
    (member,) = held(project, "pulumi-python:dynamic/vpsbackup:BackupRotation")
    on_api = backups(fake.app)
    assert single != member and {single, member} <= set(on_api), ran.out
    assert sorted(made_since(fake, before)) == sorted([single, member])
    project.run("refresh", "--yes", "--skip-preview")
    project.run("preview", "--expect-no-changes")


# ---- interrupted runs ---------------------------------------------------------------------


def test_a_new_release_after_an_interrupted_one_gets_a_fresh_backup(
    cli_project: Make, fake: FakeServer
) -> None:
    slow_backups(fake, 6)
    before = backups(fake.app)
    project = cli_project(
        HEADER
        + "release = pulumi.Config().require('release')\n"
        + f'vps.Backup("b", server_id={SERVER}, description="pre-deploy", triggers=[release])\n'
    )
    project.config("release", "v1")
    interrupted_up(project)
    (left,) = made_since(fake, before)
    project.config("release", "v2")
    ran = project.up()
    (fresh,) = held(project)
    assert fresh != left, f"release v2 was given v1's backup:\n{ran.out}"
    assert left in backups(fake.app), "made for other triggers: not this create's to delete"
    assert str(left) in ran.out and "left alone" in ran.out, ran.out
    gone = project.run("destroy", "--yes", "--skip-preview")
    assert fresh not in backups(fake.app)
    assert left in backups(fake.app) and str(left) in gone.out, gone.out
    assert "carry this stack's marker" in gone.out, gone.out


def test_the_same_release_after_an_interrupted_one_uses_its_backup(
    cli_project: Make, fake: FakeServer
) -> None:
    slow_backups(fake, 6)
    before = backups(fake.app)
    project = cli_project(
        HEADER + f'vps.Backup("b", server_id={SERVER}, description="d", triggers=["v1"])\n'
    )
    interrupted_up(project)
    (left,) = made_since(fake, before)
    ran = project.up()
    assert held(project) == [left], ran.out
    assert made_since(fake, before) == [left]


def test_a_rename_with_an_alias_after_an_interrupted_run_settles_the_old_names_backup(
    cli_project: Make, fake: FakeServer
) -> None:
    slow_backups(fake, 6)
    before = backups(fake.app)
    project = cli_project(HEADER + f'vps.Backup("old", server_id={SERVER}, description="d")\n')
    interrupted_up(project)
    (left,) = made_since(fake, before)
    project.write(
        HEADER
        + f'vps.Backup("new", server_id={SERVER}, description="d",\n'
        + '           opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old")]))\n'
    )
    ran = project.up()
    assert held(project) == [left], f"the old name's backup must be settled:\n{ran.out}"
    assert made_since(fake, before) == [left]


def test_destroy_after_an_interrupted_first_create_names_the_backup_it_cannot_prove(
    cli_project: Make, fake: FakeServer
) -> None:
    slow_backups(fake, 6)
    before = backups(fake.app)
    project = cli_project(HEADER + f'vps.Backup("b", server_id={SERVER}, description="d")\n')
    interrupted_up(project)
    (left,) = made_since(fake, before)
    gone = project.run("destroy", "--yes", "--skip-preview")
    # Nothing in state holds it; a retained backup would look the same: named, not deleted.
    assert left in backups(fake.app)
    assert str(left) in gone.out and "carry this stack's marker" in gone.out, gone.out


# ---- a late POST ----------------------------------------------------------------------------


def test_destroy_settles_the_duplicate_a_late_post_left_for_the_same_inputs(
    cli_project: Make, fake: FakeServer
) -> None:
    before = backups(fake.app)
    project = cli_project(HEADER + f'vps.Backup("b", server_id={SERVER}, description="d")\n')
    project.up()
    (mine,) = held(project)
    sent = str(backups(fake.app)[mine]["description"])
    assert parse_marker(sent) is not None, sent
    # The POST of an attempt whose answer was lost lands after the create had
    # settled: the same marker but for the attempt's own token.
    late_description = re.sub(r"[0-9a-f]{8}\]$", "0badcafe]", sent)
    assert late_description != sent
    late = int(fake.app.model.create_backup(SERVER, late_description)["id"])
    stranger = int(fake.app.model.create_backup(SERVER, "d")["id"])
    project.run("destroy", "--yes", "--skip-preview")
    on_api = backups(fake.app)
    assert mine not in on_api and late not in on_api
    assert stranger in on_api, "a backup without this resource's marker was deleted"
    assert made_since(fake, before) == [stranger]


def test_a_create_answered_200_with_a_gateways_page_keeps_the_one_backup_it_made(
    cli_project: Make, fake: FakeServer
) -> None:
    before = backups(fake.app)
    fake.app.add_fault(
        method="POST",
        path="/api/v1/backups/",
        status=200,
        phase="after",  # the backup is made; its answer is an HTML page
        raw_body="<html><body>502 Bad Gateway</body></html>",
        count=1,
    )
    project = cli_project(HEADER + f'vps.Backup("b", server_id={SERVER}, description="d")\n')
    ran = project.up()
    made = made_since(fake, before)
    assert len(made) == 1 and held(project) == made, ran.out
